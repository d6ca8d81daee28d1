"""Multiply-accumulates (MACs) of one video frame, counted by
:class:`mmengine.analysis.FlopAnalyzer` (through
:func:`mmseg_convlstm.utils.complexity.count_macs`): the part that runs once
per frame (the backbone, and anything the head computes once) and the
recurrent steps.

MMEngine's counter calls multiply-accumulates "flops" (the fvcore
convention); what it returns are MACs. It counts convolutions and matrix
products; element-wise operations (the LSTM gates, the canvas sums) count
as zero.
"""
from typing import Tuple

import torch
from torch import Tensor

from mmseg.models import BaseSegmentor
from ..models import ConvLSTMCanvasHead
from ..utils.complexity import HeadFeatures, RecurrentSteps, count_macs


@torch.no_grad()
def feature_macs(model: BaseSegmentor,
                 input_shape: Tuple[int, int]) -> Tuple[int, Tensor]:
    """MACs of what runs once per frame (the backbone, neck and any context
    module: ``head_features``) on one (3, H, W) input, and the features
    (1, C, h, w) it gives for zeros."""
    inputs = torch.zeros(1, 3, *input_shape, device=_device(model))
    extractor = HeadFeatures(model)
    return count_macs(extractor, (inputs, )), extractor(inputs)


@torch.no_grad()
def recurrent_step_macs(head: ConvLSTMCanvasHead,
                        features: Tensor,
                        num_steps: int,
                        carried_state: bool,
                        canvas_decay: float = 1.0) -> int:
    """MACs of ``num_steps`` steps of the head on one frame's features
    (1, C, h, w), from the state a previous frame left (``carried_state``,
    its canvas blended by ``canvas_decay`` as ``video_cfg`` blends it) or
    from zeros (a cold start: the first step has no recurrent
    convolutions). The input projection cached once per frame is
    included."""
    state = head.run_steps(features, 1)[1] if carried_state else None
    return count_macs(
        RecurrentSteps(head, num_steps, state, canvas_decay), (features, ))


def _device(model: torch.nn.Module) -> torch.device:
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
