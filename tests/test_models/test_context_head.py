"""decode_head.context_cfg: a context module computed once per image before
the steps, every step pointwise. Without it the head is the paper's; with it
per-position exit, the input-projection cache, CUDA graphs (the CPU
stand-in), the time budget, clip training and video streaming keep their
exactness, and the MAC counters count it once per image."""
import mmcv
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from torch.testing import assert_close

from mmseg.apis import init_model
from mmseg.registry import MODELS
from mmseg_convlstm.apis import RecurrentVideoInferencer
from mmseg_convlstm.benchmarks.video_macs import recurrent_step_macs
from mmseg_convlstm.models.acceleration.cuda_graph_steps import CUDAGraphSteps
from mmseg_convlstm.models.exits.position_exit import (
    PositionExitRule, run_until_positions_settle)
from mmseg_convlstm.utils.complexity import (backbone_macs, count_macs,
                                             input_projection_cache,
                                             position_macs, recurrent_macs)
from tests.checkpoints import save_random_checkpoint
from tests.conftest import CONFIGS
from tests.step_clock import StepCostClock
from tests.test_apis.test_recurrent_video_inferencer import sequence_frames
from tests.test_models.test_clip_recurrent_encoder_decoder import (
    build_model as build_clip_model, clip_batch)
from tests.test_models.recorded_graphs import RecordingGraphBackend
from tests.tiny_head import tiny_demo_model_cfg
from tests.video_helpers import tiny_video_config

CONTEXT = dict(
    type='ASPPContext', channels=8, dilations=(1, 2), norm_cfg=dict(type='BN'))
INPUTS = torch.rand(2, 3, 65, 97, generator=torch.Generator().manual_seed(0))


def build_model(context_cfg=CONTEXT, **head):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(tiny_demo_model_cfg(context_cfg=context_cfg, **head))
    model.init_weights()
    model.eval()
    return model


def test_without_context_cfg_the_head_is_the_papers():
    head = build_model(context_cfg=None).decode_head
    assert head.context is None
    assert head.cells[0].in_channels == 64
    assert not any('context' in key for key in head.state_dict())
    for name in ('convlstm_voc.py', 'convlstm_cityscapes.py'):
        model_cfg = Config.fromfile(f'{CONFIGS}/{name}').model
        assert model_cfg.decode_head.get('context_cfg') is None


def test_the_context_runs_once_per_image_before_the_steps():
    model = build_model()
    head = model.decode_head
    assert head.cells[0].in_channels == 64 + 8
    calls = []
    head.context.register_forward_hook(lambda *_: calls.append('context'))
    head.cells[0].input_conv.register_forward_hook(
        lambda *_: calls.append('projection'))
    model.test_cfg = ConfigDict(mode='whole', num_steps=4)
    with torch.no_grad():
        model.predict(INPUTS)
    assert calls == ['context', 'projection']  # the projection is cached
    with torch.no_grad():
        features = model.head_features(INPUTS)
    assert features.shape[1] == 72
    assert torch.equal(features[:, :64],
                       head._transform_inputs(model.extract_feat(INPUTS)))


@pytest.mark.parametrize('init_canvas', [False, True])
def test_per_position_exit_equals_the_dense_run_with_context(init_canvas):
    model = build_model(init_canvas=init_canvas)
    head = model.decode_head
    with torch.no_grad():
        features = model.head_features(INPUTS)
        dense, _ = head.run_steps(features, 6)
        # Half the positions are that confident by step 3.
        confidence = float(dense[2].softmax(1).amax(1).median())
        canvas, exit_steps = run_until_positions_settle(
            head, features, 6, PositionExitRule(1, None, confidence))
    assert len(exit_steps.unique()) > 1
    expected = torch.stack(dense).gather(
        0, (exit_steps - 1)[None, :, None].expand(1, -1, 21, -1, -1))[0]
    assert_close(canvas, expected, rtol=1e-5, atol=1e-6)


