"""Softmax cross-entropy of bilinearly upsampled logits, without keeping the
upsampled logits for the backward pass.

Autograd through ``upsample`` and ``cross_entropy`` keeps the log-softmax of
the upsampled logits, a full-resolution tensor of every class, until the
backward pass, and its upsampling backward is a scatter.
:class:`UpsampledCrossEntropy` keeps the low-resolution logits and one
log-sum-exp per pixel, upsamples again in the backward pass, and upsamples
in both passes with two matrix products (see
:func:`~.separable_resize.separable_bilinear_resize`).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .separable_resize import resize_with


class UpsampledCrossEntropy(torch.autograd.Function):
    """Per-pixel cross-entropy of logits upsampled by
    ``rows @ logits @ columns.T``.

    The products run in the matrices' dtype (half precision under mixed
    precision, see :func:`~.separable_resize.interpolation_matrices`), the
    softmax in fp32.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, targets: Tensor, valid: Tensor,
                rows: Tensor, columns: Tensor) -> Tensor:
        upsampled = resize_with(logits, rows, columns).float()
        log_sum_exp = torch.logsumexp(upsampled, dim=1)
        pixel_losses = (log_sum_exp -
                        upsampled.gather(1, targets).squeeze(1)) * valid
        ctx.save_for_backward(logits, log_sum_exp, targets, valid, rows,
                              columns)
        return pixel_losses

    @staticmethod
    def backward(ctx, pixel_gradients: Tensor) -> Tuple[Optional[Tensor], ...]:
        logits, log_sum_exp, targets, valid, rows, columns = ctx.saved_tensors
        upsampled = resize_with(logits, rows, columns).float()
        weights = (pixel_gradients * valid).unsqueeze(1)
        gradients = upsampled.sub_(log_sum_exp.unsqueeze(1)).exp_()
        # softmax - one_hot, by comparison rather than scatter_add_, which
        # has no deterministic CUDA kernel in every torch release.
        classes = torch.arange(
            gradients.shape[1], device=gradients.device).view(1, -1, 1, 1)
        gradients.sub_((classes == targets).float()).mul_(weights)
        logit_gradients = torch.matmul(
            torch.matmul(rows.t(), gradients.to(rows.dtype)), columns)
        return logit_gradients.to(logits.dtype), None, None, None, None


def cross_entropy_targets(labels: Tensor,
                          ignore_index: int) -> Tuple[Tensor, Tensor]:
    """The class index (N, 1, H, W) of every pixel of ``labels`` (N, H, W),
    0 where ignored, and the mask (N, H, W) of the pixels not ignored."""
    valid = labels != ignore_index
    return labels.masked_fill(~valid, 0).unsqueeze(1), valid


def upsampled_cross_entropy(logits: Tensor, targets: Tensor, valid: Tensor,
                            rows: Tensor, columns: Tensor) -> Tensor:
    """Per-pixel cross-entropy (N, H, W) of ``logits`` (N, C, h, w)
    upsampled by the matrices of
    :func:`~.separable_resize.interpolation_matrices`, against
    :func:`cross_entropy_targets`; 0 where ignored. Equals
    ``F.cross_entropy(F.interpolate(logits, mode='bilinear'), labels,
    reduction='none', ignore_index=...)`` in value and gradient."""
    return UpsampledCrossEntropy.apply(logits, targets, valid, rows, columns)
