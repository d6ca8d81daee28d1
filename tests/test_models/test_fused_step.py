"""The state-typed (dense) step and its fused version equal the reference
step of ConvLSTMCanvasHead, outputs and gradients; the fused step compiles
once per grad mode, not once per shape."""
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from torch._dynamo.utils import counters

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_convlstm.models import ConvLSTMCanvasHead
from mmseg_convlstm.models.acceleration.fused_pointwise import \
    fused_lstm_pointwise
from tests.conftest import DEMO_CONFIG

NUM_CLASSES = 5


def make_head(
    fused_step: bool = False,
    hidden_channels=(16, 12, NUM_CLASSES)
) -> ConvLSTMCanvasHead:
    torch.manual_seed(0)
    head = ConvLSTMCanvasHead(
        in_channels=8,
        in_index=0,
        hidden_channels=hidden_channels,
        num_classes=NUM_CLASSES,
        num_steps=3,
        fused_step=fused_step)
    head.init_weights()
    return head


@pytest.mark.parametrize('training', [False, True])
@pytest.mark.parametrize('cached', [False, True])
def test_dense_steps_from_zeros_equal_the_reference_steps(training, cached):
    head = make_head()
    head.train(training)
    head.cache_input_projection = cached
    features = torch.randn(2, 8, 7, 9)
    projection = head.bottom_projection(features)
    reference, dense = head.initial_state(), head.dense_state(features)
    for _ in range(3):
        reference = head.step(features, projection, reference)
        dense = head.step(features, projection, dense)
        torch.testing.assert_close(dense.canvas, reference.canvas)
        for dense_cell, reference_cell in zip(dense.lstm, reference.lstm):
            torch.testing.assert_close(dense_cell, reference_cell)


@pytest.mark.parametrize('dense', [False, True])
def test_under_autocast_the_canvas_and_cell_states_accumulate_in_fp32(dense):
    head = make_head()
    head.eval()
    features = torch.randn(2, 8, 7, 9)
    with torch.autocast('cpu', torch.bfloat16):
        projection = head.bottom_projection(features)
        state = head.dense_state(features) if dense else head.initial_state()
        for _ in range(3):
            state = head.step(features, projection, state)
    assert projection.dtype == torch.bfloat16
    assert state.canvas.dtype == torch.float32
    assert [cell[1].dtype for cell in state.lstm] == [torch.float32] * 3


def test_dense_state_keeps_a_given_state_and_fills_the_rest_with_zeros():
    head = make_head()
    features = torch.randn(1, 8, 4, 5)
    _, state = head.run_steps(features, 1)
    kept = head.dense_state(features, state._replace(canvas=None))
    assert kept.lstm[1][0] is state.lstm[1][0]
    assert kept.canvas.shape == (1, NUM_CLASSES, 4, 5)
    assert not kept.canvas.any()


def test_fused_step_equals_the_reference_with_gradients():
    """Compiled with inductor (a C++ compiler builds the CPU kernels); all
    cells have one shape so that it compiles once (forward and backward)."""
    channels = (NUM_CLASSES, ) * 3
    reference, fused = make_head(False, channels), make_head(True, channels)
    fused.load_state_dict(reference.state_dict())
    weights = torch.randn(NUM_CLASSES, 1, 1)
    results = {}
    for name, head in (('reference', reference), ('fused', fused)):
        head.train()
        torch.manual_seed(1)
        features = torch.randn(2, 8, 6, 7, requires_grad=True)
        canvases, _ = head.run_steps(features, 3)
        loss = sum((canvas * weights).square().mean() for canvas in canvases)
        loss.backward()
        results[name] = [*canvases, features.grad] + [
            parameter.grad for parameter in head.parameters()
        ]
    for fused_tensor, reference_tensor in zip(results['fused'],
                                              results['reference']):
        torch.testing.assert_close(
            fused_tensor, reference_tensor, rtol=1e-5, atol=1e-5)


@pytest.fixture
def compile_counters(monkeypatch):
    """Dynamo's counters from a fresh start, with the fused step compiled by
    Dynamo's eager backend: the guards and recompilations are Dynamo's, the
    compilation of each graph (inductor's C++ build) is skipped."""
    compile_function = torch.compile
    monkeypatch.setattr(
        torch, 'compile', lambda function, **options: compile_function(
            function, backend='eager', **options))
    fused_lstm_pointwise.cache_clear()
    torch._dynamo.reset()
    counters.clear()
    yield counters
    fused_lstm_pointwise.cache_clear()
    torch._dynamo.reset()


def labelled_batch(batch, height, width):
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(
                data=torch.randint(0, 21, (1, height, width))))
        for _ in range(batch)
    ]
    return torch.randn(batch, 3, height, width), samples


def test_the_fused_step_compiles_once_per_grad_mode_for_all_shapes(
        compile_counters):
    """Training (3 cells of different widths; the first step's c_prev
    without gradient, the later ones with), validation at other batch
    sizes (1 among them) and spatial sizes, and adaptive exit, whose batch
    shrinks: 3 compilations, far from Dynamo's recompile limit."""
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    model.init_weights()
    model.decode_head.fused_step = True
    model.decode_head.num_steps = 2
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    model.train()
    for size in (33, 41):
        loss, _ = model.parse_losses(model.loss(*labelled_batch(2, size, 37)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert compile_counters['stats']['unique_graphs'] == 2

    model.eval()
    model.test_cfg = ConfigDict(mode='whole', num_steps=2)
    with torch.no_grad():
        for batch, height, width in [(1, 33, 37), (3, 49, 41)]:
            model.predict(torch.randn(batch, 3, height, width))
    model.test_cfg = ConfigDict(
        mode='whole',
        adaptive_exit=dict(min_steps=2, max_steps=4, change_fraction=0.05))
    with torch.no_grad():
        steps_used = [
            sample.num_steps_used
            for sample in model.predict(torch.randn(4, 3, 33, 37))
        ]
    assert len(set(steps_used)) > 1  # the batch shrank
    assert compile_counters['stats']['unique_graphs'] == 3
    assert compile_counters['frames']['ok'] == \
        compile_counters['frames']['total'] == 3
