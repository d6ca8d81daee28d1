"""mIoU on the annotated frames of video clips when the recurrent state is
carried across frames, for a grid of (context frames K, steps per frame),
against the still-image baseline, with the MACs per frame of each."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import Tensor
from torch.utils.data import DataLoader

from mmseg.apis import init_model
from mmseg.evaluation import IoUMetric
from mmseg.models import BaseSegmentor
from mmseg.structures import SegDataSample
from ..evaluation.deterministic_iou_metric import count_areas
from ..models.convlstm_canvas_head import ConvLSTMCanvasHead
from ..apis.recurrent_video_inferencer import RecurrentVideoInferencer
from ..utils.video_macs import (average_frame_macs, feature_macs,
                                recurrent_step_macs)

VIDEO_DATALOADER_KEY = 'video_test_dataloader'
Setting = Tuple[str, int, int, int]
"""(mode, context frames K, steps per frame, backbone interval N). Mode
'video' streams the annotated frame and the K frames before it, carrying the
state, with the backbone on every N-th frame; 'static' is a cold start on
the annotated frame alone (K = 0, N = 1)."""


def video_settings(context_frames: Sequence[int],
                   steps_per_frame: Sequence[int],
                   static_steps: int,
                   backbone_intervals: Sequence[int] = (1, )) -> List[Setting]:
    """The static baseline after 1..``static_steps`` steps, then the video
    grid of ``context_frames`` x ``steps_per_frame`` x
    ``backbone_intervals``."""
    static = [('static', 0, steps, 1) for steps in range(1, static_steps + 1)]
    return static + [('video', k, s, n) for k in context_frames
                     for s in steps_per_frame for n in backbone_intervals]


@torch.no_grad()
def evaluate_video_settings(model: BaseSegmentor, dataloader: DataLoader,
                            settings: Sequence[Setting]) -> List[dict]:
    """mIoU, mAcc and aAcc on the annotated frames for each setting.

    Every clip (``inputs`` of shape (F, 3, H, W), the annotated frame last,
    as :class:`PackClipSegInputs` packs it) goes through the backbone once.
    Each video setting (K, s) then streams the features of its last K + 1
    frames through a :class:`RecurrentVideoInferencer` with s steps per frame
    (its other options from the config's ``video_cfg``); each static setting
    reads the canvas after s steps from zeros on the annotated frame.
    With a backbone interval N > 1, the annotated frame of a video setting
    is evaluated once for every number p < N of frames since the last
    backbone run (p <= K), so that the mIoU is that of a frame anywhere in
    the video.

    Returns:
        list[dict]: One row per setting: ``mode``, ``context_frames``,
        ``steps_per_frame``, ``backbone_interval``, ``total_steps`` (steps
        behind the annotated frame's canvas), ``mIoU``, ``mAcc``, ``aAcc``
        (percent) and
        ``input_shape`` (H, W of the network input).
    """
    _check_context_frames(dataloader.dataset, settings)
    inferencer = RecurrentVideoInferencer(model)
    streams = {(steps, interval): RecurrentVideoInferencer(
        model, steps_per_frame=steps, backbone_interval=interval)
               for mode, _, steps, interval in settings if mode == 'video'}
    num_classes = len(dataloader.dataset.metainfo['classes'])
    areas: Dict[Setting, list] = {setting: [] for setting in settings}
    input_shape = None
    progress = ProgressBar(len(dataloader.dataset))
    for batch in dataloader:
        for clip, data_sample in zip(batch['inputs'], batch['data_samples']):
            inputs = _preprocess_clip(model, clip, data_sample)
            input_shape = tuple(inputs.shape[-2:])
            canvases = _annotated_frame_canvases(
                inferencer.head, streams, inferencer.extract_features(inputs),
                settings)
            for setting, setting_canvases in canvases.items():
                for canvas in setting_canvases:
                    labels = inferencer.labels(canvas, data_sample)
                    areas[setting].append(
                        count_areas(
                            labels, data_sample.gt_sem_seg.data[0].to(labels),
                            num_classes, dataloader.dataset.ignore_index))
            progress.update()
    return [_row(setting, areas[setting], input_shape) for setting in settings]


def _check_context_frames(dataset, settings: Sequence[Setting]) -> None:
    needed = max(k for _, k, _, _ in settings)
    available = getattr(dataset, 'context_frames', 0)
    if available < needed:
        raise ValueError(
            f'{needed} context frames were asked for but the dataset has '
            f'{available}: set {VIDEO_DATALOADER_KEY}.dataset.context_frames'
            f' to at least {needed}')


def _preprocess_clip(model: BaseSegmentor, clip: Tensor,
                     data_sample: SegDataSample) -> Tensor:
    """The network inputs (F, 3, H, W) of a clip's frames, preprocessed as
    single images are; the data sample gets the preprocessor's metainfo."""
    data = model.data_preprocessor(
        dict(inputs=list(clip), data_samples=[data_sample] * len(clip)), False)
    return data['inputs']


def _annotated_frame_canvases(
        head: ConvLSTMCanvasHead,
        streams: Dict[Tuple[int, int], RecurrentVideoInferencer],
        features: Tensor,
        settings: Sequence[Setting]) -> Dict[Setting, List[Tensor]]:
    """The canvases of the annotated frame (the last of ``features``) in
    every setting: one per backbone phase (see
    :func:`evaluate_video_settings`)."""
    static_steps = max((s for mode, _, s, _ in settings if mode == 'static'),
                       default=0)
    static_canvases = (
        head.run_steps(features[-1:], static_steps)[0] if static_steps else [])
    canvases = {}
    for mode, context_frames, steps, interval in settings:
        if mode == 'static':
            canvases[(mode, context_frames, steps, interval)] = [
                static_canvases[steps - 1]
            ]
            continue
        clip = features[len(features) - context_frames - 1:]
        canvases[(mode, context_frames, steps, interval)] = [
            _stream(streams[(steps, interval)], clip,
                    (context_frames - since_backbone) % interval)
            for since_backbone in range(min(interval, context_frames + 1))
        ]
    return canvases


def _stream(inferencer: RecurrentVideoInferencer, features: Tensor,
            backbone_phase: int) -> Tensor:
    """The canvas after streaming the frames' features from a reset; the
    frames on which the inferencer's backbone does not run reuse the last
    features."""
    inferencer.reset(backbone_phase)
    for frame_features in features.split(1):
        canvas, _ = inferencer.advance(
            frame_features if inferencer.needs_backbone() else None)
    return canvas


def _row(setting: Setting, areas: list, input_shape: Tuple[int, int]) -> dict:
    mode, context_frames, steps, interval = setting
    totals = [sum(area) for area in zip(*areas)]
    metrics = IoUMetric.total_area_to_metrics(*totals, ['mIoU'])
    return dict(
        mode=mode,
        context_frames=context_frames,
        steps_per_frame=steps,
        backbone_interval=interval,
        total_steps=(context_frames + 1) * steps,
        mIoU=_percent(metrics['IoU']),
        mAcc=_percent(metrics['Acc']),
        aAcc=_percent(metrics['aAcc']),
        input_shape=list(input_shape))


def _percent(values) -> float:
    return round(float(np.nanmean(values)) * 100, 2)


def add_frame_macs(model: BaseSegmentor, rows: List[dict]) -> None:
    """Adds ``gmacs_per_frame`` to every row: the backbone (divided by the
    row's ``backbone_interval``: its average over a video) plus the
    recurrent steps of one frame, from the carried state for video rows and
    from zeros for static rows (multiply-accumulates, see
    :mod:`.video_macs`)."""
    backbone, features = feature_macs(model, tuple(rows[0]['input_shape']))
    for row in rows:
        steps = recurrent_step_macs(
            model.decode_head,
            features,
            row['steps_per_frame'],
            carried_state=row['mode'] == 'video')
        row['gmacs_per_frame'] = round(
            average_frame_macs(backbone, steps, row['backbone_interval']) /
            1e9, 4)


def frame_macs_rows(model: BaseSegmentor,
                    input_shape: Tuple[int, int],
                    steps_per_frame: Sequence[int],
                    static_steps: int,
                    backbone_intervals: Sequence[int] = (1, )) -> List[dict]:
    """GMACs per frame of the static baseline after 1..``static_steps``
    steps and of streaming with each of ``steps_per_frame`` and
    ``backbone_intervals``, on inputs of ``input_shape``; no data needed
    (see :func:`add_frame_macs`)."""
    rows = [
        dict(
            mode=mode,
            context_frames=context_frames,
            steps_per_frame=steps,
            backbone_interval=interval,
            input_shape=list(input_shape))
        for mode, context_frames, steps, interval in video_settings(
            [1], steps_per_frame, static_steps, backbone_intervals)
    ]
    add_frame_macs(model, rows)
    return rows


def run_video_benchmark(cfg: Config,
                        checkpoint: str,
                        context_frames: Sequence[int],
                        steps_per_frame: Sequence[int],
                        static_steps: Optional[int] = None,
                        device: str = 'cpu',
                        backbone_intervals: Sequence[int] = (1, )
                        ) -> List[dict]:
    """Evaluates a checkpoint on the clips of the config's
    ``video_test_dataloader`` in every setting (see :func:`video_settings`)
    and counts the MACs per frame of each.

    Args:
        cfg (Config): A config with ``video_test_dataloader`` (a
            :class:`CityscapesSequenceDataset`; its ``context_frames`` is set
            to the largest of ``context_frames``).
        checkpoint (str): The checkpoint.
        context_frames (Sequence[int]): Values of K of the video grid.
        steps_per_frame (Sequence[int]): Steps per frame of the video grid.
        static_steps (int, optional): The static baseline is read after
            1..``static_steps`` steps. Default: the model's inference steps.
        device (str): Device to run on. Default: 'cpu'.
        backbone_intervals (Sequence[int]): Backbone intervals N of the
            video grid (``video_cfg.backbone_interval``). Default: (1, ).

    Returns:
        list[dict]: The rows of :func:`evaluate_video_settings` with
        ``gmacs_per_frame``.
    """
    if VIDEO_DATALOADER_KEY not in cfg:
        raise KeyError(f'the config has no {VIDEO_DATALOADER_KEY} (a '
                       'dataloader of CityscapesSequenceDataset clips)')
    loader_cfg = copy.deepcopy(cfg[VIDEO_DATALOADER_KEY])
    loader_cfg.dataset.context_frames = max(context_frames)
    model = init_model(copy.deepcopy(cfg), checkpoint, device)
    static_steps = static_steps or model.inference_steps
    rows = evaluate_video_settings(
        model, Runner.build_dataloader(loader_cfg),
        video_settings(context_frames, steps_per_frame, static_steps,
                       backbone_intervals))
    add_frame_macs(model, rows)
    return rows
