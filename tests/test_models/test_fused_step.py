"""The state-typed (dense) step and its fused version equal the reference
step of ConvLSTMCanvasHead, outputs and gradients."""
import pytest
import torch

from mmseg_convlstm.models import ConvLSTMCanvasHead

NUM_CLASSES = 5


def make_head(fused_step: bool = False,
              hidden_channels=(16, 12, NUM_CLASSES)) -> ConvLSTMCanvasHead:
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
        dense = head.dense_step(features, projection, dense)
        torch.testing.assert_close(dense.canvas, reference.canvas)
        for dense_cell, reference_cell in zip(dense.lstm, reference.lstm):
            torch.testing.assert_close(dense_cell, reference_cell)


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
