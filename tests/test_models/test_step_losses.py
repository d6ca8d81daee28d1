import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_convlstm.models.separable_resize import (bilinear_matrix,
                                                    interpolation_matrices,
                                                    separable_bilinear_resize)
from mmseg_convlstm.models.step_losses import (step_loss_fallback,
                                               uses_upsampled_cross_entropy)
from tests.test_models.test_convlstm_canvas_head import NUM_CLASSES, build_head

IGNORE_INDEX = 255


def labelled_samples(batch, height, width, ignored_fraction=0.2):
    generator = torch.Generator().manual_seed(0)
    result = []
    for _ in range(batch):
        labels = torch.randint(
            0, NUM_CLASSES, (1, height, width), generator=generator)
        ignored = torch.rand(labels.shape,
                             generator=generator) < ignored_fraction
        labels[ignored] = IGNORE_INDEX
        result.append(SegDataSample(gt_sem_seg=PixelData(data=labels)))
    return result


def per_step_reference(head, features, data_samples):
    """The losses as the head computed them before the fast path: MMSeg's
    ``loss_by_feat`` on every step's canvas."""
    canvases = head.forward_steps((features, ), head.num_steps)
    weights = head.step_loss_weights or [1 / len(canvases)] * len(canvases)
    losses = dict()
    for step, (canvas, weight) in enumerate(zip(canvases, weights), 1):
        step_losses = head.loss_by_feat(canvas, data_samples)
        accuracy = step_losses.pop('acc_seg')
        for name, value in step_losses.items():
            losses[name] = losses.get(name, 0) + weight * value
            losses[f"{name.replace('loss_', '', 1)}_step{step}"] = value
    losses['acc_seg'] = accuracy
    return losses


def losses_and_gradients(head, compute, ignored_fraction=0.2):
    torch.manual_seed(1)
    features = torch.randn(2, 6, 5, 5, requires_grad=True)
    data_samples = labelled_samples(2, 17, 17, ignored_fraction)
    losses = compute(head, features, data_samples)
    total = sum(value for name, value in losses.items() if 'loss' in name)
    head.zero_grad()
    total.backward()
    gradients = [features.grad.clone()] + [
        parameter.grad.clone() for parameter in head.parameters()
    ]
    return {name: value.detach() for name, value in losses.items()}, gradients


# MMSeg's class-weighted cross-entropy indexes the weights with every label,
# ignored ones included, so those cases have no ignored pixels.
LOSS_CONFIGS = {
    'cross-entropy': (dict(type='CrossEntropyLoss', loss_weight=1.0), 0.2),
    'weighted, non-ignored mean': (dict(
        type='CrossEntropyLoss', loss_weight=0.4, avg_non_ignore=True), 0.2),
    'class weights': (dict(
        type='CrossEntropyLoss', class_weight=[0.5, 1.0, 2.0, 1.5]), 0.0),
    'class weights, non-ignored mean': (dict(
        type='CrossEntropyLoss',
        class_weight=[0.5, 1.0, 2.0, 1.5],
        avg_non_ignore=True), 0.0),
    'cross-entropy and Dice': ([
        dict(type='CrossEntropyLoss', loss_weight=1.0),
        dict(type='DiceLoss', loss_weight=0.5)
    ], 0.2),
    'two cross-entropies of one name': ([
        dict(type='CrossEntropyLoss', loss_weight=1.0),
        dict(type='CrossEntropyLoss', loss_weight=0.3, avg_non_ignore=True)
    ], 0.2),
    'Lovasz': (dict(type='LovaszLoss', reduction='none', loss_weight=0.7),
               0.2),
}


@pytest.mark.parametrize('loss_decode, ignored_fraction',
                         LOSS_CONFIGS.values(),
                         ids=LOSS_CONFIGS.keys())
