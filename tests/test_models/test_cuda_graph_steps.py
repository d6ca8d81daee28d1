"""test_cfg.cuda_graph: replaying the backbone and the recurrent step from
CUDA graphs gives the eager results; without CUDA it says once that it runs
eagerly. On a CPU, CUDAGraphSteps' own logic (static inputs and state, the
state zeroed by the prologue and updated in place by the step, the cache of
shapes) runs with a stand-in for graph capture that re-runs the captured
function into the same output tensors."""
from unittest import mock

import pytest
import torch
from mmengine.config import Config, ConfigDict

from mmseg.registry import MODELS
from mmseg_convlstm.models import cuda_graph_steps
from mmseg_convlstm.models.cuda_graph_steps import CUDAGraphSteps
from tests.conftest import DEMO_CONFIG

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


class ReplayedFunction:
    """A stand-in for a captured CUDA graph: :meth:`replay` runs the
    captured function again and writes its tensors into those of the
    capture, as a graph replays into the same memory."""

    def __init__(self, run):
        self.run = run
        self.outputs = run()

    def replay(self) -> None:
        for static, fresh in zip(_tensors(self.outputs), _tensors(self.run())):
            static.copy_(fresh)


def _tensors(outputs) -> list:
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    if isinstance(outputs, (tuple, list)):
        return [tensor for output in outputs for tensor in _tensors(output)]
    return []


@pytest.fixture
def graphs_on_cpu(monkeypatch):
    def capture(run, pool=None):
        graph = ReplayedFunction(run)
        return graph, graph.outputs

    monkeypatch.setattr(cuda_graph_steps, 'capture_graph', capture)
    monkeypatch.setattr(cuda_graph_steps, 'warm_up_for_capture',
                        lambda run, times: run())
    monkeypatch.setattr(torch.cuda, 'graph_pool_handle', lambda: None)


def eager_canvases(model, inputs, num_steps):
    with torch.no_grad():
        features = model.decode_head._transform_inputs(
            model.extract_feat(inputs))
        return model.decode_head.run_steps(features, num_steps)[0]


@pytest.mark.parametrize('cached', [True, False])
def test_replayed_steps_equal_eager_steps_on_new_inputs(graphs_on_cpu, cached):
    model = build_model()
    model.decode_head.cache_input_projection = cached
    graph_steps = CUDAGraphSteps(model)
    for seed in (1, 2):  # the second image replays the first one's capture
        torch.manual_seed(seed)
        inputs = torch.randn(2, 3, 33, 41)
        canvases = graph_steps.iter_canvases(inputs)
        for reference in eager_canvases(model, inputs, 3):
            torch.testing.assert_close(next(canvases), reference)
    assert len(graph_steps.captured_keys) == 1


def test_the_cache_keeps_the_most_recent_shapes(graphs_on_cpu):
    model = build_model()
    graph_steps = CUDAGraphSteps(model, max_shapes=2)
    for shape in [(1, 3, 33, 33), (1, 3, 33, 41), (1, 3, 33, 33),
                  (2, 3, 33, 33), (1, 3, 33, 41)]:
        inputs = torch.randn(*shape)
        canvas = next(graph_steps.iter_canvases(inputs))
        torch.testing.assert_close(canvas, eager_canvases(model, inputs, 1)[0])
    shapes = [key[0] for key in graph_steps.captured_keys]
    assert shapes == [(2, 3, 33, 33), (1, 3, 33, 41)]


@pytest.mark.parametrize('all_steps', [False, True])
def test_without_cuda_it_logs_once_and_gives_the_eager_results(all_steps):
    model = build_model()
    inputs = torch.randn(2, 3, 33, 41)
    options = dict(num_steps=3, return_all_steps=all_steps)
    eager = predict(model, inputs, **options)
    with mock.patch('mmseg_convlstm.models.recurrent_encoder_decoder.'
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
    graph_steps = CUDAGraphSteps(model)
    for _ in range(2):  # the second run replays the captured graphs
        canvases = graph_steps.iter_canvases(inputs)
        for reference in eager:
            torch.testing.assert_close(
                next(canvases), reference, rtol=1e-5, atol=1e-5)


@needs_cuda
def test_predict_with_cuda_graph_equals_eager_predict():
    model = build_model('cuda')
    inputs = torch.randn(1, 3, 33, 33, device='cuda')
    eager = predict(model, inputs, num_steps=3, return_all_steps=True)
    graphed = predict(
        model, inputs, num_steps=3, return_all_steps=True, cuda_graph=True)
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
def test_captured_shapes_are_a_bounded_lru_cache():
    model = build_model('cuda')
    graph_steps = CUDAGraphSteps(model, max_shapes=2)
    shapes = [(1, 3, 33, 33), (1, 3, 33, 41), (1, 3, 33, 33),
              (2, 3, 33, 33)]
    for shape in shapes:
        inputs = torch.randn(*shape, device='cuda')
        canvas = next(graph_steps.iter_canvases(inputs))
        with torch.no_grad():
            features = model.decode_head._transform_inputs(
                model.extract_feat(inputs))
            reference = model.decode_head.run_steps(features, 1)[0][0]
        torch.testing.assert_close(canvas, reference, rtol=1e-5, atol=1e-5)
    assert [key[0] for key in graph_steps.captured_keys] == [
        (1, 3, 33, 33), (2, 3, 33, 33)
    ]


def test_max_shapes_below_one_names_the_key():
    with pytest.raises(ValueError, match='cuda_graph_max_shapes'):
        CUDAGraphSteps(build_model(), max_shapes=0)
