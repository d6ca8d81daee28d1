import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_convlstm.models.losses import step_losses as step_loss_module
from mmseg_convlstm.models.losses.separable_resize import (
    bilinear_matrix, interpolation_matrices, separable_bilinear_resize)
from mmseg_convlstm.models.losses.step_losses import (
    step_loss_fallback, uses_upsampled_cross_entropy)
from mmseg_convlstm.models.losses.upsampled_cross_entropy import \
    upsampled_cross_entropy
from tests.test_models.test_convlstm_canvas_head import NUM_CLASSES, build_head

IGNORE_INDEX = 255


def labelled_samples(batch, height, width, ignored_fraction=0.2):
    generator = torch.Generator().manual_seed(0)
    result = []
    for _ in range(batch):
        labels = torch.randint(
            0, NUM_CLASSES, (1, height, width), generator=generator)
        ignored = torch.rand(
            labels.shape, generator=generator) < ignored_fraction
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
    return losses_and_gradients_on(
        head, compute, labelled_samples(2, 17, 17, ignored_fraction))


# MMSeg's class-weighted cross-entropy indexes the weights with every label,
# ignored ones included, so those cases have no ignored pixels.
LOSS_CONFIGS = {
    'cross-entropy': (dict(type='CrossEntropyLoss', loss_weight=1.0), 0.2),
    'weighted, non-ignored mean':
    (dict(type='CrossEntropyLoss', loss_weight=0.4, avg_non_ignore=True), 0.2),
    'class weights':
    (dict(type='CrossEntropyLoss', class_weight=[0.5, 1.0, 2.0, 1.5]), 0.0),
    'class weights, non-ignored mean': (dict(
        type='CrossEntropyLoss',
        class_weight=[0.5, 1.0, 2.0, 1.5],
        avg_non_ignore=True), 0.0),
    'class weights, ignored pixels (ClassWeightedCrossEntropyLoss)': (dict(
        type='ClassWeightedCrossEntropyLoss',
        class_weight=[0.5, 1.0, 2.0, 1.5],
        loss_weight=0.7), 0.2),
    'cross-entropy and Dice': ([
        dict(type='CrossEntropyLoss', loss_weight=1.0),
        dict(type='DiceLoss', loss_weight=0.5)
    ], 0.2),
    'two cross-entropies of one name': ([
        dict(type='CrossEntropyLoss', loss_weight=1.0),
        dict(type='CrossEntropyLoss', loss_weight=0.3, avg_non_ignore=True)
    ], 0.2),
    'Lovasz': (dict(type='LovaszLoss', reduction='none',
                    loss_weight=0.7), 0.2),
}


