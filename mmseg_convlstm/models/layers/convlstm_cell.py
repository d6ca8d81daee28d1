"""The convolutional LSTM cell and its equations, written once."""
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .recurrent_state import LSTMState

Pointwise = Callable[[Tensor, Tensor, Tensor, float], LSTMState]


def lstm_pointwise(input_projection: Tensor, recurrent_projection: Tensor,
                   c_prev: Tensor, forget_bias: float) -> LSTMState:
    """Equations (1)-(6) of the paper, the element-wise part of a step:
    ``i, f, o = sigmoid(.)``, ``c_in = tanh(.)``,
    ``c = sigmoid(f + forget_bias) * c_prev + i * c_in``, ``h = o * tanh(c)``,
    each pre-activation being ``input_projection + recurrent_projection``.
    ``c`` accumulates in ``c_prev``'s dtype (see :func:`state_dtype`).
    Returns the new ``(h, c)``."""
    i, f, c_in, o = (input_projection + recurrent_projection).chunk(4, dim=1)
    c = (
        torch.sigmoid(f + forget_bias) * c_prev +
        (torch.sigmoid(i) * torch.tanh(c_in)).to(c_prev.dtype))
    return torch.sigmoid(o) * torch.tanh(c), c


def state_dtype(x: Tensor) -> torch.dtype:
    """The dtype in which the cell states and the canvas of a recurrence on
    ``x`` accumulate: float32 under autocast (whose lower precision would
    quantise them step after step), else ``x``'s own.

    Args:
        x (Tensor): The features or input projection of the recurrence.

    Returns:
        torch.dtype: The dtype of ``c`` and of the canvas.
    """
    if torch.is_autocast_enabled(x.device.type):
        return torch.promote_types(x.dtype, torch.float32)
    return x.dtype


def conv_as_rows(conv: nn.Conv2d, rows: Tensor) -> Tensor:
    """A 1x1 convolution of feature positions given as rows: (P, C) to
    (P, out_channels), one matrix product."""
    return F.linear(rows, conv.weight.flatten(1), conv.bias)


@MODELS.register_module()
class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell: :func:`lstm_pointwise` on the pre-activations
    ``input_conv(x) + hidden_conv(h_prev)``.

    The input and the recurrent convolutions are separate modules so that the
    input projection of a still image can be computed once and reused at every
    recurrent step (see :meth:`project_input` and :meth:`step`). A 1x1 cell
    also steps feature positions given as rows (P, C), its convolutions then
    being matrix products (``rows=True``).

    Args:
        in_channels (int): Channels of the input ``x``.
        hidden_channels (int): Channels of ``h`` and ``c``.
        kernel_size (int): Odd kernel size of both convolutions, padded SAME
            with zeros. Default: 1.
        forget_bias (float): Offset added to the forget gate pre-activation.
            Default: 1.0.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 1,
                 forget_bias: float = 1.0) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(
                f'kernel_size must be odd for SAME padding, got {kernel_size}')
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.forget_bias = forget_bias
        padding = kernel_size // 2
        self.input_conv = nn.Conv2d(
            in_channels, 4 * hidden_channels, kernel_size, padding=padding)
        self.hidden_conv = nn.Conv2d(
            hidden_channels,
            4 * hidden_channels,
            kernel_size,
            padding=padding,
            bias=False)

    def project_input(self, x: Tensor, rows: bool = False) -> Tensor:
        """The input convolution ``W_x * x + b`` of all four gates."""
        return conv_as_rows(self.input_conv, x) if rows else self.input_conv(x)

    def step(self,
             input_projection: Tensor,
             state: Optional[LSTMState] = None,
             rows: bool = False,
             pointwise: Pointwise = lstm_pointwise) -> LSTMState:
        """One recurrent update from a precomputed input projection.

        Args:
            input_projection (Tensor): Output of :meth:`project_input`.
            state (tuple[Tensor, Tensor], optional): ``(h, c)`` of the
                previous step; None means zeros, whose recurrent convolution
                is skipped (it is zero).
            rows (bool): The tensors are positions as rows (P, channels).
                Default: False (maps (N, channels, h, w)).
            pointwise (callable): :func:`lstm_pointwise` or a compiled
                version of it.

        Returns:
            tuple[Tensor, Tensor]: The new ``(h, c)``.
        """
        if state is None:
            zero = input_projection.new_zeros(
                (), dtype=state_dtype(input_projection))
            return pointwise(input_projection,
                             self._zero_state_projection(input_projection),
                             zero, self.forget_bias)
        recurrent = (
            conv_as_rows(self.hidden_conv, state[0])
            if rows else self.hidden_conv(state[0]))
        return pointwise(input_projection, recurrent, state[1],
                         self.forget_bias)

    def _zero_state_projection(self, input_projection: Tensor) -> Tensor:
        if not self.training:
            return input_projection.new_zeros(())
        # The recurrent convolution of a zero state is zero, but it must
        # take part in the training graph so that DDP sees every parameter.
        return self.hidden_conv(
            input_projection.new_zeros(input_projection.shape[0],
                                       self.hidden_channels,
                                       *input_projection.shape[2:]))

    def forward(self,
                x: Tensor,
                state: Optional[LSTMState] = None) -> LSTMState:
        """Returns ``(h, c)`` after one step on input ``x``."""
        return self.step(self.project_input(x), state)
