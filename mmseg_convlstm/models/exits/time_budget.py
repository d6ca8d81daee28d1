"""Running recurrent steps within a time budget."""
import time
from typing import Callable

import torch
from torch import Tensor

from .step_loop import StopRule

Clock = Callable[[torch.device], float]
"""A function of the device that returns milliseconds on a monotonic clock
once the work queued on the device has finished."""


def device_time_ms(device: torch.device) -> float:
    """Milliseconds on a monotonic clock once the work queued on ``device``
    has finished (CUDA is synchronised first)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() * 1e3


class TimeBudget:
    """Says after each recurrent step whether the next one fits in what is
    left of a budget: it is expected to take as long as the last one.

    The budget counts from the creation of this object (create it just
    before the backbone, after any untimed warm-up); the first step is
    timed from :meth:`start_steps`, which follows whatever runs once per
    image before the steps (the backbone, the bottom cell's input
    projection).

    Args:
        budget_ms (float): The budget in milliseconds, positive.
        device (torch.device): Where the steps run.
        clock (Clock): What reads the time. Default: :func:`device_time_ms`.
    """

    def __init__(self,
                 budget_ms: float,
                 device: torch.device,
                 clock: Clock = device_time_ms) -> None:
        self.budget_ms = budget_ms
        self.device = device
        self.clock = clock
        self.start = clock(device)
        self.last = self.start

    def start_steps(self) -> None:
        """Marks the start of the first step."""
        self.last = self.clock(self.device)

    def next_step_fits(self) -> bool:
        """Whether, after the step that has just run, the next one fits."""
        now = self.clock(self.device)
        fits = (now - self.start) + (now - self.last) <= self.budget_ms
        self.last = now
        return fits


class BudgetRule(StopRule):
    """Stops the whole batch when the next step does not fit in
    ``budget``.

    Args:
        budget (TimeBudget): The budget, started before the backbone.
    """

    def __init__(self, budget: TimeBudget) -> None:
        self.budget = budget

    def start(self) -> None:
        self.budget.start_steps()

    def __call__(self, step: int, canvas: Tensor) -> bool:
        return not self.budget.next_step_fits()
