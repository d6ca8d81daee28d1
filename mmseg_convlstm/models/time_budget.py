"""Running recurrent steps within a time budget."""
import time
from numbers import Real
from typing import Callable, Iterator, List, Optional, Tuple, TypeVar

import torch

Clock = Callable[[torch.device], float]
"""A function of the device that returns milliseconds on a monotonic clock
once the work queued on the device has finished."""
StepResult = TypeVar('StepResult')


def device_time_ms(device: torch.device) -> float:
    """Milliseconds on a monotonic clock once the work queued on ``device``
    has finished (CUDA is synchronised first)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() * 1e3


def check_num_steps(num_steps: object, key: str) -> int:
    """``num_steps`` as an int, or a ValueError naming ``key`` unless it is
    an integer of at least 1.

    Args:
        num_steps (object): The configured number of steps.
        key (str): The setting it comes from, named in the error (e.g.
            ``'model.test_cfg.num_steps'``).

    Returns:
        int: ``num_steps``.
    """
    if (not isinstance(num_steps, int) or isinstance(num_steps, bool)
            or num_steps < 1):
        raise ValueError(f'{key} must be an integer of at least 1 (steps '
                         f'are counted from 1), got {num_steps!r}')
    return num_steps


def check_time_budget(budget_ms: object, key: str) -> float:
    """``budget_ms`` as a float, or a ValueError naming ``key`` unless it is
    a positive number."""
    if (not isinstance(budget_ms, Real) or isinstance(budget_ms, bool)
            or not budget_ms > 0):
        raise ValueError(f'{key} must be a positive number of milliseconds, '
                         f'got {budget_ms!r}')
    return float(budget_ms)


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


def take_steps(steps: Iterator[StepResult],
               max_steps: int,
               budget: Optional[TimeBudget] = None,
               keep_all: bool = False,
               key: str = 'max_steps') -> Tuple[List[StepResult], int]:
    """Runs steps from ``steps`` (each runs when asked for): ``max_steps``,
    or fewer when ``budget`` says the next one does not fit, at least one.

    Args:
        steps (Iterator): The result of each step, computed on request.
        max_steps (int): Most steps to run, at least 1.
        budget (TimeBudget, optional): When to stop early; None never.
        keep_all (bool): Whether to return every step's result or only the
            last one's. Default: False.
        key (str): The setting ``max_steps`` comes from, named in the error
            when it is below 1. Default: ``'max_steps'``.

    Returns:
        tuple[list, int]: The results kept and the number of steps run.
    """
    check_num_steps(max_steps, key)
    if budget is not None:
        budget.start_steps()
    kept = []
    for steps_run in range(1, max_steps + 1):
        result = next(steps)
        kept = [*kept, result] if keep_all else [result]
        if steps_run == max_steps or (budget is not None
                                      and not budget.next_step_fits()):
            break
    return kept, steps_run
