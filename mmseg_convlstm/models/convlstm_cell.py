from functools import lru_cache
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS

LSTMState = Tuple[Tensor, Tensor]


def lstm_pointwise(input_projection: Tensor, recurrent_projection: Tensor,
                   c_prev: Tensor, forget_bias: float) -> LSTMState:
    """The element-wise part of a step: the gates' sum, their
    nonlinearities and the cell update. Returns the new ``(h, c)``."""
    i, f, c_in, o = (input_projection + recurrent_projection).chunk(4, dim=1)
    c = (torch.sigmoid(i) * torch.tanh(c_in) +
         torch.sigmoid(f + forget_bias) * c_prev)
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


@lru_cache(maxsize=None)
def fused_lstm_pointwise() -> Callable[..., LSTMState]:
    """:func:`lstm_pointwise` compiled by ``torch.compile`` (inductor), which
    fuses its element-wise kernels into few.

    Its shapes are dynamic, and the batch and spatial dimensions unbacked
    (Dynamo assumes nothing of their sizes: not that they differ from 1,
    nor that equal sizes stay equal), so one compilation serves every cell,
    batch (a batch of 1 in validation, the shrinking batch of adaptive
    exit) and spatial size. Dynamo compiles it again only for what changes
    the code: the grad mode, whether ``c_prev`` needs a gradient (the first
    training step's zeros do not), and dtypes (autocast). Training,
    validation and adaptive exit thus make 3 compilations, well under
    Dynamo's recompile limit (8), past which it would run eagerly.
    """
    from torch._dynamo.decorators import mark_unbacked
    compiled = torch.compile(lstm_pointwise, dynamic=True)

    def fused(input_projection: Tensor, recurrent_projection: Tensor,
              c_prev: Tensor, forget_bias: float) -> LSTMState:
        for tensor in (input_projection, recurrent_projection, c_prev):
            mark_unbacked(tensor, [0, 2, 3])
        return compiled(input_projection, recurrent_projection, c_prev,
                        forget_bias)

    return fused


@MODELS.register_module()
class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell, equations (1)-(6) of the paper.

    ``i, f, o = sigmoid(.)``, ``c_in = tanh(.)``, ``c = f * c_prev + i * c_in``
    and ``h = o * tanh(c)``, where each pre-activation is
    ``input_conv(x) + hidden_conv(h_prev)`` and ``forget_bias`` is added
    inside the logistic of ``f``.

    The input and the recurrent convolutions are separate modules so that the
    input projection of a still image can be computed once and reused at every
    recurrent step (see :meth:`project_input` and :meth:`step`).

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

    def project_input(self, x: Tensor) -> Tensor:
        """The input convolution ``W_x * x + b`` of all four gates."""
        return self.input_conv(x)

    def step(self,
             input_projection: Tensor,
             state: Optional[LSTMState] = None) -> LSTMState:
        """One recurrent update from a precomputed input projection.

        Args:
            input_projection (Tensor): Output of :meth:`project_input`.
            state (tuple[Tensor, Tensor], optional): ``(h, c)`` of the
                previous step; None means zeros.

        Returns:
            tuple[Tensor, Tensor]: The new ``(h, c)``.
        """
        gates = input_projection
        if state is not None:
            gates = gates + self.hidden_conv(state[0])
        elif self.training:
            # The recurrent convolution of a zero state is zero, but it must
            # take part in the graph so that DDP sees every parameter used.
            gates = gates + self.hidden_conv(
                input_projection.new_zeros(
                    input_projection.shape[0], self.hidden_channels,
                    *input_projection.shape[2:]))
        i, f, c_in, o = gates.chunk(4, dim=1)
        c_in = torch.tanh(c_in)
        c = (torch.sigmoid(i) * c_in).to(state_dtype(input_projection))
        if state is not None:
            c = c + torch.sigmoid(f + self.forget_bias) * state[1]
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def dense_step(self,
                   input_projection: Tensor,
                   state: LSTMState,
                   fused: bool = False) -> LSTMState:
        """:meth:`step` from a state given as tensors (zeros at the start),
        without branches: the same operations at every step, as a captured
        CUDA graph or ``torch.compile`` need. From zeros it gives what
        :meth:`step` gives from None, with one more (zero) convolution.

        Args:
            input_projection (Tensor): Output of :meth:`project_input`.
            state (tuple[Tensor, Tensor]): ``(h, c)`` of the previous step.
            fused (bool): Run the element-wise part compiled
                (:func:`fused_lstm_pointwise`) instead of as separate
                PyTorch kernels. Default: False.

        Returns:
            tuple[Tensor, Tensor]: The new ``(h, c)``.
        """
        pointwise = fused_lstm_pointwise() if fused else lstm_pointwise
        return pointwise(input_projection, self.hidden_conv(state[0]),
                         state[1], self.forget_bias)

    def forward(self,
                x: Tensor,
                state: Optional[LSTMState] = None) -> LSTMState:
        """Returns ``(h, c)`` after one step on input ``x``."""
        return self.step(self.project_input(x), state)
