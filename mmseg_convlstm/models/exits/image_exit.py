"""Per-image adaptive exit: an image stops once its labels settle."""
from typing import Optional, Tuple, Union

from torch import Tensor

from .exit_settings import check_image_exit
from .step_loop import EagerSteps, StopRule, run_until


class SettledImages(StopRule):
    """Stops an image after step ``t >= min_steps`` once the labels of its
    canvas (argmax over classes, at feature resolution, where the check
    costs next to nothing) differ from those after step ``t - 1`` on fewer
    than ``change_fraction`` of the positions.

    Args:
        min_steps (int): Steps every image runs, at least 2.
        change_fraction (float): Fraction of positions in [0, 1] whose label
            may still change when an image stops.
    """

    def __init__(self, min_steps: int, change_fraction: float) -> None:
        self.min_steps = min_steps
        self.change_fraction = change_fraction
        self.labels: Optional[Tensor] = None

    def __call__(self, step: int, canvas: Tensor) -> Union[bool, Tensor]:
        labels = canvas.argmax(dim=1)
        previous, self.labels = self.labels, labels
        if step < self.min_steps:
            return False
        changed = (labels != previous).flatten(1).float().mean(1)
        stops = changed < self.change_fraction
        self.labels = labels[~stops]
        return stops


def run_until_settled(head,
                      features: Tensor,
                      max_steps: int,
                      min_steps: int = 2,
                      change_fraction: float = 0.01) -> Tuple[Tensor, Tensor]:
    """Steps every image of ``features`` until its labels settle (see
    :class:`SettledImages`); stopped images leave the batch, so later steps
    cost only the images still running.

    Args:
        head (ConvLSTMCanvasHead): The head.
        features (Tensor): What the recurrence reads (N, C, h, w).
        max_steps (int): Steps after which every image stops.
        min_steps (int): Steps every image runs; at least 2, since the
            change is measured between two steps. Default: 2.
        change_fraction (float): Fraction of positions in [0, 1] whose label
            may still change when an image stops. Default: 0.01.

    Returns:
        tuple[Tensor, Tensor]: The canvas of every image when it stopped
        (N, num_classes, h, w) and the steps it ran (N, ), int64.
    """
    check_image_exit(max_steps, min_steps, change_fraction)
    run = run_until(
        EagerSteps(head, features), max_steps,
        SettledImages(min_steps, change_fraction))
    return run.state.canvas, run.exit_steps
