"""Multiply-accumulates (MACs) of one video frame, counted by
:class:`mmengine.analysis.FlopAnalyzer` (through
:func:`mmseg_convlstm.utils.complexity.count_macs`).

MMEngine's counter calls multiply-accumulates "flops" (the fvcore
convention); what it returns are MACs. It counts convolutions and matrix
products; element-wise operations (the LSTM gates, the canvas sums) count
as zero.
"""
from typing import Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmseg.models import BaseSegmentor
from .complexity import count_macs
from ..models.convlstm_canvas_head import ConvLSTMCanvasHead, RecurrentState


class _FeatureExtractor(nn.Module):
    """The part of a segmentor that runs once per frame."""

    def __init__(self, model: BaseSegmentor) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor) -> Tensor:
        features = self.model.extract_feat(inputs)
        return self.model.decode_head._transform_inputs(features)


class _RecurrentSteps(nn.Module):
    """``num_steps`` steps of a canvas head from a state given as tensors
    (``h`` and ``c`` of every cell, then the canvas), or from zeros."""

    def __init__(self, head: ConvLSTMCanvasHead, num_steps: int) -> None:
        super().__init__()
        self.head = head
        self.num_steps = num_steps

    def forward(self, features: Tensor, *state: Tensor) -> Tensor:
        carried = RecurrentState.from_tensors(state) if state else None
        return self.head.run_steps(features, self.num_steps, carried)[1].canvas


@torch.no_grad()
def feature_macs(model: BaseSegmentor,
                 input_shape: Tuple[int, int]) -> Tuple[int, Tensor]:
    """MACs of the backbone (and neck) on one (3, H, W) input, and the
    features (1, C, h, w) it gives for zeros."""
    inputs = torch.zeros(1, 3, *input_shape, device=_device(model))
    extractor = _FeatureExtractor(model)
    return count_macs(extractor, (inputs, )), extractor(inputs)


@torch.no_grad()
def recurrent_step_macs(head: ConvLSTMCanvasHead, features: Tensor,
                        num_steps: int, carried_state: bool) -> int:
    """MACs of ``num_steps`` steps of the head on one frame's features
    (1, C, h, w), from the state a previous frame left (``carried_state``)
    or from zeros (a cold start: the first step has no recurrent
    convolutions). The input projection cached once per frame is
    included."""
    state: Tuple[Tensor, ...] = ()
    if carried_state:
        state = tuple(head.run_steps(features, 1)[1].tensors())
    return count_macs(_RecurrentSteps(head, num_steps), (features, *state))


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def average_frame_macs(backbone_macs: int,
                       step_macs: int,
                       backbone_interval: int = 1) -> float:
    """MACs per frame, averaged over a long video, when the backbone runs on
    every ``backbone_interval``-th frame only and the recurrent steps
    (``step_macs`` per frame) on every frame."""
    if backbone_interval < 1:
        raise ValueError('video_cfg.backbone_interval must be at least 1, '
                         f'got {backbone_interval}')
    return backbone_macs / backbone_interval + step_macs
