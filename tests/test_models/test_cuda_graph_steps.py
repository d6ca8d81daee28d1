"""test_cfg.cuda_graph: replaying the backbone and the recurrent step from
CUDA graphs gives the eager results; without CUDA it says once that it runs
eagerly. On a CPU, CUDAGraphSteps' own logic (static inputs and state, the
state zeroed by the prologue and updated in place by the step, the cache of
shapes captured at their second use, the graph key, dropping graphs,
falling back to eager) runs with a stand-in backend that records the ATen
operations of a capture and replays them on the same tensors
(tests/test_models/recorded_graphs.py)."""
from typing import Callable
from unittest import mock

import pytest
import torch
from mmengine.config import Config, ConfigDict

from mmseg.registry import MODELS
from mmseg_convlstm.models.acceleration.cuda_graph_steps import CUDAGraphSteps
from tests.conftest import DEMO_CONFIG
from tests.test_models.recorded_graphs import RecordingGraphBackend

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='CUDA graphs need CUDA')


def build_model(device: str = 'cpu'):
    torch.manual_seed(0)
    segmentor = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    segmentor.init_weights()
    segmentor.eval()
    return segmentor.to(device)


def predict(model, inputs, **test_cfg):
    model.test_cfg = ConfigDict(mode='whole', **test_cfg)
    with torch.no_grad():
        return model.predict(inputs)


@pytest.fixture
def graphs_on_cpu(monkeypatch):
    backend = RecordingGraphBackend()
    monkeypatch.setattr(CUDAGraphSteps, 'backend', backend)
    return backend


def eager_canvases(model, inputs, num_steps):
    with torch.no_grad():
        features = model.decode_head._transform_inputs(
            model.extract_feat(inputs))
        return model.decode_head.run_steps(features, num_steps)[0]


def replayed_canvases(graph_steps, inputs, num_steps):
    """The first ``num_steps`` canvases, all kept before any is compared,
    so that a canvas the next replay overwrites would show."""
    with torch.no_grad():
        steps = graph_steps.steps(inputs)
        return [steps.step().canvas for _ in range(num_steps)]


def count_backbone_runs(model) -> list:
    runs = []
    model.backbone.register_forward_hook(lambda *_: runs.append(1))
    return runs


@pytest.mark.parametrize('cached', [True, False])
def test_replayed_steps_equal_eager_steps_on_new_inputs(graphs_on_cpu, cached):
    model = build_model()
    model.decode_head.cache_input_projection = cached
    graph_steps = CUDAGraphSteps(model, capture_after=1)
    torch.manual_seed(1)
    replayed_canvases(graph_steps, torch.randn(2, 3, 33, 41), 1)  # captures
    backbone_runs = count_backbone_runs(model)
    for seed in (2, 3):
        torch.manual_seed(seed)
        inputs = torch.randn(2, 3, 33, 41)
        replayed = replayed_canvases(graph_steps, inputs, 3)
        assert not backbone_runs  # replayed, not run again
        reference = eager_canvases(model, inputs, 3)
        backbone_runs.clear()
        for canvas, eager in zip(replayed, reference):
            torch.testing.assert_close(canvas, eager)
    assert len(graph_steps.captured_keys) == 1


# Shapes A, B, C and D (a one-off), as in test_captured_shapes.py.
SHAPES = dict(
    A=(1, 3, 33, 33), B=(1, 3, 33, 41), C=(1, 3, 41, 33), D=(2, 3, 33, 33))
SHAPE_ORDER = 'AABACCBBCAD'
# How each use runs, two shapes kept, each captured at its second use.
SHAPE_RUNS = [
    'eager', 'capture', 'eager', 'replay', 'eager', 'capture', 'eager',
    'capture', 'eager', 'replay', 'eager'
]


def check_frequent_shapes_give_eager_results(model,
                                             device: str,
                                             after_use: Callable[
                                                 [], None] = lambda: None,
                                             **tolerance) -> None:
    """Runs the shapes of SHAPE_ORDER through CUDAGraphSteps (two kept,
    captured at the second use), checking each use's canvases against an
    eager run and calling ``after_use`` after it, and checks the shapes
    kept in the end."""
    graph_steps = CUDAGraphSteps(model, max_shapes=2, capture_after=2)
    for name in SHAPE_ORDER:
        inputs = torch.randn(*SHAPES[name], device=device)
        canvases = replayed_canvases(graph_steps, inputs, 2)
        for canvas, eager in zip(canvases, eager_canvases(model, inputs, 2)):
            torch.testing.assert_close(canvas, eager, **tolerance)
        after_use()
    assert [key[0] for key in graph_steps.captured_keys
            ] == [SHAPES['B'], SHAPES['A']]


