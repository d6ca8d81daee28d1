"""When the recurrent steps of inference stop: one small policy per rule,
each with its ``test_cfg`` keys and their checks, chosen from ``test_cfg``
in one place (:func:`build_step_policy`).

- :class:`FixedSteps`: ``test_cfg.num_steps`` steps for every image.
- :class:`TimeBudgetSteps`: ``test_cfg.time_budget_ms``, the steps that fit.
- :class:`ImageExit`: ``test_cfg.adaptive_exit``, each image stops once its
  labels settle.
- :class:`PositionExit`: ``test_cfg.adaptive_exit=dict(per_position=True,
  ...)``, each feature position stops once its label settles or is
  confident.
- :class:`VideoPositionExit`: ``video_cfg.position_exit`` of
  :class:`~mmseg_convlstm.apis.RecurrentVideoInferencer`, per-position steps
  of a video frame from the carried state.
"""
from dataclasses import dataclass, field
from numbers import Real
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.utils import ConfigType
from ..layers.recurrent_state import RecurrentState
from .exit_settings import (check_position_exit, check_probability,
                            check_time_budget)
from .image_exit import run_until_settled
from .position_exit import (PositionExitRule, advance_positions,
                            run_until_positions_settle)
from .step_loop import Never, StepRunner, StopRule, run_until
from .time_budget import BudgetRule, TimeBudget

EXIT_KEY = 'model.test_cfg.adaptive_exit'


@dataclass
class StepRun:
    """What a policy's run of the steps gives for a batch of N images.

    Args:
        canvases (list[Tensor]): The canvases (N, num_classes, h, w) kept,
            the last being the prediction: every step's with ``keep_all``,
            else the last one's.
        metainfo (list[dict]): Per image, metainfo for its data sample.
        data (list[dict]): Per image, data fields for its data sample.
    """
    canvases: List[Tensor]
    metainfo: List[dict]
    data: List[Dict[str, PixelData]] = field(default_factory=list)

    def store(self, data_samples: list, step_labels: List[list],
              return_all_steps: bool) -> None:
        """Stores in each data sample its metainfo and data fields and,
        with ``return_all_steps``, the labels of every step
        (``pred_sem_seg_steps``).

        Args:
            data_samples (list[SegDataSample]): The N data samples.
            step_labels (list): Per step kept, the labels (1, H, W) of
                each image, indexable by image.
            return_all_steps (bool): Store the labels of every step.
        """
        for index, sample in enumerate(data_samples):
            if return_all_steps:
                sample.set_data({
                    'pred_sem_seg_steps':
                    PixelData(
                        data=torch.cat(
                            [labels[index] for labels in step_labels]))
                })
            if self.data:
                sample.set_data(self.data[index])
            sample.set_metainfo(self.metainfo[index])


class StepPolicy:
    """When the steps of a batch stop; :meth:`run` runs them.

    ``key`` is the ``test_cfg`` setting that chose the policy (None for
    fixed steps), ``same_steps_for_all`` whether every image of a batch runs
    the same steps (what ``return_all_steps`` and CUDA graphs need).
    """
    key: Optional[str] = None
    same_steps_for_all = True

    def run(self, segmentor, inputs: Tensor, graph_steps,
            keep_all: bool) -> StepRun:
        """Runs the backbone and the steps of ``segmentor`` on ``inputs``.

        Args:
            segmentor (RecurrentEncoderDecoder): The model.
            inputs (Tensor): The batch of images (N, 3, H, W).
            graph_steps (CUDAGraphSteps, optional): Replays the steps from
                CUDA graphs; None runs them eagerly.
            keep_all (bool): Keep every step's canvas, not only the last.

        Returns:
            StepRun: The canvases and what each data sample gets.
        """
        raise NotImplementedError


