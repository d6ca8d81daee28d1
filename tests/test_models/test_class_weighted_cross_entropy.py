import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS
from mmseg_convlstm.models.losses import ClassWeightedCrossEntropyLoss

CLASS_WEIGHT = [0.25, 1.0, 4.0, 2.0]
IGNORE_INDEX = 255


def logits_and_labels(ignored_fraction):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 9, 11, generator=generator)
    labels = torch.randint(0, 4, (2, 9, 11), generator=generator)
    labels[torch.rand(labels.shape, generator=generator) <
           ignored_fraction] = IGNORE_INDEX
    return logits, labels


def test_is_pytorchs_weighted_mean_where_mmseg_raises_on_void():
    logits, labels = logits_and_labels(ignored_fraction=0.3)
    assert (labels == IGNORE_INDEX).any()
    loss = MODELS.build(
        dict(
            type='ClassWeightedCrossEntropyLoss',
            class_weight=CLASS_WEIGHT,
            loss_weight=0.4))
    expected = 0.4 * F.cross_entropy(
        logits,
        labels,
        weight=torch.tensor(CLASS_WEIGHT),
        ignore_index=IGNORE_INDEX)

    torch.testing.assert_close(
        loss(logits, labels, ignore_index=IGNORE_INDEX), expected)
    mmseg_loss = CrossEntropyLoss(
        class_weight=CLASS_WEIGHT, avg_non_ignore=True)
    with pytest.raises(IndexError):
        mmseg_loss(logits, labels, ignore_index=IGNORE_INDEX)


def test_equals_mmseg_on_batches_without_void(tmp_path):
    logits, labels = logits_and_labels(ignored_fraction=0.0)
    weight_file = tmp_path / 'class_weight.npy'
    np.save(weight_file, np.array(CLASS_WEIGHT, dtype=np.float32))
    loss = ClassWeightedCrossEntropyLoss(
        class_weight=str(weight_file), loss_weight=2.0)
    mmseg_loss = CrossEntropyLoss(
        class_weight=CLASS_WEIGHT, avg_non_ignore=True, loss_weight=2.0)

    value = loss(logits, labels, ignore_index=IGNORE_INDEX)

    torch.testing.assert_close(
        value, mmseg_loss(logits, labels, ignore_index=IGNORE_INDEX))
    unweighted = CrossEntropyLoss(loss_weight=2.0)(logits, labels)
    assert not torch.isclose(value, unweighted)


def test_sum_and_per_pixel_reductions_are_mmsegs():
    logits, labels = logits_and_labels(ignored_fraction=0.3)
    loss = ClassWeightedCrossEntropyLoss(class_weight=CLASS_WEIGHT)
    pixel_losses = F.cross_entropy(
        logits,
        labels,
        weight=torch.tensor(CLASS_WEIGHT),
        ignore_index=IGNORE_INDEX,
        reduction='none')

    torch.testing.assert_close(
        loss(logits, labels, reduction_override='none',
             ignore_index=IGNORE_INDEX), pixel_losses)
    torch.testing.assert_close(
        loss(logits, labels, reduction_override='sum',
             ignore_index=IGNORE_INDEX), pixel_losses.sum())


@pytest.mark.parametrize(
    'setting', ['use_sigmoid', 'use_mask', 'avg_non_ignore'])
def test_refuses_what_it_does_not_average(setting):
    value = setting != 'avg_non_ignore'
    with pytest.raises(ValueError, match=f'{setting}={not value}'):
        ClassWeightedCrossEntropyLoss(
            class_weight=CLASS_WEIGHT, **{setting: value})