def test_the_input_projection_cache_changes_nothing_with_context():
    model = build_model()
    with torch.no_grad():
        features = model.head_features(INPUTS)
        with input_projection_cache(model, True):
            cached, _ = model.decode_head.run_steps(features, 3)
        with input_projection_cache(model, False):
            uncached, _ = model.decode_head.run_steps(features, 3)
    for with_cache, without in zip(cached, uncached):
        assert_close(with_cache, without, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('init_canvas', [False, True])
def test_replayed_graphs_equal_eager_steps_with_context(
        monkeypatch, init_canvas):
    monkeypatch.setattr(CUDAGraphSteps, 'backend', RecordingGraphBackend())
    model = build_model(init_canvas=init_canvas)
    with torch.no_grad():
        eager, _ = model.decode_head.run_steps(model.head_features(INPUTS), 3)
        graph_steps = CUDAGraphSteps(model, capture_after=1)
        for _ in range(2):  # captured, then replayed
            steps = graph_steps.steps(INPUTS)
            for reference in eager:
                assert_close(steps.step().canvas, reference)


def test_the_time_budget_counts_the_context_as_fixed_cost():
    """Backbone 10 ms, context 30 ms, steps 5 ms, budget 60 ms: four steps
    fit. Timed as part of the first step, the context would make every step
    look like 35 ms and stop the steps after one."""
    model = build_model()
    clock = StepCostClock(model, backbone_ms=10.0, step_ms=5.0)
    handle = model.decode_head.context.register_forward_hook(
        lambda *_: clock.advance(30.0))
    model.clock = clock
    model.test_cfg = ConfigDict(
        mode='whole', num_steps=10, time_budget_ms=60.0)
    with torch.no_grad():
        model.predict(INPUTS[:1])  # warms the shape up, untimed
        steps = model.predict(INPUTS[:1])[0].num_steps_used
    handle.remove()
    clock.remove()
    assert steps == 4


def test_macs_count_the_context_once_per_image():
    model = build_model()
    plain = build_model(context_cfg=None)
    shape = (65, 97)
    with torch.no_grad():
        backbone_features = model.decode_head._transform_inputs(
            model.extract_feat(INPUTS[:1]))
    context = count_macs(model.decode_head.context, (backbone_features, ))
    assert context > 0
    assert backbone_macs(model, shape) == backbone_macs(plain, shape) + context
    macs = recurrent_macs(model, shape, 3)
    assert macs.backbone == backbone_macs(model, shape)
    # Each step reads the context only through the bottom cell's projection.
    assert macs.head[2] - macs.head[1] == macs.head[1] - macs.head[0]


def test_clip_training_learns_the_context_through_the_carried_state(tmp_path):
    model = build_clip_model(
        tmp_path, head_cfg=dict(context_cfg=CONTEXT), loss_frames='last')
    model.train()
    inputs, samples = clip_batch()
    model.loss(inputs, samples)['decode.loss_ce'].backward()
    assert all(parameter.grad.abs().sum() > 0
               for parameter in model.decode_head.context.parameters())


@pytest.mark.parametrize('init_canvas', [False, True])
def test_video_streaming_equals_the_unrolled_run_with_context(
        tmp_path, video_root, init_canvas):
    cfg = Config.fromfile(
        tiny_video_config(str(tmp_path / 'tiny.py'), video_root))
    cfg.model.decode_head.update(context_cfg=CONTEXT, init_canvas=init_canvas)
    cfg.dump(str(tmp_path / 'context.py'))
    model = init_model(
        str(tmp_path / 'context.py'),
        save_random_checkpoint(
            str(tmp_path / 'context.py'), str(tmp_path / 'context.pth')),
        'cpu')
    frames = sequence_frames(video_root)
    inferencer = RecurrentVideoInferencer(model, steps_per_frame=2)
    state = None
    for path in frames:
        streamed = inferencer(mmcv.imread(path)).canvas
        with torch.no_grad():
            inputs = inferencer.preprocess(path)[0]
            canvases, state = model.decode_head.run_steps(
                model.head_features(inputs), 2, state)
        assert_close(streamed, canvases[-1][0])


def test_the_initial_canvas_is_the_classifier_of_what_the_steps_read():
    model = build_model(init_canvas=True)
    head = model.decode_head
    with torch.no_grad():
        features = model.head_features(INPUTS)
        first, _ = head.run_steps(features, 1)
        top_h = head.step(features, None, head.initial_state()).canvas
    initial = head.canvas_classifier(features)
    assert initial.abs().sum() > 0
    assert_close(first[0], initial + top_h)
    assert build_model().decode_head.canvas_classifier is None


@pytest.mark.parametrize('cached', [True, False])
def test_position_macs_count_the_initial_canvas_as_the_counter_does(cached):
    model = build_model(init_canvas=True)
    with input_projection_cache(model, cached):
        counted = recurrent_macs(model, (65, 97), 3)
        per_position = position_macs(model.decode_head)
    with torch.no_grad():
        shape = model.head_features(INPUTS[:1]).shape[2:]
    for steps in (1, 2, 3):
        exit_steps = torch.full(tuple(shape), steps)
        assert per_position.head(exit_steps) == counted.head[steps - 1]


@pytest.mark.parametrize('canvas_decay', [0.0, 0.5])
def test_a_new_frame_blends_the_carried_canvas_with_its_initial_canvas(
        canvas_decay):
    model = build_model(init_canvas=True)
    head = model.decode_head
    with torch.no_grad():
        features = model.head_features(INPUTS)
        first, second = features[:1], features[1:]
        _, carried = head.run_steps(first, 1)
        started = head.next_frame_state(carried, second, canvas_decay)
        canvases, _ = head.run_steps(second, 1, started)
        top_h = head.step(second, None, carried._replace(canvas=None)).canvas
        initial = head.canvas_classifier(second)
    assert not torch.allclose(initial, carried.canvas)
    assert_close(
        canvases[0], canvas_decay * carried.canvas +
        (1 - canvas_decay) * initial + top_h)
    assert head.next_frame_state(carried, second, 1.0) is carried


def test_video_macs_count_the_initial_canvas_of_a_blended_frame():
    model = build_model(init_canvas=True)
    head = model.decode_head
    with torch.no_grad():
        features = model.head_features(INPUTS[:1])
    positions = features.shape[-2] * features.shape[-1]
    kept = recurrent_step_macs(head, features, 1, True, canvas_decay=1.0)
    blended = recurrent_step_macs(head, features, 1, True, canvas_decay=0.5)
    assert blended - kept == positions * head.canvas_classifier.weight.numel()