@pytest.mark.parametrize(
    'loss_decode, ignored_fraction',
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
    (dict(type='CrossEntropyLoss', class_weight=[1, 2, 1, 1]), True),
    (dict(type='ClassWeightedCrossEntropyLoss', class_weight=[1, 2, 1, 1]),
     True),
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
def test_separable_resize_equals_interpolate(align_corners, in_size, out_size):
    maps = torch.randn(3, 2, *in_size, dtype=torch.float64, requires_grad=True)
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


# Class weights on the fast path. MMSeg 1.2.2's cross_entropy (reduction
# 'mean') divides sum_i w[y_i] * ce_i by the sum of w[label] over every pixel,
# an ignored one counting w[ignore_index] (avg_non_ignore=False), or over the
# pixels not ignored (avg_non_ignore=True). It computes w[label] for every
# pixel first, so it can only run with ignored pixels when ignore_index is
# an index of w (here 3, a class, or -1, the last one).
CLASS_WEIGHT = [0.5, 1.0, 2.0, 1.5]


def samples_ignoring(ignore_index, ignored_fraction=0.2):
    """``labelled_samples`` with ``ignore_index`` as the ignored label."""
    data_samples = labelled_samples(2, 17, 17, ignored_fraction)
    for sample in data_samples:
        labels = sample.gt_sem_seg.data
        labels[labels == IGNORE_INDEX] = ignore_index
    return data_samples


def losses_and_gradients_on(head, compute, data_samples):
    torch.manual_seed(1)
    features = torch.randn(2, 6, 5, 5, requires_grad=True)
    losses = compute(head, features, data_samples)
    total = sum(value for name, value in losses.items() if 'loss' in name)
    head.zero_grad()
    total.backward()
    gradients = [features.grad.clone()] + [
        parameter.grad.clone() for parameter in head.parameters()
    ]
    return {name: value.detach() for name, value in losses.items()}, gradients


def fast_path(head, features, data_samples):
    return head.loss((features, ), data_samples, None)


def assert_equal_losses_and_gradients(actual, expected):
    losses, gradients = actual
    expected_losses, expected_gradients = expected
    assert losses.keys() == expected_losses.keys()
    for name in expected_losses:
        torch.testing.assert_close(
            losses[name],
            expected_losses[name],
            rtol=1e-5,
            atol=1e-5,
            msg=name)
    assert len(gradients) == len(expected_gradients)
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        torch.testing.assert_close(
            gradient, expected_gradient, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('ignore_index', [3, -1])
@pytest.mark.parametrize('avg_non_ignore', [False, True])
@pytest.mark.parametrize('align_corners', [True, False])
def test_class_weights_stay_on_the_fast_path_equal_to_loss_by_feat(
        ignore_index, avg_non_ignore, align_corners):
    head = build_head(
        loss_decode=dict(
            type='CrossEntropyLoss',
            class_weight=CLASS_WEIGHT,
            loss_weight=0.7,
            avg_non_ignore=avg_non_ignore),
        ignore_index=ignore_index,
        step_loss_weights=[0.2, 0.3, 0.5],
        align_corners=align_corners)
    assert head.step_loss_fallback is None
    assert uses_upsampled_cross_entropy(head.loss_decode)
    data_samples = samples_ignoring(ignore_index)
    labels = torch.stack([s.gt_sem_seg.data for s in data_samples])
    assert (labels == ignore_index).any()

    fast = losses_and_gradients_on(head, fast_path, data_samples)
    expected = losses_and_gradients_on(head, per_step_reference, data_samples)

    assert_equal_losses_and_gradients(fast, expected)


def test_ignored_pixels_weigh_in_the_divisor_unless_avg_non_ignore():
    """The two settings differ with ignored pixels, by the divisor only:
    sum(w[label]) over all pixels, or over the pixels not ignored."""
    data_samples = samples_ignoring(3)
    labels = torch.stack([s.gt_sem_seg.data for s in data_samples])
    weights = torch.tensor(CLASS_WEIGHT)[labels]
    ratio = weights.sum() / weights[labels != 3].sum()

    def last_step_loss(avg_non_ignore):
        torch.manual_seed(0)
        head = build_head(
            loss_decode=dict(
                type='CrossEntropyLoss',
                class_weight=CLASS_WEIGHT,
                avg_non_ignore=avg_non_ignore),
            ignore_index=3)
        features = torch.randn(2, 6, 5, 5)
        return head.loss((features, ), data_samples, None)['ce_step3']

    assert ratio > 1.1
    torch.testing.assert_close(
        last_step_loss(True),
        last_step_loss(False) * ratio,
        rtol=1e-5,
        atol=1e-5)


def weighted_mean_reference(head, features, data_samples):
    """PyTorch's class-weighted mean over the pixels not ignored, of
    ``F.interpolate``d canvases: what MMSeg means with avg_non_ignore=True
    (it zeroes the ignored pixels' weights) where its indexing of the class
    weights with label 255 raises."""
    canvases = head.forward_steps((features, ), head.num_steps)
    labels = head._stack_batch_gt(data_samples).squeeze(1)
    loss = head.loss_decode
    losses = dict(loss_ce=0)
    for step, (canvas,
               weight) in enumerate(zip(canvases, head.step_loss_weights), 1):
        logits = F.interpolate(
            canvas,
            labels.shape[1:],
            mode='bilinear',
            align_corners=head.align_corners)
        value = loss.loss_weight * F.cross_entropy(
            logits,
            labels,
            weight=torch.tensor(loss.class_weight),
            ignore_index=head.ignore_index)
        losses['loss_ce'] = losses['loss_ce'] + weight * value
        losses[f'ce_step{step}'] = value
    losses['acc_seg'] = accuracy(
        logits, labels, ignore_index=head.ignore_index)
    return losses


@pytest.mark.parametrize('align_corners', [True, False])
def test_class_weights_with_label_255_and_avg_non_ignore(align_corners):
    head = build_head(
        loss_decode=dict(
            type='CrossEntropyLoss',
            class_weight=CLASS_WEIGHT,
            loss_weight=0.7,
            avg_non_ignore=True),
        step_loss_weights=[0.2, 0.3, 0.5],
        align_corners=align_corners)
    assert head.ignore_index == IGNORE_INDEX
    data_samples = samples_ignoring(IGNORE_INDEX)
    canvas = head.forward_steps((torch.randn(2, 6, 5, 5), ), 1)[-1]
    # MMSeg 1.2.2 computes class_weight[255] before zeroing it.
    with pytest.raises(IndexError):
        head.loss_by_feat(canvas, data_samples)

    fast = losses_and_gradients_on(head, fast_path, data_samples)
    expected = losses_and_gradients_on(head, weighted_mean_reference,
                                       data_samples)

    assert_equal_losses_and_gradients(fast, expected)


def test_class_weights_with_label_255_need_avg_non_ignore():
    """Without avg_non_ignore MMSeg divides by class_weight[255] too: the
    fast path refuses, naming the key, where MMSeg raises IndexError; a
    batch without ignored pixels is computed (as MMSeg computes it)."""
    head = build_head(
        loss_decode=dict(type='CrossEntropyLoss', class_weight=CLASS_WEIGHT))
    features = torch.randn(2, 6, 5, 5)
    with pytest.raises(ValueError, match='avg_non_ignore=True'):
        head.loss((features, ), samples_ignoring(IGNORE_INDEX), None)
    with pytest.raises(IndexError):
        head.loss_by_feat(
            head.forward((features, )), samples_ignoring(IGNORE_INDEX))

    complete = samples_ignoring(IGNORE_INDEX, ignored_fraction=0.0)
    fast = losses_and_gradients_on(head, fast_path, complete)
    expected = losses_and_gradients_on(head, per_step_reference, complete)
    assert_equal_losses_and_gradients(fast, expected)


@pytest.mark.parametrize('align_corners', [True, False])
def test_weighted_and_unweighted_cross_entropies_share_the_pixel_losses(
        align_corners, tmp_path, monkeypatch):
    """A class-weighted cross-entropy (weights read from a file, as MMSeg
    reads them) beside an unweighted one: one evaluation of the pixel
    losses, each reduced its own way, equal to loss_by_feat."""
    weight_file = tmp_path / 'class_weight.npy'
    np.save(weight_file, np.array([2.0, 0.25, 1.0, 3.0], dtype=np.float32))
    head = build_head(
        loss_decode=[
            dict(
                type='CrossEntropyLoss',
                class_weight=str(weight_file),
                avg_non_ignore=True),
            dict(type='CrossEntropyLoss', loss_weight=0.3),
            dict(
                type='CrossEntropyLoss',
                class_weight=CLASS_WEIGHT,
                loss_weight=0.5,
                loss_name='loss_weighted'),
        ],
        ignore_index=3,
        step_loss_weights=[0.2, 0.3, 0.5],
        align_corners=align_corners)
    assert all(map(uses_upsampled_cross_entropy, head.loss_decode))
    data_samples = samples_ignoring(3)

    calls = []

    def counted(*args):
        calls.append(1)
        return upsampled_cross_entropy(*args)

    monkeypatch.setattr(step_loss_module, 'upsampled_cross_entropy', counted)
    fast = losses_and_gradients_on(head, fast_path, data_samples)
    expected = losses_and_gradients_on(head, per_step_reference, data_samples)

    assert len(calls) == head.num_steps
    assert_equal_losses_and_gradients(fast, expected)