class FixedSteps(StepPolicy):
    """``num_steps`` steps for every image.

    Args:
        num_steps (int): Steps to run, at least 1.
    """

    def __init__(self, num_steps: int) -> None:
        self.num_steps = num_steps

    def run(self, segmentor, inputs: Tensor, graph_steps,
            keep_all: bool) -> StepRun:
        canvases, _ = run_whole_batch(
            segmentor.step_runner(inputs, graph_steps), self.num_steps,
            Never(), keep_all)
        return StepRun(canvases, [{}] * inputs.shape[0])


class TimeBudgetSteps(StepPolicy):
    """The steps that fit in a budget of milliseconds (see
    :class:`~.time_budget.TimeBudget`): at least one, at most
    ``num_steps``, the same for the whole batch; ``num_steps_used`` goes
    into every data sample's metainfo.

    Args:
        num_steps (int): Most steps to run.
        budget_ms (float): The budget, positive.
    """
    key = 'time_budget_ms'

    def __init__(self, num_steps: int, budget_ms: float) -> None:
        self.num_steps = num_steps
        self.budget_ms = budget_ms

    def run(self, segmentor, inputs: Tensor, graph_steps,
            keep_all: bool) -> StepRun:
        segmentor.warm_up_untimed(inputs, graph_steps)
        budget = TimeBudget(self.budget_ms, inputs.device, segmentor.clock)
        canvases, steps_used = run_whole_batch(
            segmentor.step_runner(inputs, graph_steps), self.num_steps,
            BudgetRule(budget), keep_all)
        return StepRun(canvases,
                       [dict(num_steps_used=steps_used)] * inputs.shape[0])


class ImageExit(StepPolicy):
    """Each image stops once its labels settle (see
    :func:`~.image_exit.run_until_settled`); ``num_steps_used`` goes
    into its data sample's metainfo.

    Args:
        max_steps (int): Steps after which every image stops.
        min_steps (int): Steps every image runs. Default: 2.
        change_fraction (float): Fraction of positions whose label may
            still change when an image stops. Default: 0.01.
    """
    key = 'adaptive_exit'
    same_steps_for_all = False

    def __init__(self,
                 max_steps: int,
                 min_steps: int = 2,
                 change_fraction: float = 0.01) -> None:
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.change_fraction = change_fraction

    def run(self, segmentor, inputs: Tensor, graph_steps,
            keep_all: bool) -> StepRun:
        canvas, steps_used = run_until_settled(
            segmentor.decode_head,
            segmentor.head_features(inputs),
            self.max_steps,
            min_steps=self.min_steps,
            change_fraction=self.change_fraction)
        return StepRun(
            [canvas],
            [dict(num_steps_used=steps) for steps in steps_used.tolist()])


class PositionExit(StepPolicy):
    """Each feature position stops on its own (see
    :class:`PositionExitRule` and
    :func:`~.position_exit.run_until_positions_settle`); every position
    stops at ``max_steps``.

    Every data sample gets ``exit_steps``, the step after which each
    position stopped (a :class:`PixelData` (1, h, w) at feature
    resolution), and metainfo: ``mean_position_steps`` (their mean),
    ``num_steps_used`` (their maximum: the steps the image ran),
    ``head_macs`` (the multiply-accumulates the head spent on the image:
    see :meth:`~mmseg_convlstm.utils.complexity.PositionMACs.head`) and
    ``macs`` (those plus the backbone's).

    Args:
        max_steps (int): Steps after which every position stops.
        min_steps (int): Steps every position runs. Default: 1.
        settle_steps (int, optional): Stop once the label has not changed
            for this many steps.
        confidence (float, optional): Stop once the top softmax
            probability reaches this, in (0, 1].
    """
    key = 'adaptive_exit'
    same_steps_for_all = False

    def __init__(self,
                 max_steps: int,
                 min_steps: int = 1,
                 settle_steps: Optional[int] = None,
                 confidence: Optional[float] = None) -> None:
        check_position_exit(max_steps, min_steps, settle_steps, confidence,
                            EXIT_KEY)
        if settle_steps is None and confidence is None:
            raise ValueError(
                f'{EXIT_KEY} with per_position=True needs settle_steps, '
                'confidence or both: when does a position stop?')
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.settle_steps = settle_steps
        self.confidence = confidence

    def run(self, segmentor, inputs: Tensor, graph_steps,
            keep_all: bool) -> StepRun:
        head = segmentor.decode_head
        canvas, exit_steps = run_until_positions_settle(
            head, segmentor.head_features(inputs), self.max_steps,
            PositionExitRule(self.min_steps, self.settle_steps,
                             self.confidence))
        backbone_macs = segmentor.backbone_macs(inputs.shape[2:])
        head_position_macs = segmentor.position_macs()
        metainfo, data = [], []
        for image_steps in exit_steps:
            head_macs = head_position_macs.head(image_steps)
            metainfo.append(
                dict(
                    num_steps_used=int(image_steps.max()),
                    mean_position_steps=float(image_steps.float().mean()),
                    head_macs=head_macs,
                    macs=backbone_macs + head_macs))
            data.append(dict(exit_steps=PixelData(data=image_steps[None])))
        return StepRun([canvas], metainfo, data)


