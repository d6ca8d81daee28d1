"""What the recurrence carries from one step, or video frame, to the next."""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor

LSTMState = Tuple[Tensor, Tensor]


class RecurrentState(NamedTuple):
    """The ``(h, c)`` of every cell, bottom to top, and the canvas.

    Before the first step a cell's state and the canvas may be None (zeros
    that the step does not need to read). Its tensors are batch-first: maps
    (N, channels, h, w), or rows (P, channels) of feature positions.

    The order of :meth:`tensors` is the one contract every flat view of a
    state follows (CUDA-graph static tensors, per-position rows, MAC
    counters, exported graphs): ``h`` then ``c`` of each cell, bottom to
    top, then the canvas.
    """
    lstm: List[Optional[LSTMState]]
    canvas: Optional[Tensor]

    def tensors(self) -> List[Tensor]:
        """The state's tensors in the documented order (every one given)."""
        return [tensor for cell in self.lstm
                for tensor in cell] + [self.canvas]

    @classmethod
    def from_tensors(cls, tensors: Sequence[Tensor]) -> 'RecurrentState':
        """The state whose :meth:`tensors` are ``tensors``."""
        cells = tensors[:-1]
        return cls([(cells[index], cells[index + 1])
                    for index in range(0, len(cells), 2)], tensors[-1])

    def filled(self, like: Tensor, hidden_channels: Sequence[int],
               canvas_channels: int, dtype: torch.dtype) -> 'RecurrentState':
        """This state with zero tensors of ``dtype``, of the batch and
        spatial size of ``like`` (N, C, h, w), where it has None."""

        def zeros(channels: int) -> Tensor:
            return like.new_zeros(
                like.shape[0], channels, *like.shape[2:], dtype=dtype)

        lstm = [
            cell if cell is not None else (zeros(channels), zeros(channels))
            for cell, channels in zip(self.lstm, hidden_channels)
        ]
        canvas = self.canvas if self.canvas is not None else zeros(
            canvas_channels)
        return RecurrentState(lstm, canvas)

    def select(self, keep: Tensor) -> 'RecurrentState':
        """The state of the batch entries (images or rows) ``keep`` indexes
        (a bool mask or indices along the first dimension)."""
        lstm = [
            None if cell is None else (cell[0][keep], cell[1][keep])
            for cell in self.lstm
        ]
        canvas = None if self.canvas is None else self.canvas[keep]
        return RecurrentState(lstm, canvas)


def decay_canvas(state: RecurrentState,
                 canvas_decay: float,
                 cold_canvas: Optional[Tensor] = None) -> RecurrentState:
    """The state a new video frame starts from: the LSTM states of
    ``state``, and its canvas blended with the new frame's ``cold_canvas``
    (the canvas a cold start on the frame would start from; None: zero):
    ``canvas_decay * canvas + (1 - canvas_decay) * cold_canvas``. 1 keeps
    the carried canvas; 0 starts the frame's first step from its cold
    canvas (an empty one without ``cold_canvas``)."""
    if canvas_decay == 1:
        return state
    if cold_canvas is None:
        canvas = None if canvas_decay == 0 else canvas_decay * state.canvas
    else:
        canvas = torch.lerp(cold_canvas, state.canvas, canvas_decay)
    return RecurrentState(state.lstm, canvas)
