"""The element-wise part of a cell step compiled by ``torch.compile``."""
from functools import lru_cache

import torch
from torch import Tensor
from torch._dynamo.decorators import mark_unbacked

from ..layers.convlstm_cell import Pointwise, lstm_pointwise
from ..layers.recurrent_state import LSTMState


@lru_cache(maxsize=None)
def fused_lstm_pointwise() -> Pointwise:
    """:func:`~..layers.convlstm_cell.lstm_pointwise` compiled by
    ``torch.compile`` (inductor), which fuses its element-wise kernels into
    few.

    Its shapes are dynamic, and the batch and spatial dimensions unbacked
    (Dynamo assumes nothing of their sizes: not that they differ from 1,
    nor that equal sizes stay equal), so one compilation serves every cell,
    batch (a batch of 1 in validation, the shrinking batch of adaptive
    exit) and spatial size. Dynamo compiles it again only for what changes
    the code: the grad mode, whether ``c_prev`` needs a gradient (the first
    training step's zeros do not), and dtypes (autocast). Training,
    validation and adaptive exit thus make 3 compilations, well under
    Dynamo's recompile limit (8), past which it would run eagerly. It needs
    a state given as tensors (see
    :meth:`~..decode_heads.ConvLSTMCanvasHead.dense_state`).
    """
    compiled = torch.compile(lstm_pointwise, dynamic=True)

    def fused(input_projection: Tensor, recurrent_projection: Tensor,
              c_prev: Tensor, forget_bias: float) -> LSTMState:
        for tensor in (input_projection, recurrent_projection, c_prev):
            mark_unbacked(tensor, [0, 2, 3])
        return compiled(input_projection, recurrent_projection, c_prev,
                        forget_bias)

    return fused