VIDEO_EXIT_KEY = 'video_cfg.position_exit'


class VideoPositionExit:
    """Per-position steps of a video frame from the carried state: a
    position whose features barely changed since its last step, or whose
    carried label is already confident, skips the frame (its state, canvas
    included, is kept); the others run steps until
    :class:`PositionExitRule` stops them, at most ``max_steps``.

    A position skips when every skip criterion set holds (``skip_change``,
    ``skip_confidence``); with neither set, every position runs. The first
    frame after a reset runs every position (there is no state to keep).

    Args:
        max_steps (int): Most steps of a position per frame. Default: 1.
        min_steps (int): Steps of a position that runs. Default: 1.
        settle_steps (int, optional): Stop once the label has not changed
            for this many steps of the frame.
        confidence (float, optional): Stop once the top softmax
            probability reaches this, in (0, 1].
        skip_change (float, optional): A position skips the frame when the
            mean absolute change of its features since its last step,
            relative to the mean absolute value of the image's features
            then, is below this. Default: None.
        skip_confidence (float, optional): A position skips the frame when
            the top softmax probability of its carried canvas reaches this,
            in (0, 1]. Default: None.
    """

    def __init__(self,
                 max_steps: int = 1,
                 min_steps: int = 1,
                 settle_steps: Optional[int] = None,
                 confidence: Optional[float] = None,
                 skip_change: Optional[float] = None,
                 skip_confidence: Optional[float] = None) -> None:
        check_position_exit(max_steps, min_steps, settle_steps, confidence,
                            VIDEO_EXIT_KEY)
        check_probability(skip_confidence, f'{VIDEO_EXIT_KEY}.skip_confidence')
        if skip_change is not None and (not isinstance(skip_change, Real)
                                        or skip_change < 0):
            raise ValueError(f'{VIDEO_EXIT_KEY}.skip_change must be a '
                             f'number >= 0, got {skip_change!r}')
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.settle_steps = settle_steps
        self.confidence = confidence
        self.skip_change = skip_change
        self.skip_confidence = skip_confidence

    def runs(self, features: Tensor, state: RecurrentState,
             reference: Tensor) -> Optional[Tensor]:
        """Which positions step on a frame (N, h, w); None for all.

        Args:
            features (Tensor): The frame's features (N, C, h, w).
            state (RecurrentState): The carried state.
            reference (Tensor): Every position's features at its last step
                (N, C, h, w).
        """
        if self.skip_change is None and self.skip_confidence is None:
            return None
        skips = torch.ones_like(features[:, 0], dtype=torch.bool)
        if self.skip_change is not None:
            skips &= position_change(reference, features) < self.skip_change
        if self.skip_confidence is not None:
            skips &= state.canvas.softmax(dim=1).amax(
                dim=1) >= self.skip_confidence
        return ~skips

    def run(self, head, features: Tensor, state: Optional[RecurrentState],
            reference: Optional[Tensor]) -> Tuple[RecurrentState, Tensor]:
        """Steps a frame (see
        :func:`~.position_exit.advance_positions`).

        Args:
            head (ConvLSTMCanvasHead): The head.
            features (Tensor): The frame's features (N, C, h, w).
            state (RecurrentState, optional): The carried state, every
                tensor given; None after a reset (every position runs).
            reference (Tensor, optional): Every position's features at its
                last step; None after a reset.

        Returns:
            tuple[RecurrentState, Tensor]: The new state and the steps each
            position ran (N, h, w), 0 where it skipped.
        """
        return advance_positions(
            head, features, self.max_steps,
            PositionExitRule(self.min_steps, self.settle_steps,
                             self.confidence), state,
            None if state is None else self.runs(features, state, reference))


