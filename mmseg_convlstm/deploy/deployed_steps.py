"""The step runner of a deployed model, whose state lives in buffers reused
from step to step."""
from typing import List, Optional

from torch import Tensor

from ..models.exits.step_loop import EagerSteps
from ..models.layers.recurrent_state import RecurrentState


class DeployedSteps(EagerSteps):
    """:class:`EagerSteps` of a :class:`~.deployed_head.DeployedHead` whose
    steps write the LSTM states into two sets of buffers in turn (each
    step reads one and writes the other), bound to the graph's outputs: no
    allocation or copy per step. The canvas gets a new tensor every step,
    since the step loop may keep every step's canvas.

    Args:
        head (DeployedHead): The head.
        inputs (Tensor): The features the prologue gave.
        state (RecurrentState, optional): Where to start; None for a cold
            start.
    """

    def __init__(self,
                 head,
                 inputs: Tensor,
                 state: Optional[RecurrentState] = None) -> None:
        super().__init__(head, inputs, state)
        self._buffers: List[List[Tensor]] = []

    def step(self) -> RecurrentState:
        self.state = self.head.step(self.inputs, self.projection, self.state,
                                    self.rows, self._outputs())
        return self.state

    def keep(self, keep: Tensor) -> None:
        super().keep(keep)
        self._buffers = []

    def _outputs(self) -> List[Tensor]:
        if not self._buffers:
            self._buffers = [
                self.head.state_buffers(self.projection)[:-1] for _ in range(2)
            ]
        self._buffers.reverse()
        canvas = self.projection.new_empty(self.projection.shape[0],
                                           self.head.out_channels,
                                           *self.projection.shape[2:])
        return self._buffers[0] + [canvas]
