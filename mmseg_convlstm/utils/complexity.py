"""Multiply-accumulates (MACs) and parameters of segmentors.

Counts come from MMEngine's counter (:class:`mmengine.analysis.FlopAnalyzer`,
what ``mmengine.analysis.get_model_complexity_info`` uses), which reports
multiply-accumulates under the name "flops" (fvcore's convention): a
convolution counts one per weight and output position, bias and activations
count nothing. As MMSeg's ``get_flops.py`` does, a segmentor is counted in
its tensor mode (:meth:`EncoderDecoder._forward`: backbone and decode head,
without the auxiliary head, the final upsampling or the argmax).
"""
import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import ConfigDict
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from torch import Tensor

from mmseg.models import BaseSegmentor
from mmseg.registry import MODELS


def build_segmentor(model_cfg: dict,
                    device: str = 'cpu',
                    training: bool = False) -> BaseSegmentor:
    """The segmentor of ``model_cfg`` as MMSeg's analysis tools build it:
    no pretrained weights loaded, plain BatchNorm instead of SyncBN, and
    unless ``training``, no auxiliary head and in eval mode."""
    init_default_scope('mmseg')
    model_cfg = ConfigDict(copy.deepcopy(model_cfg))
    model_cfg.pretrained = None
    if not training:
        model_cfg.pop('auxiliary_head', None)
    model = revert_sync_batchnorm(MODELS.build(model_cfg)).to(device)
    # MMSeg's ResNet.train() returns None: no chaining.
    model.train(training)
    return model


def random_image(model: BaseSegmentor,
                 shape: Tuple[int, int],
                 batch_size: int = 1) -> Tensor:
    """A random image batch (N, 3, H, W) on the model's device."""
    device = next(model.parameters()).device
    return torch.rand(batch_size, 3, *shape, device=device)


def count_macs(module: nn.Module, inputs: Tuple) -> int:
    """Multiply-accumulates of ``module(*inputs)`` (MMEngine's counter)."""
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return int(analyzer.total())


def count_params(module: nn.Module) -> int:
    """Number of parameters, as MMEngine's counter reports them."""
    return int(parameter_count(module)[''])


class RecurrentSegmentorAtSteps(nn.Module):
    """A recurrent segmentor's tensor-mode forward run for ``num_steps``
    steps: what the MACs counter and the latency timer see of it.

    Args:
        segmentor (RecurrentEncoderDecoder): The model.
        num_steps (int): Recurrent steps to run.
    """

    def __init__(self, segmentor: BaseSegmentor, num_steps: int) -> None:
        super().__init__()
        self.segmentor = segmentor
        self.num_steps = num_steps

    def forward(self, inputs: Tensor) -> Tensor:
        """The canvas after ``num_steps`` steps."""
        features = self.segmentor.head_features(inputs)
        return self.segmentor.decode_head.run_steps(features,
                                                    self.num_steps)[0][-1]


class HeadFeatures(nn.Module):
    """What a recurrent segmentor computes once per image or frame
    (``head_features``: the backbone and any context module), as a module
    for MMEngine's counter.

    Args:
        segmentor (RecurrentEncoderDecoder): The model.
    """

    def __init__(self, segmentor: BaseSegmentor) -> None:
        super().__init__()
        self.segmentor = segmentor

    def forward(self, inputs: Tensor) -> Tensor:
        return self.segmentor.head_features(inputs)


class RecurrentSteps(nn.Module):
    """``num_steps`` steps of a recurrent head on the features it is given,
    from ``state`` (None for zeros), as a module for MMEngine's counter.

    Args:
        head (ConvLSTMCanvasHead): The head.
        num_steps (int): Steps to run.
        state (RecurrentState, optional): Where the steps start: the state a
            previous video frame left, carried to the new frame as
            ``head.next_frame_state`` carries it. Default: None.
        canvas_decay (float): ``video_cfg.canvas_decay`` of the carried
            ``state``. Default: 1.0.
    """

    def __init__(self,
                 head: nn.Module,
                 num_steps: int,
                 state: Optional[object] = None,
                 canvas_decay: float = 1.0) -> None:
        super().__init__()
        self.head = head
        self.num_steps = num_steps
        self.state = state
        self.canvas_decay = canvas_decay

    def forward(self, features: Tensor) -> Tensor:
        state = self.state
        if state is not None:
            state = self.head.next_frame_state(state, features,
                                               self.canvas_decay)
        return self.head.run_steps(features, self.num_steps, state)[0][-1]