def test_shapes_are_captured_at_their_second_use_and_frequent_ones_kept(
        graphs_on_cpu):
    """Uses before the capture and one-off shapes run eagerly, paying no
    capture (no graph recorded); captured shapes replay; every canvas is
    the eager one."""
    runs = []
    seen = dict(graphs=0, replays=0)

    def record_run() -> None:
        graphs = graphs_on_cpu.graphs  # prologue, step; per capture
        replays = sum(graph.replays for graph in graphs[::2])
        runs.append('capture' if len(graphs) > seen['graphs'] else
                    'replay' if replays > seen['replays'] else 'eager')
        seen.update(graphs=len(graphs), replays=replays)

    check_frequent_shapes_give_eager_results(build_model(), 'cpu', record_run)
    assert runs == SHAPE_RUNS


def test_test_cfg_sets_when_a_shape_is_captured(graphs_on_cpu):
    model = build_model()
    inputs = torch.randn(1, 3, 33, 33)
    for capture_after in (2, 3):
        for use in range(1, 4):
            predict(
                model,
                inputs,
                cuda_graph=True,
                cuda_graph_capture_after=capture_after)
            captured = len(model._cuda_graph_steps.captured_keys)
            assert captured == int(use >= capture_after)
        model.train().eval()  # drops the graphs and the counts
    with pytest.raises(ValueError, match='cuda_graph_capture_after'):
        predict(model, inputs, cuda_graph=True, cuda_graph_capture_after=0)


@pytest.mark.parametrize('all_steps', [False, True])
def test_predict_with_cuda_graph_replays_the_graphs_with_eager_results(
        graphs_on_cpu, all_steps):
    model = build_model()
    options = dict(num_steps=3, return_all_steps=all_steps)
    for seed in (1, 2):
        torch.manual_seed(seed)
        inputs = torch.randn(2, 3, 33, 41)
        eager = predict(model, inputs, **options)
        graphed = predict(
            model,
            inputs,
            cuda_graph=True,
            cuda_graph_capture_after=1,
            **options)
        for result, reference in zip(graphed, eager):
            torch.testing.assert_close(result.seg_logits.data,
                                       reference.seg_logits.data)
            if all_steps:
                assert torch.equal(result.pred_sem_seg_steps.data,
                                   reference.pred_sem_seg_steps.data)
    prologue, step = graphs_on_cpu.graphs
    assert (prologue.replays, step.replays) == (2, 6)


def test_an_autocast_run_gets_its_own_graphs_which_read_the_weights(
        graphs_on_cpu):
    """Autocast's state is part of the key, and the capture does not read
    autocast's cached casts of the weights: a weight changed in place is
    read by the next replay, under autocast too."""
    model = build_model()
    graph_steps = CUDAGraphSteps(model, capture_after=1)
    inputs = torch.randn(1, 3, 33, 33)
    replayed_canvases(graph_steps, inputs, 1)
    with torch.autocast('cpu', torch.bfloat16):
        replayed_canvases(graph_steps, inputs, 1)
    assert [key[-1]
            for key in graph_steps.captured_keys] == [(False, torch.bfloat16),
                                                      (True, torch.bfloat16)]
    model.decode_head.cells[0].input_conv.weight.data.mul_(1.5)
    with torch.autocast('cpu', torch.bfloat16):
        replayed = replayed_canvases(graph_steps, inputs, 2)
        eager = eager_canvases(model, inputs, 2)
    assert len(graph_steps.captured_keys) == 2
    for canvas, reference in zip(replayed, eager):
        torch.testing.assert_close(canvas, reference)


def test_moving_or_casting_the_model_drops_its_graphs(graphs_on_cpu):
    """Graphs captured before ``.double().float()`` (new weight tensors)
    would replay the old weights; they are dropped and captured again."""
    model = build_model()
    inputs = torch.randn(1, 3, 33, 33)
    predict(model, inputs, cuda_graph=True, cuda_graph_capture_after=1)
    assert len(model._cuda_graph_steps.captured_keys) == 1
    model.double().float()
    assert model._cuda_graph_steps is None
    model.decode_head.cells[-1].input_conv.weight.data.mul_(1.5)
    graphed = predict(
        model, inputs, cuda_graph=True, cuda_graph_capture_after=1)
    eager = predict(model, inputs)
    torch.testing.assert_close(graphed[0].seg_logits.data,
                               eager[0].seg_logits.data)
    assert len(graphs_on_cpu.graphs) == 4


def test_train_drops_the_graphs_and_training_mode_refuses_a_capture(
        graphs_on_cpu):
    model = build_model()
    inputs = torch.randn(1, 3, 33, 33)
    predict(model, inputs, cuda_graph=True, cuda_graph_capture_after=1)
    model.train()
    assert model._cuda_graph_steps is None
    with pytest.raises(RuntimeError, match='eval mode only'):
        CUDAGraphSteps(model, capture_after=1).steps(inputs)
    model.eval()
    predict(model, inputs, cuda_graph=True, cuda_graph_capture_after=1)
    assert len(model._cuda_graph_steps.captured_keys) == 1