@pytest.mark.parametrize('align_corners', [True, False])
def test_step_loss_fast_path_equal_loss_by_feat_at_every_step(
        loss_decode, ignored_fraction, align_corners):
    head = build_head(
        loss_decode=loss_decode,
        step_loss_weights=[0.2, 0.3, 0.5],
        align_corners=align_corners)
    assert head.step_loss_fallback is None

    losses, gradients = losses_and_gradients(
        head, lambda head, features, samples: head.loss(
            (features, ), samples, None), ignored_fraction)
    expected, expected_gradients = losses_and_gradients(
        head, per_step_reference, ignored_fraction)

    assert losses.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(
            losses[name], expected[name], rtol=1e-5, atol=1e-5, msg=name)
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        torch.testing.assert_close(
            gradient, expected_gradient, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('settings, reason', [
    (dict(sampler=dict(type='OHEMPixelSampler', thresh=0.7, min_kept=20)),
     'a pixel sampler'),
    (dict(step_loss_fast_path=False),
     'model.decode_head.step_loss_fast_path is False'),
])
def test_what_falls_back_to_loss_by_feat_per_step(settings, reason):
    head = build_head(loss_decode=dict(type='CrossEntropyLoss'), **settings)
    assert head.step_loss_fallback.startswith(reason)
    assert step_loss_fallback(head) == head.step_loss_fallback

    losses, _ = losses_and_gradients(
        head, lambda head, features, samples: head.loss(
            (features, ), samples, None))
    expected, _ = losses_and_gradients(head, per_step_reference)
    for name in expected:
        torch.testing.assert_close(losses[name], expected[name], msg=name)


@pytest.mark.parametrize('loss_decode, joins', [
    (dict(type='CrossEntropyLoss'), True),
    (dict(type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=2), True),
    (dict(type='CrossEntropyLoss', class_weight=[1, 2, 1, 1]), False),
    (dict(type='CrossEntropyLoss', use_sigmoid=True), False),
    (dict(type='CrossEntropyLoss', reduction='sum'), False),
    (dict(type='DiceLoss'), False),
    (dict(type='LovaszLoss', reduction='none'), False),
])
def test_which_losses_use_the_upsampled_cross_entropy(loss_decode, joins):
    assert uses_upsampled_cross_entropy(MODELS.build(loss_decode)) is joins


def test_accuracy_is_that_of_the_last_step():
    head = build_head(loss_decode=dict(type='CrossEntropyLoss'))
    features = torch.randn(2, 6, 5, 5)
    data_samples = labelled_samples(2, 17, 17)

    losses = head.loss((features, ), data_samples, None)

    last_canvas = head.forward_steps((features, ), head.num_steps)[-1]
    expected = head.loss_by_feat(last_canvas, data_samples)['acc_seg']
    torch.testing.assert_close(losses['acc_seg'], expected)
    first_canvas = head.forward_steps((features, ), 1)[-1]
    assert not torch.equal(
        head.loss_by_feat(first_canvas, data_samples)['acc_seg'], expected)


@pytest.mark.parametrize('align_corners', [True, False])
@pytest.mark.parametrize('in_size, out_size', [((5, 7), (17, 25)),
                                               ((9, 9), (9, 9)),
                                               ((17, 33), (8, 5)),
                                               ((1, 4), (3, 11))])
def test_separable_resize_equals_interpolate(align_corners, in_size,
                                             out_size):
    maps = torch.randn(3, 2, *in_size, dtype=torch.float64,
                       requires_grad=True)
    upstream = torch.randn(3, 2, *out_size, dtype=torch.float64)

    resized = separable_bilinear_resize(maps, out_size, align_corners)
    (gradient, ) = torch.autograd.grad((resized * upstream).sum(), maps)
    expected = F.interpolate(
        maps, out_size, mode='bilinear', align_corners=align_corners)
    (expected_gradient, ) = torch.autograd.grad((expected * upstream).sum(),
                                                maps)

    torch.testing.assert_close(resized, expected)
    torch.testing.assert_close(gradient, expected_gradient)


def test_the_matrices_are_built_once_per_sizes_dtype_and_device():
    """A training iteration reuses the matrices of the last one instead of
    building them on the CPU and copying them again."""
    bilinear_matrix.cache_clear()
    first = interpolation_matrices(torch.randn(2, 5, 6, 7), (17, 19), False)
    again = interpolation_matrices(torch.randn(1, 3, 6, 7), (17, 19), False)
    assert all(matrix is reused for matrix, reused in zip(first, again))
    assert bilinear_matrix.cache_info().misses == 2
    doubles = interpolation_matrices(
        torch.randn(2, 5, 6, 7, dtype=torch.float64), (17, 19), False)
    assert [matrix.dtype for matrix in doubles] == [torch.float64] * 2
    torch.testing.assert_close(doubles[0], first[0].double())
    assert bilinear_matrix.cache_info().misses == 4
    with torch.inference_mode():
        matrix = bilinear_matrix(4, 9, True, torch.float32,
                                 torch.device('cpu'))
    assert not matrix.is_inference()  # usable in training later


def test_step_loss_fast_path_run_under_autocast():
    """Mixed precision (``tools/train.py --amp``) evaluates the upsampling
    products in half precision and the cross-entropy in fp32; bf16 on the
    CPU stands in for the GPU's autocast here."""
    head = build_head(loss_decode=dict(type='CrossEntropyLoss'))
    features = torch.randn(2, 6, 5, 5)
    data_samples = labelled_samples(2, 17, 17)
    full = head.loss((features, ), data_samples, None)

    with torch.autocast('cpu', dtype=torch.bfloat16):
        mixed = head.loss((features, ), data_samples, None)

    assert mixed['loss_ce'].dtype == torch.float32
    # bf16 keeps 8 significant bits.
    torch.testing.assert_close(
        mixed['loss_ce'], full['loss_ce'], rtol=2e-2, atol=0)
    mixed['loss_ce'].backward()
    assert all(
        torch.isfinite(parameter.grad).all()
        for parameter in head.parameters())