@dataclass
class RecurrentMACs:
    """MACs of a recurrent segmentor at every number of steps.

    Args:
        backbone (int): MACs of what runs once per image: the backbone and
            any context module of the head.
        head (list[int]): MACs of the recurrent steps (the bottom cell's
            cached input projection included) run for 1, 2, ... steps.
    """
    backbone: int
    head: List[int]

    @property
    def max_steps(self) -> int:
        return len(self.head)

    def total(self, num_steps: int) -> int:
        """MACs of the whole model run for ``num_steps`` steps."""
        return self.backbone + self.head[num_steps - 1]

    @property
    def per_step(self) -> int:
        """MACs that one more step adds after the first (the first step has
        no recurrent input and costs less). Needs at least two steps."""
        if self.max_steps < 2:
            raise ValueError('the cost of a step after the first needs MACs '
                             'counted for at least 2 steps')
        return self.head[1] - self.head[0]

    def mean(self, mean_steps: float) -> float:
        """Average MACs per image over images that ran ``mean_steps`` steps
        on average (steps after the first all cost :attr:`per_step`)."""
        return self.backbone + self.head[0] + (mean_steps - 1) * self.per_step


def backbone_macs(model: BaseSegmentor, shape: Tuple[int, int]) -> int:
    """MACs of what a recurrent ``model`` computes once per image (its
    ``head_features``: the backbone, neck and any context module) on one
    ``shape`` image (MMEngine's counter)."""
    return count_macs(HeadFeatures(model), (random_image(model, shape), ))


@dataclass
class PositionMACs:
    """MACs of a recurrent head of 1x1 convolutions at one feature
    position: a convolution costs one MAC per weight there, as MMEngine's
    counter counts it.

    Args:
        projection (int): The bottom cell's input projection, computed once
            per image with ``cache_input_projection`` (else 0: it is then
            part of every step).
        first_step (int): The first step of a cold start (no recurrent
            convolutions: the state is zero; the initial canvas's classifier
            of a head with ``init_canvas``).
        later_step (int): Every later step.
    """
    projection: int
    first_step: int
    later_step: int

    def head(self, exit_steps: Tensor, carried_state: bool = False) -> int:
        """MACs of the head on one image whose positions ran
        ``exit_steps`` steps each (any shape, one entry per position).

        Args:
            exit_steps (Tensor): Steps of every position.
            carried_state (bool): The steps started from a carried state (a
                video frame's), so the first is a later step too, and a
                position that ran no step cost nothing. Default: False (from
                zeros: every position runs at least one step).
        """
        steps = int(exit_steps.sum())
        if carried_state:
            positions = int((exit_steps > 0).sum())
            return positions * self.projection + steps * self.later_step
        positions = exit_steps.numel()
        return (positions * (self.projection + self.first_step) +
                (steps - positions) * self.later_step)


def position_macs(head: nn.Module) -> PositionMACs:
    """The :class:`PositionMACs` of a :class:`ConvLSTMCanvasHead` as its
    reference step (``step``, not ``fused_step``) runs."""
    input_macs = [cell.input_conv.weight.numel() for cell in head.cells]
    hidden_macs = sum(cell.hidden_conv.weight.numel() for cell in head.cells)
    projection = input_macs[0] if head.cache_input_projection else 0
    step_inputs = sum(input_macs) - projection
    canvas = 0 if head.canvas_classifier is None else (
        head.canvas_classifier.weight.numel())
    return PositionMACs(projection, step_inputs + canvas,
                        step_inputs + hidden_macs)


def recurrent_macs(model: BaseSegmentor, shape: Tuple[int, int],
                   max_steps: int) -> RecurrentMACs:
    """MACs of a recurrent segmentor on one ``shape`` image for 1 to
    ``max_steps`` steps: what runs once per image is counted once, the
    steps on its output at every number of steps."""
    return RecurrentMACs(
        backbone=backbone_macs(model, shape),
        head=_head_macs(model, _features(model, random_image(model, shape)),
                        max_steps))


def _features(model: BaseSegmentor, image: Tensor) -> Tensor:
    with torch.no_grad():
        return model.head_features(image)


def _head_macs(model: BaseSegmentor, features: Tensor,
               max_steps: int) -> List[int]:
    return [
        count_macs(RecurrentSteps(model.decode_head, steps), (features, ))
        for steps in range(1, max_steps + 1)
    ]


@contextmanager
def input_projection_cache(model: BaseSegmentor,
                           enabled: bool) -> Iterator[None]:
    """Turns the recurrent head's cached input projection on or off within
    the ``with`` block."""
    head = model.decode_head
    previous = head.cache_input_projection
    head.cache_input_projection = enabled
    try:
        yield
    finally:
        head.cache_input_projection = previous


def per_step_macs(model: BaseSegmentor, shape: Tuple[int,
                                                     int]) -> Tuple[int, int]:
    """MACs of one step after the first, with and without the cached input
    projection, on one ``shape`` image."""
    features = _features(model, random_image(model, shape))
    costs = []
    for cached in (True, False):
        with input_projection_cache(model, cached):
            first, second = _head_macs(model, features, 2)
        costs.append(second - first)
    return costs[0], costs[1]
