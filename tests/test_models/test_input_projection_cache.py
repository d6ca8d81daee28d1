"""The cached input projection computes the bottom cell's input convolution
once per image and changes neither the outputs nor the gradients."""
import pytest
import torch
from mmengine.structures import PixelData

from mmseg.structures import SegDataSample
from mmseg_convlstm.models import ConvLSTMCanvasHead
from tests.tiny_head import tiny_head

NUM_CLASSES = 5


def make_head(kernel_size: int) -> ConvLSTMCanvasHead:
    return tiny_head(NUM_CLASSES, 4, seed=0, kernel_size=kernel_size)


def count_bottom_projections(head: ConvLSTMCanvasHead) -> list:
    calls = []
    head.cells[0].input_conv.register_forward_hook(
        lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize('kernel_size', [1, 3])
def test_outputs_agree_and_the_projection_is_computed_once(kernel_size):
    head = make_head(kernel_size)
    head.eval()
    calls = count_bottom_projections(head)
    features = torch.randn(2, 8, 9, 11)
    outputs = {}
    with torch.no_grad():
        for cached in (True, False):
            head.cache_input_projection = cached
            calls.clear()
            outputs[cached], _ = head.run_steps(features, 4)
            assert len(calls) == (1 if cached else 4)
    for with_cache, without in zip(outputs[True], outputs[False]):
        torch.testing.assert_close(with_cache, without, rtol=0, atol=1e-5)


@pytest.mark.parametrize('kernel_size', [1, 3])
def test_outputs_agree_from_a_carried_state(kernel_size):
    head = make_head(kernel_size)
    head.eval()
    features = torch.randn(1, 8, 7, 7)
    with torch.no_grad():
        _, state = head.run_steps(torch.randn(1, 8, 7, 7), 2)
        canvases = {}
        for cached in (True, False):
            head.cache_input_projection = cached
            canvases[cached], _ = head.run_steps(features, 3, state)
    for with_cache, without in zip(canvases[True], canvases[False]):
        torch.testing.assert_close(with_cache, without, rtol=0, atol=1e-5)


@pytest.mark.parametrize('kernel_size', [1, 3])
def test_training_gradients_agree(kernel_size):
    head = make_head(kernel_size)
    head.train()
    features = torch.randn(2, 8, 9, 9)
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(
                data=torch.randint(NUM_CLASSES, (1, 9, 9))))
        for _ in range(2)
    ]
    gradients, losses = {}, {}
    for cached in (True, False):
        head.cache_input_projection = cached
        head.zero_grad()
        inputs = features.clone().requires_grad_()
        loss = head.loss((inputs, ), samples, train_cfg={})['loss_ce']
        loss.backward()
        losses[cached] = loss.detach()
        gradients[cached] = {
            name: parameter.grad.clone()
            for name, parameter in head.named_parameters()
        }
        gradients[cached]['features'] = inputs.grad
    torch.testing.assert_close(losses[True], losses[False], rtol=0, atol=1e-5)
    assert gradients[True].keys() == gradients[False].keys()
    for name, with_cache in gradients[True].items():
        assert with_cache.abs().sum() > 0, name
        torch.testing.assert_close(
            with_cache, gradients[False][name], rtol=0, atol=1e-5, msg=name)
