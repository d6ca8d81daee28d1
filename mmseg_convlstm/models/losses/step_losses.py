"""The losses of :class:`ConvLSTMCanvasHead` on the canvas after every
training step, without the full-resolution overhead of calling MMSeg's
``loss_by_feat`` once per step.

``loss_by_feat`` upsamples a canvas to the labels with ``F.interpolate``,
keeps the log-softmax of all classes at full resolution for the backward
pass, and computes the accuracy (a top-k) every time. Here each step's
softmax cross-entropy is :func:`upsampled_cross_entropy` (upsampling by
matrix products, one log-sum-exp per pixel kept), the pixel losses are
shared by every cross-entropy term (each weighing them by its class
weights, if any), other losses see the canvas upsampled by the same matrix
products, and the accuracy is computed for the last step only. Values and
gradients equal those of ``loss_by_feat`` at every step. Steps are
evaluated one after the other: concatenating them into one tensor was
slower on the CPU and raises the peak memory.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmseg.models.losses import CrossEntropyLoss, accuracy
from mmseg.utils import SampleList
from .class_weighted_cross_entropy import ClassWeightedCrossEntropyLoss
from .separable_resize import interpolation_matrices, resize_with
from .upsampled_cross_entropy import (cross_entropy_targets,
                                      upsampled_cross_entropy)

StepLosses = List[Dict[str, Tensor]]


def weighted_loss_sum(
    tagged_terms: Sequence[Tuple[str, float, Dict[str, Tensor]]]
) -> Dict[str, Tensor]:
    """Sums loss terms over steps (or frames) with their weights.

    Args:
        tagged_terms (Sequence[tuple]): For each step, a tag (e.g.
            ``'step3'``), its weight and its loss terms by name.

    Returns:
        dict[str, Tensor]: Each term's weighted sum under its name, and its
        unweighted value at each step, detached, as ``<name>_<tag>`` with
        ``loss_`` left out of the name (``ce_step3``), for the log.
    """
    losses = dict()
    for tag, weight, terms in tagged_terms:
        for name, value in terms.items():
            losses[name] = losses.get(name, 0) + weight * value
            short_name = name.replace('loss_', '', 1)
            losses[f'{short_name}_{tag}'] = value.detach()
    return losses


def loss_modules(head: nn.Module) -> List[nn.Module]:
    """The loss modules of ``head.loss_decode``, as a list."""
    if isinstance(head.loss_decode, nn.ModuleList):
        return list(head.loss_decode)
    return [head.loss_decode]


def step_loss_fallback(head: nn.Module) -> Optional[str]:
    """Why ``head`` computes its step losses with ``loss_by_feat``, naming
    the config key, or None when :func:`fast_step_losses` applies."""
    if not head.step_loss_fast_path:
        return 'model.decode_head.step_loss_fast_path is False'
    if head.sampler is not None:
        return ('a pixel sampler (model.decode_head.sampler) weighs the '
                'pixels of each step from that step\'s logits')
    return None


def canvas_losses(head: nn.Module, canvases: List[Tensor],
                  batch_data_samples: SampleList) -> Tuple[StepLosses, Tensor]:
    """The unweighted loss terms of each canvas of ``head`` against the
    labels of ``batch_data_samples``, and the accuracy of the last canvas:
    :func:`fast_step_losses`, or the head's ``loss_by_feat`` per canvas when
    :func:`step_loss_fallback` names a reason."""
    if step_loss_fallback(head) is None:
        return fast_step_losses(head, canvases, batch_data_samples)
    step_losses = [
        head.loss_by_feat(canvas, batch_data_samples) for canvas in canvases
    ]
    accuracies = [losses.pop('acc_seg') for losses in step_losses]
    return step_losses, accuracies[-1]


def uses_upsampled_cross_entropy(loss: nn.Module) -> bool:
    """Whether ``loss`` is a softmax cross-entropy that
    :func:`fast_step_losses` computes with :func:`upsampled_cross_entropy`
    (the others get the upsampled canvas)."""
    return (type(loss) in (CrossEntropyLoss, ClassWeightedCrossEntropyLoss)
            and not loss.use_sigmoid
            and not loss.use_mask and loss.reduction == 'mean')


def fast_step_losses(
        head: nn.Module, canvases: List[Tensor],
        batch_data_samples: SampleList) -> Tuple[StepLosses, Tensor]:
    """The loss terms on the canvas after every step, and the accuracy of
    the last step.

    Args:
        head (nn.Module): The :class:`ConvLSTMCanvasHead`.
        canvases (list[Tensor]): The canvas after each step, each of shape
            (N, num_classes, h, w).
        batch_data_samples (list[SegDataSample]): The labels.

    Returns:
        tuple: For each step a dict of its loss terms (named as by
        ``loss_by_feat``), and the accuracy of the last step.
    """
    seg_label = head._stack_batch_gt(batch_data_samples).squeeze(1)
    targets = cross_entropy_targets(seg_label, head.ignore_index)
    matrices = interpolation_matrices(canvases[0], seg_label.shape[1:],
                                      head.align_corners)
    losses = loss_modules(head)
    # The pixel weights and divisor of each cross-entropy, shared by steps.
    reductions = [
        cross_entropy_reduction(loss, *targets, head.ignore_index)
        if uses_upsampled_cross_entropy(loss) else None for loss in losses
    ]
    return [
        _step_loss_terms(head, losses, reductions, canvas, seg_label, targets,
                         matrices) for canvas in canvases
    ], _last_step_accuracy(head, canvases[-1], seg_label, matrices)


def cross_entropy_reduction(
        loss: CrossEntropyLoss, targets: Tensor, valid: Tensor,
        ignore_index: int) -> Tuple[Optional[Tensor], Union[Tensor, int]]:
    """How MMSeg's ``cross_entropy`` (1.2.2, ``reduction='mean'``) reduces
    the per-pixel losses ``-log p(label)`` of ``loss``: the weight of each
    pixel and the divisor (``avg_factor``) of their weighted sum.

    Without class weights each pixel not ignored weighs 1 and the divisor
    is the number of pixels, or of the pixels not ignored when
    ``avg_non_ignore``. With ``class_weight`` (``w``) a pixel of label
    ``y`` weighs ``w[y]`` (0 where ignored) and the divisor is the sum of
    ``w[label]`` over the pixels not ignored when ``avg_non_ignore`` (then
    the value is ``F.cross_entropy(weight=w, reduction='mean')``'s), over
    all pixels otherwise, an ignored pixel counting ``w[ignore_index]``.

    MMSeg computes ``w[label]`` for every pixel before it zeroes the
    ignored ones, so it raises ``IndexError`` when a batch has an ignored
    pixel and ``ignore_index`` (e.g. 255) is no index of ``w``. Here the
    ignored pixels then weigh 0 in the divisor with ``avg_non_ignore`` (the
    value MMSeg's code means, PyTorch's weighted mean); without it, whose
    divisor would need ``w[255]``, a ``ValueError`` names the key to set.

    Args:
        loss (CrossEntropyLoss): A loss that
            :func:`uses_upsampled_cross_entropy`.
        targets (Tensor): Class of each pixel (N, 1, H, W), 0 where
            ignored (:func:`~.upsampled_cross_entropy.cross_entropy_targets`).
        valid (Tensor): Mask (N, H, W) of the pixels not ignored.
        ignore_index (int): The label of the ignored pixels.

    Returns:
        tuple: The pixel weights (N, H, W), None when each pixel not
        ignored weighs 1, and the divisor.
    """
    if loss.class_weight is None:
        # A tensor count, where MMSeg's .item() would wait for the device.
        return None, valid.sum() if loss.avg_non_ignore else valid.numel()
    class_weight = torch.as_tensor(
        loss.class_weight, dtype=torch.float32, device=targets.device)
    weights = class_weight[targets.squeeze(1)] * valid
    divisor = weights.sum()
    if not loss.avg_non_ignore:
        num_classes = class_weight.numel()
        if -num_classes <= ignore_index < num_classes:
            divisor = divisor + (~valid).sum() * class_weight[ignore_index]
        elif not bool(valid.all()):  # waits for the device, as MMSeg does
            raise ValueError(
                f'CrossEntropyLoss(class_weight=..., avg_non_ignore=False) '
                f'divides by the class weight of every pixel, ignored ones '
                f'included, and ignore_index={ignore_index} has no class '
                f'weight (MMSeg raises IndexError here): set '
                f'avg_non_ignore=True in model.decode_head.loss_decode to '
                f'average over the pixels not ignored.')
    return weights, divisor


def _step_loss_terms(head: nn.Module, losses: List[nn.Module],
                     reductions: List[Optional[tuple]], canvas: Tensor,
                     seg_label: Tensor, targets: Tuple[Tensor, Tensor],
                     matrices: Tuple[Tensor, Tensor]) -> Dict[str, Tensor]:
    """The loss terms of one step's canvas: one per-pixel cross-entropy for
    every loss that :func:`uses_upsampled_cross_entropy`, reduced by each
    with its :func:`cross_entropy_reduction`, and the other losses on the
    upsampled canvas."""
    pixel_losses, logits, terms = None, None, dict()
    for loss, reduction in zip(losses, reductions):
        if reduction is not None:
            if pixel_losses is None:
                pixel_losses = upsampled_cross_entropy(canvas, *targets,
                                                       *matrices)
            value = _reduce(loss, pixel_losses, *reduction)
        else:
            if logits is None:
                logits = resize_with(canvas, *matrices)
            value = loss(logits, seg_label, ignore_index=head.ignore_index)
        name = loss.loss_name
        terms[name] = terms[name] + value if name in terms else value
    return terms


def _reduce(loss: CrossEntropyLoss, pixel_losses: Tensor,
            weights: Optional[Tensor], divisor: Union[Tensor, int]) -> Tensor:
    """The per-pixel losses reduced as MMSeg's ``cross_entropy`` reduces
    them (:func:`cross_entropy_reduction`), times the loss weight."""
    if weights is not None:
        pixel_losses = pixel_losses * weights
    return loss.loss_weight * pixel_losses.sum() / (
        divisor + torch.finfo(torch.float32).eps)


def _last_step_accuracy(head: nn.Module, canvas: Tensor, seg_label: Tensor,
                        matrices: Tuple[Tensor, Tensor]) -> Tensor:
    with torch.no_grad():
        return accuracy(
            resize_with(canvas, *matrices),
            seg_label,
            ignore_index=head.ignore_index)
