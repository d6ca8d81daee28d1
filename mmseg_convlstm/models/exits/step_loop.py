"""The one loop of inference: run recurrent steps until a rule says stop.

Every way of choosing the steps (fixed T, a time budget, per-image and
per-position exit, CUDA-graph replay, video) runs :func:`run_until` with
what steps (a :class:`StepRunner`) and when to stop (a :class:`StopRule`).
"""
from dataclasses import dataclass
from typing import List, Optional, Union

import torch
from torch import Tensor

from ..layers.recurrent_state import RecurrentState
from .exit_settings import check_num_steps


class StepRunner:
    """Runs the steps of a batch whose entries (images, or positions as
    rows) may leave it.

    ``batch_size`` is the size of the batch it started with.
    """
    batch_size: int

    def step(self) -> RecurrentState:
        """Runs one step of the running entries and returns their state."""
        raise NotImplementedError

    def keep(self, keep: Tensor) -> None:
        """Drops the running entries where ``keep`` (bool, one per running
        entry) is False."""
        raise NotImplementedError(
            f'{type(self).__name__} runs the same steps for the whole batch')


class EagerSteps(StepRunner):
    """Steps of a :class:`~..decode_heads.ConvLSTMCanvasHead` run eagerly
    from ``state``; the bottom cell's input projection is computed now,
    once (so that a clock started next times the steps alone).

    Args:
        head (ConvLSTMCanvasHead): The head.
        inputs (Tensor): What the recurrence reads: (N, C, h, w) maps, or
            (P, C) rows with ``rows``.
        state (RecurrentState, optional): Where to start; None for zeros.
        rows (bool): ``inputs`` and the state are positions as rows.
    """

    def __init__(self,
                 head,
                 inputs: Tensor,
                 state: Optional[RecurrentState] = None,
                 rows: bool = False) -> None:
        self.head = head
        self.rows = rows
        self.batch_size = inputs.shape[0]
        self.projection = head.bottom_projection(inputs, rows)
        self.inputs = None if self.projection is not None else inputs
        self.state = head.start_state(inputs, state, rows)

    def step(self) -> RecurrentState:
        self.state = self.head.step(self.inputs, self.projection, self.state,
                                    self.rows)
        return self.state

    def keep(self, keep: Tensor) -> None:
        self.state = self.state.select(keep)
        self.inputs = _select(self.inputs, keep)
        self.projection = _select(self.projection, keep)


class StopRule:
    """Says after each step (its number, from 1) which running entries
    stop, from their canvas: True (all), False (none) or a bool tensor with
    one flag per running entry, in the order the runner keeps them. Entries
    that stop leave, so a rule that keeps per-entry history must drop
    theirs. Any callable ``(step, canvas)`` is a rule; :meth:`start`, where
    a rule has it, is called just before the first step."""

    def start(self) -> None:
        """Called just before the first step."""

    def __call__(self, step: int, canvas: Tensor) -> Union[bool, Tensor]:
        return False


Never = StopRule
"""The rule of a fixed number of steps."""


@dataclass
class StepsRun:
    """What :func:`run_until` gives.

    Args:
        state (RecurrentState): Every entry's state when it stopped.
        exit_steps (Tensor): The steps each entry ran (batch_size, ), int64.
        steps_run (int): The most steps any entry ran.
        canvases (list[Tensor]): The canvas of every step with
            ``keep_all`` (the whole batch stepping together), else empty.
    """
    state: RecurrentState
    exit_steps: Tensor
    steps_run: int
    canvases: List[Tensor]


def run_until(runner: StepRunner,
              max_steps: int,
              rule: StopRule = Never(),
              keep_all: bool = False,
              final: Optional[RecurrentState] = None,
              entries: Optional[Tensor] = None,
              key: str = 'max_steps') -> StepsRun:
    """Runs steps of ``runner`` until ``rule`` stops every entry, every one
    stopping at ``max_steps``; an entry that stops keeps the state of that
    step.

    Args:
        runner (StepRunner): What steps.
        max_steps (int): Most steps, at least 1.
        rule (StopRule): When entries stop. Default: never before
            ``max_steps``.
        keep_all (bool): Keep every step's canvas. Default: False.
        final (RecurrentState, optional): The state of a larger batch into
            which the runner's entries are written when they stop (the
            entries that do not run keep theirs); None for the runner's
            batch alone.
        entries (Tensor, optional): The indices in ``final`` of the
            runner's entries; needs ``final``.
        key (str): The setting ``max_steps`` comes from, named in the
            error when it is below 1. Default: ``'max_steps'``.

    Returns:
        StepsRun: The state of every entry when it stopped, and its steps.
    """
    check_num_steps(max_steps, key)
    stopped = _Stopped(final, entries, runner.batch_size)
    canvases = []
    if isinstance(rule, StopRule):
        rule.start()
    for step in range(1, max_steps + 1):
        state = runner.step()
        if keep_all:
            canvases.append(state.canvas)
        stops = True if step == max_steps else rule(step, state.canvas)
        if isinstance(stops, Tensor):
            if not stops.any():
                continue
            if stops.all():
                stops = True
        if stops is True:
            stopped.write_all(state, step)
            break
        if stops is not False:
            stopped.write(state, stops, step)
            runner.keep(~stops)
    return StepsRun(stopped.result(), stopped.exit_steps, step, canvases)


class _Stopped:
    """The states of the entries that stopped, written into the batch.

    Args:
        final (RecurrentState, optional): The batch to write into; None
            for the runner's own batch.
        entries (Tensor, optional): The indices in ``final`` of the
            runner's entries; None for all, in order.
        batch_size (int): The runner's batch size.
    """

    def __init__(self, final: Optional[RecurrentState],
                 entries: Optional[Tensor], batch_size: int) -> None:
        self.tensors = None if final is None else final.tensors()
        self.size = batch_size if final is None else len(final.canvas)
        self.running = entries
        self.whole: Optional[RecurrentState] = None
        self.exit_steps: Optional[Tensor] = None

    def write(self, state: RecurrentState, stops: Tensor, step: int) -> None:
        """Keeps the state of the running entries where ``stops``."""
        running = self._running(stops.device)
        self._write_rows(running[stops], state.select(stops), step)
        self.running = running[~stops]

    def write_all(self, state: RecurrentState, step: int) -> None:
        """Keeps the state of every running entry."""
        if self.tensors is None:
            # The whole batch stops together: its state is the result.
            self.whole = state
            self.exit_steps = torch.full((self.size, ),
                                         step,
                                         dtype=torch.long,
                                         device=state.canvas.device)
            return
        self._write_rows(self._running(state.canvas.device), state, step)

    def _running(self, device: torch.device) -> Tensor:
        if self.running is None:
            self.running = torch.arange(self.size, device=device)
        return self.running

    def _write_rows(self, rows: Tensor, state: RecurrentState,
                    step: int) -> None:
        if self.tensors is None:
            self.tensors = [
                tensor.new_empty(self.size, *tensor.shape[1:])
                for tensor in state.tensors()
            ]
        if self.exit_steps is None:
            self.exit_steps = torch.zeros(
                self.size, dtype=torch.long, device=rows.device)
        for tensor, new in zip(self.tensors, state.tensors()):
            tensor[rows] = new
        self.exit_steps[rows] = step

    def result(self) -> RecurrentState:
        if self.whole is not None:
            return self.whole
        return RecurrentState.from_tensors(self.tensors)


def _select(tensor: Optional[Tensor], keep: Tensor) -> Optional[Tensor]:
    return None if tensor is None else tensor[keep]