def test_a_failed_capture_runs_eagerly_and_warns_once(monkeypatch):
    backend = RecordingGraphBackend(capture_error='capture not permitted')
    monkeypatch.setattr(CUDAGraphSteps, 'backend', backend)
    model = build_model()
    with mock.patch(
            'mmseg_convlstm.models.acceleration.cuda_graph_steps.print_log'
    ) as print_log:
        for shape in [(1, 3, 33, 33), (1, 3, 33, 41), (1, 3, 33, 33)]:
            inputs = torch.randn(*shape)
            graphed = predict(
                model,
                inputs,
                num_steps=2,
                cuda_graph=True,
                cuda_graph_capture_after=1)
            eager = predict(model, inputs, num_steps=2)
            assert torch.equal(graphed[0].seg_logits.data,
                               eager[0].seg_logits.data)
    assert print_log.call_count == 1
    assert 'capture not permitted' in print_log.call_args.args[0]
    assert 'run eagerly' in print_log.call_args.args[0]
    assert model._cuda_graph_steps.captured_keys == []
    # One warm-up per new shape; the failed shape is not tried again.
    assert backend.warm_up_runs == 2 * 3


def test_an_iterator_overtaken_on_its_shape_raises(graphs_on_cpu):
    model = build_model()
    graph_steps = CUDAGraphSteps(model, capture_after=1)
    inputs = torch.randn(1, 3, 33, 33)
    with torch.no_grad():
        first = graph_steps.steps(inputs)
        first.step()
        second = graph_steps.steps(torch.randn(1, 3, 33, 33))
        second.step()
        with pytest.raises(RuntimeError, match='overtaken'):
            first.step()
        graph_steps.steps(torch.randn(1, 3, 33, 41)).step()
        second.step()  # another shape's steps do not overtake them


@pytest.mark.parametrize('all_steps', [False, True])
def test_without_cuda_it_logs_once_and_gives_the_eager_results(all_steps):
    model = build_model()
    inputs = torch.randn(2, 3, 33, 41)
    options = dict(num_steps=3, return_all_steps=all_steps)
    eager = predict(model, inputs, **options)
    with mock.patch(
            'mmseg_convlstm.models.segmentors.recurrent_encoder_decoder.'
            'print_log') as print_log:
        for _ in range(2):
            graphed = predict(model, inputs, cuda_graph=True, **options)

    assert print_log.call_count == 1
    assert 'runs eagerly' in print_log.call_args.args[0]
    for result, reference in zip(graphed, eager):
        assert torch.equal(result.pred_sem_seg.data,
                           reference.pred_sem_seg.data)
        assert torch.equal(result.seg_logits.data, reference.seg_logits.data)
        if all_steps:
            assert torch.equal(result.pred_sem_seg_steps.data,
                               reference.pred_sem_seg_steps.data)


@needs_cuda
@pytest.mark.parametrize('cached', [True, False])
def test_graph_replay_equals_eager_steps(cached):
    model = build_model('cuda')
    model.decode_head.cache_input_projection = cached
    inputs = torch.randn(2, 3, 33, 41, device='cuda')
    with torch.no_grad():
        features = model.decode_head._transform_inputs(
            model.extract_feat(inputs))
        eager, _ = model.decode_head.run_steps(features, 4)
    graph_steps = CUDAGraphSteps(model, capture_after=1)
    for _ in range(2):  # the second run replays the captured graphs
        steps = graph_steps.steps(inputs)
        for reference in eager:
            torch.testing.assert_close(
                steps.step().canvas, reference, rtol=1e-5, atol=1e-5)


@needs_cuda
def test_predict_with_cuda_graph_equals_eager_predict():
    model = build_model('cuda')
    inputs = torch.randn(1, 3, 33, 33, device='cuda')
    eager = predict(model, inputs, num_steps=3, return_all_steps=True)
    graphed = predict(
        model,
        inputs,
        num_steps=3,
        return_all_steps=True,
        cuda_graph=True,
        cuda_graph_capture_after=1)
    torch.testing.assert_close(
        graphed[0].seg_logits.data,
        eager[0].seg_logits.data,
        rtol=1e-5,
        atol=1e-5)
    # Rounding may flip the argmax of a near tie, nowhere else.
    differ = graphed[0].pred_sem_seg_steps.data != \
        eager[0].pred_sem_seg_steps.data
    assert differ.float().mean() < 1e-3


@needs_cuda
def test_frequent_shapes_are_captured_with_eager_results_on_cuda():
    check_frequent_shapes_give_eager_results(
        build_model('cuda'), 'cuda', rtol=1e-5, atol=1e-5)


def test_max_shapes_below_one_names_the_key():
    with pytest.raises(ValueError, match='cuda_graph_max_shapes'):
        CUDAGraphSteps(build_model(), max_shapes=0)
