"""Per-position adaptive exit: each feature position steps until its own
label settles or is confident.

The cells are 1x1 convolutions, so a position's recurrence never reads
another's. The running positions of a batch are rows of a matrix, each step
runs the cells on them as matrix products, and the positions that stop
leave the matrix, so later steps cost only the positions still running.
"""
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from ..layers.recurrent_state import RecurrentState
from .step_loop import EagerSteps, StopRule, run_until


class PositionExitRule(StopRule):
    """Says after each step which of the running positions stop, for one
    run: after ``min_steps``, a position stops once its label (the argmax
    of its canvas) has not changed for ``settle_steps`` steps, or once its
    top softmax probability reaches ``confidence`` (either, of those set).

    Args:
        min_steps (int): Steps every position runs.
        settle_steps (int, optional): Steps without a change of label.
        confidence (float, optional): Top softmax probability.
    """

    def __init__(self, min_steps: int, settle_steps: Optional[int],
                 confidence: Optional[float]) -> None:
        self.min_steps = min_steps
        self.settle_steps = settle_steps
        self.confidence = confidence
        self.labels: Optional[Tensor] = None
        self.unchanged: Optional[Tensor] = None

    def __call__(self, step: int, canvas: Tensor) -> Union[bool, Tensor]:
        """Which positions stop after ``step``, from their canvas rows
        (P, num_classes): a (P, ) bool tensor."""
        labels = canvas.argmax(dim=1)
        if self.labels is None:
            unchanged = torch.zeros_like(labels)
        else:
            unchanged = (self.unchanged + 1) * (labels == self.labels)
        stops = torch.zeros_like(labels, dtype=torch.bool)
        if step >= self.min_steps:
            if self.settle_steps is not None:
                stops |= unchanged >= self.settle_steps
            if self.confidence is not None:
                stops |= canvas.softmax(dim=1).amax(dim=1) >= self.confidence
        keep = ~stops
        self.labels, self.unchanged = labels[keep], unchanged[keep]
        return stops


def advance_positions(
        head,
        features: Tensor,
        max_steps: int,
        exit_rule: StopRule,
        state: Optional[RecurrentState] = None,
        runs: Optional[Tensor] = None) -> Tuple[RecurrentState, Tensor]:
    """Steps the feature positions where ``runs`` is True from ``state``
    until ``exit_rule`` stops each, all of them at ``max_steps``; the other
    positions keep their state. A stopped position keeps its state: that of
    a dense run after its exit step.

    Args:
        head (ConvLSTMCanvasHead): A head of 1x1 cells.
        features (Tensor): What the recurrence reads (N, C, h, w).
        max_steps (int): Steps after which every position stops.
        exit_rule (StopRule): Which running positions stop after each step
            (e.g. :class:`PositionExitRule`), from their state as rows.
        state (RecurrentState, optional): Where to start, every tensor given
            (as a video frame leaves it); None for zeros.
        runs (Tensor, optional): (N, h, w) bool, the positions that step;
            None for all. Needs ``state``.

    Returns:
        tuple[RecurrentState, Tensor]: The state of every position when it
        stopped (tensors (N, channels, h, w)) and the steps it ran (N, h, w),
        int64: 0 where it did not run.
    """
    check_positions_independent(head)
    shape = (features.shape[0], *features.shape[2:])
    rows = to_rows(features)
    final = entries = None
    if state is not None:
        final = RecurrentState.from_tensors(
            [to_rows(tensor) for tensor in state.tensors()])
    if runs is not None:
        if state is None:
            raise ValueError('only some positions can step from a state that '
                             'every position has, not from zeros (None)')
        if tuple(runs.shape) != shape:
            raise ValueError(f'runs must be {shape} (one flag per feature '
                             f'position), got {tuple(runs.shape)}')
        entries = runs.flatten().nonzero().squeeze(1)
        rows = rows[entries]
    start = None if final is None else final.select(
        slice(None) if entries is None else entries)
    if len(rows) == 0:
        exit_steps = torch.zeros(
            len(final.canvas), dtype=torch.long, device=features.device)
        return _as_maps(final, shape), exit_steps.view(shape)
    run = run_until(
        EagerSteps(head, rows, start, rows=True),
        max_steps,
        exit_rule,
        final=final,
        entries=entries)
    return _as_maps(run.state, shape), run.exit_steps.view(shape)


def run_until_positions_settle(head, features: Tensor, max_steps: int,
                               exit_rule: StopRule) -> Tuple[Tensor, Tensor]:
    """Steps every feature position from zeros until ``exit_rule`` stops
    it (see :func:`advance_positions`); returns the canvas of every position
    when it stopped (N, num_classes, h, w) and its steps (N, h, w)."""
    state, exit_steps = advance_positions(head, features, max_steps, exit_rule)
    return state.canvas.contiguous(), exit_steps


def check_positions_independent(head) -> None:
    """Refuses cells whose convolutions read neighbouring positions:
    per-position exit would then change the result."""
    if head.kernel_size != 1:
        raise ValueError(
            'model.test_cfg.adaptive_exit.per_position=True runs every '
            'feature position on its own, but model.decode_head.'
            f'kernel_size={head.kernel_size} makes each step read the '
            'neighbouring positions: use a head with kernel_size=1, or '
            'per-image exit (per_position=False)')


def to_rows(tensor: Tensor) -> Tensor:
    """A copy of a map (N, C, h, w) as rows (N x h x w, C), position by
    position."""
    rows = tensor.new_empty(tensor.shape[0], *tensor.shape[2:],
                            tensor.shape[1])
    rows.copy_(tensor.permute(0, 2, 3, 1))
    return rows.view(-1, tensor.shape[1])


def _as_maps(state: RecurrentState, shape: Tuple[int, ...]) -> RecurrentState:
    """A state of rows as maps (N, channels, h, w)."""
    return RecurrentState.from_tensors([
        tensor.view(*shape, -1).permute(0, 3, 1, 2)
        for tensor in state.tensors()
    ])
