"""Bilinear resizing written as two matrix products.

``F.interpolate(mode='bilinear')`` is separable: each output row mixes two
input rows and each output column two input columns. Written as
``rows @ x @ columns.T`` it gives the same values (to rounding), and its
backward is two matrix products too, where the backward of
``upsample_bilinear2d`` is a scatter that dominates the per-step losses of
:class:`ConvLSTMCanvasHead` in training.
"""
from functools import lru_cache
from typing import Tuple

import torch
from torch import Tensor


@lru_cache(maxsize=64)
def bilinear_matrix(in_size: int, out_size: int, align_corners: bool,
                    dtype: torch.dtype, device: torch.device) -> Tensor:
    """The (out_size, in_size) matrix of 1-D linear interpolation, with the
    source coordinates of ``F.interpolate`` (``scale_factor`` unset).

    Built once per arguments (in float64 on the CPU, then copied) and kept
    for the 64 most recent ones, so that a training iteration reuses the
    matrices of the last instead of waiting for a copy from the CPU. The
    matrix is shared by every caller and must not be changed in place; it
    is a normal tensor even when first asked for in inference mode.

    Args:
        in_size (int): Input length.
        out_size (int): Output length.
        align_corners (bool): As in ``F.interpolate``.
        dtype (torch.dtype): Dtype of the matrix.
        device (torch.device): Device of the matrix.

    Returns:
        Tensor: Row ``i`` holds the weights of output ``i`` on the inputs.
    """
    with torch.inference_mode(False):
        return _bilinear_matrix(in_size, out_size, align_corners).to(
            device=device, dtype=dtype)


def _bilinear_matrix(in_size: int, out_size: int,
                     align_corners: bool) -> Tensor:
    positions = torch.arange(out_size, dtype=torch.float64)
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        source = positions * scale
    else:
        source = ((positions + 0.5) * (in_size / out_size) - 0.5).clamp(min=0)
    lower = source.floor().long().clamp(max=in_size - 1)
    upper = (lower + 1).clamp(max=in_size - 1)
    upper_weight = source - lower
    matrix = torch.zeros(out_size, in_size, dtype=torch.float64)
    rows = torch.arange(out_size)
    matrix.index_put_((rows, lower), 1 - upper_weight, accumulate=True)
    matrix.index_put_((rows, upper), upper_weight, accumulate=True)
    return matrix


def interpolation_matrices(x: Tensor, size: Tuple[int, int],
                           align_corners: bool) -> Tuple[Tensor, Tensor]:
    """The row and column matrices (:func:`bilinear_matrix`) that resize
    ``x`` (..., h, w) to ``size``, in the dtype autocast gives a matrix
    product of ``x`` (``x``'s own without autocast)."""
    dtype = x.dtype
    if torch.is_autocast_enabled(x.device.type):
        dtype = torch.get_autocast_dtype(x.device.type)
    height, width = size
    return (bilinear_matrix(x.shape[-2], height, align_corners, dtype,
                            x.device),
            bilinear_matrix(x.shape[-1], width, align_corners, dtype,
                            x.device))


def resize_with(x: Tensor, rows: Tensor, columns: Tensor) -> Tensor:
    """``rows @ x @ columns.T`` in the matrices' dtype: ``x`` resized by
    :func:`interpolation_matrices`."""
    return torch.matmul(torch.matmul(rows, x.to(rows.dtype)), columns.t())


def separable_bilinear_resize(x: Tensor, size: Tuple[int, int],
                              align_corners: bool) -> Tensor:
    """``F.interpolate(x, size, mode='bilinear', align_corners=...)`` as
    two matrix products.

    Args:
        x (Tensor): Maps of shape (..., h, w).
        size (tuple[int, int]): Output (H, W).
        align_corners (bool): As in ``F.interpolate``.

    Returns:
        Tensor: Maps of shape (..., H, W).
    """
    return resize_with(x, *interpolation_matrices(x, size, align_corners))