def position_change(previous: Tensor, current: Tensor) -> Tensor:
    """The mean absolute change of every position's features (N, C, h, w)
    over the channels, relative to the mean absolute value of each image's
    ``previous`` features: (N, h, w). For one image, its mean over the
    positions is the feature change that ``video_cfg.scene_cut_threshold``
    reads."""
    scale = previous.abs().mean(dim=(1, 2, 3)).clamp_min(
        torch.finfo(previous.dtype).tiny)
    return (current - previous).abs().mean(dim=1) / scale.view(-1, 1, 1)


def run_whole_batch(runner: StepRunner, max_steps: int, rule: StopRule,
                    keep_all: bool) -> Tuple[List[Tensor], int]:
    """Runs ``runner`` until ``rule`` stops its whole batch: the canvases
    kept (every step's with ``keep_all``, else the last) and the steps
    run."""
    run = run_until(runner, max_steps, rule, keep_all=keep_all)
    return (run.canvases if keep_all else [run.state.canvas]), run.steps_run


def build_step_policy(test_cfg: ConfigType, num_steps: int) -> StepPolicy:
    """The policy that ``test_cfg`` chooses, its settings checked: a time
    budget (``time_budget_ms``), adaptive exit per image or per position
    (``adaptive_exit``), else fixed steps.

    Args:
        test_cfg (ConfigType): The model's ``test_cfg``.
        num_steps (int): The steps of inference (``test_cfg.num_steps``,
            checked), the most any policy runs unless ``adaptive_exit``
            names ``max_steps``.

    Returns:
        StepPolicy: The policy.
    """
    budget_ms = test_cfg.get('time_budget_ms')
    exit_cfg = test_cfg.get('adaptive_exit')
    if budget_ms is not None and exit_cfg is not None:
        raise ValueError(
            'model.test_cfg.time_budget_ms and model.test_cfg.adaptive_exit '
            'both choose when to stop stepping: set only one of them')
    if budget_ms is not None:
        return TimeBudgetSteps(
            num_steps,
            check_time_budget(budget_ms, 'model.test_cfg.time_budget_ms'))
    if exit_cfg is not None:
        return _build_exit_policy(dict(exit_cfg), num_steps)
    return FixedSteps(num_steps)


def _build_exit_policy(exit_cfg: dict, num_steps: int) -> StepPolicy:
    per_position = exit_cfg.pop('per_position', False)
    if not isinstance(per_position, bool):
        raise ValueError(f'{EXIT_KEY}.per_position must be True or False, '
                         f'got {per_position!r}')
    policy_type = PositionExit if per_position else ImageExit
    known = {
        PositionExit: ('max_steps', 'min_steps', 'settle_steps', 'confidence'),
        ImageExit: ('max_steps', 'min_steps', 'change_fraction'),
    }[policy_type]
    unknown = set(exit_cfg) - set(known)
    if unknown:
        raise ValueError(
            f'{EXIT_KEY} has unknown keys {sorted(unknown)}; with '
            f'per_position={per_position} it takes per_position, '
            f"{', '.join(known)}")
    return policy_type(**{'max_steps': num_steps, **exit_cfg})
