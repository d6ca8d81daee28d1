"""mIoU on the annotated frames of video clips when the recurrent state is
carried across frames, for a grid of (context frames K, steps per frame),
with per-position steps, against the still-image baseline, with the MACs
per frame of each."""
import copy
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import Tensor
from torch.utils.data import DataLoader

from mmseg.evaluation import IoUMetric
from mmseg.models import BaseSegmentor
from mmseg.structures import SegDataSample
from ..evaluation.deterministic_iou_metric import count_areas
from ..models.decode_heads.convlstm_canvas_head import ConvLSTMCanvasHead
from ..apis.recurrent_video_inferencer import RecurrentVideoInferencer
from ..models.exits.step_policies import VideoPositionExit
from ..utils.complexity import position_macs
from .video_macs import (average_frame_macs, feature_macs, recurrent_step_macs)
from .exit_rules import parse_key_values
from .workload import load_model

VIDEO_DATALOADER_KEY = 'video_test_dataloader'
VIDEO_RULE_KEYS = dict(
    skip_change=float,
    skip_confidence=float,
    max_steps=int,
    min_steps=int,
    settle_steps=int,
    confidence=float)


class Setting(NamedTuple):
    """One way of predicting the annotated frame of a clip.

    Mode 'video' streams the annotated frame and the K frames before it,
    carrying the state, ``steps_per_frame`` steps at every position, with
    the backbone on every N-th frame; 'position' streams them with
    per-position steps (``video_cfg.position_exit`` of the rule
    ``position_exit``, at most ``steps_per_frame`` steps); 'static' is a
    cold start on the annotated frame alone (K = 0, N = 1).
    """
    mode: str
    context_frames: int
    steps_per_frame: int
    backbone_interval: int = 1
    position_exit: Optional[str] = None


def parse_video_rule(text: str) -> dict:
    """``video_cfg.position_exit`` of a rule given as ``key=value`` pairs
    joined by commas, e.g. ``skip_change=0.2`` or
    ``skip_change=0.2,max_steps=2,confidence=0.8`` (keys: those of
    :class:`VideoPositionExit`); a bad rule raises a ValueError naming it."""
    rule = parse_key_values(text, VIDEO_RULE_KEYS)
    try:
        VideoPositionExit(**rule)
    except ValueError as error:
        raise ValueError(f'rule {text!r}: {error}') from error
    return rule


def video_settings(
    context_frames: Sequence[int],
    steps_per_frame: Sequence[int],
    static_steps: int,
    backbone_intervals: Sequence[int] = (1, ),
    position_exits: Sequence[str] = ()
) -> List[Setting]:
    """The static baseline after 1..``static_steps`` steps, the video grid
    of ``context_frames`` x ``steps_per_frame`` x ``backbone_intervals``,
    then each of ``context_frames`` with each per-position rule of
    ``position_exits`` (see :func:`parse_video_rule`)."""
    static = [
        Setting('static', 0, steps) for steps in range(1, static_steps + 1)
    ]
    video = [
        Setting('video', k, s, n) for k in context_frames
        for s in steps_per_frame for n in backbone_intervals
    ]
    position = [
        Setting('position', k,
                parse_video_rule(rule).get('max_steps', 1), 1, rule)
        for k in context_frames for rule in position_exits
    ]
    return static + video + position


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
    the video. A per-position setting also counts the head's MACs on the
    annotated frame as its positions ran (see
    :meth:`~mmseg_convlstm.utils.complexity.PositionMACs.head`).

    Returns:
        list[dict]: One row per setting: ``mode``, ``context_frames``,
        ``steps_per_frame``, ``backbone_interval``, ``position_exit``,
        ``total_steps`` (steps behind the annotated frame's canvas; None
        for per-position rows), ``mIoU``, ``mAcc``, ``aAcc`` (percent),
        ``input_shape`` (H, W of the network input), and for per-position
        rows ``mean_position_steps`` and ``head_macs`` (their means over
        the annotated frames).
    """
    _check_context_frames(dataloader.dataset, settings)
    inferencer = RecurrentVideoInferencer(model)
    streams = _streams(model, settings)
    num_classes = len(dataloader.dataset.metainfo['classes'])
    areas: Dict[Setting, list] = {setting: [] for setting in settings}
    costs: Dict[Setting, list] = {setting: [] for setting in settings}
    input_shape = None
    progress = ProgressBar(len(dataloader.dataset))
    for batch in dataloader:
        for clip, data_sample in zip(batch['inputs'], batch['data_samples']):
            inputs = _preprocess_clip(model, clip, data_sample)
            input_shape = tuple(inputs.shape[-2:])
            predictions = _annotated_frame_predictions(
                inferencer.head, streams, inferencer.extract_features(inputs),
                settings)
            for setting, setting_predictions in predictions.items():
                for canvas, cost in setting_predictions:
                    labels = inferencer.labels(canvas, data_sample)
                    areas[setting].append(
                        count_areas(labels,
                                    data_sample.gt_sem_seg.data[0].to(labels),
                                    num_classes,
                                    dataloader.dataset.ignore_index))
                    costs[setting].append(cost)
            progress.update()
    return [
        _row(setting, areas[setting], costs[setting], input_shape)
        for setting in settings
    ]


def _streams(
        model: BaseSegmentor, settings: Sequence[Setting]
) -> Dict[Setting, RecurrentVideoInferencer]:
    """An inferencer for every video and per-position setting."""
    return {
        setting:
        RecurrentVideoInferencer(
            model,
            steps_per_frame=setting.steps_per_frame,
            backbone_interval=setting.backbone_interval,
            position_exit=(None if setting.position_exit is None else
                           parse_video_rule(setting.position_exit)))
        for setting in settings if setting.mode != 'static'
    }


def _check_context_frames(dataset, settings: Sequence[Setting]) -> None:
    needed = max(setting.context_frames for setting in settings)
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


Prediction = Tuple[Tensor, Optional[Tuple[int, float]]]
"""The canvas of the annotated frame and, for a per-position setting, the
head's MACs on it and its mean steps per position."""


def _annotated_frame_predictions(
        head: ConvLSTMCanvasHead,
        streams: Dict[Setting, RecurrentVideoInferencer], features: Tensor,
        settings: Sequence[Setting]) -> Dict[Setting, List[Prediction]]:
    """The predictions of the annotated frame (the last of ``features``) in
    every setting: one per backbone phase (see
    :func:`evaluate_video_settings`)."""
    static_steps = max((setting.steps_per_frame
                        for setting in settings if setting.mode == 'static'),
                       default=0)
    static_canvases = (
        head.run_steps(features[-1:], static_steps)[0] if static_steps else [])
    predictions = {}
    for setting in settings:
        if setting.mode == 'static':
            predictions[setting] = [
                (static_canvases[setting.steps_per_frame - 1], None)
            ]
            continue
        clip = features[len(features) - setting.context_frames - 1:]
        interval = setting.backbone_interval
        predictions[setting] = [
            _stream(streams[setting], clip,
                    (setting.context_frames - since_backbone) % interval)
            for since_backbone in range(
                min(interval, setting.context_frames + 1))
        ]
    return predictions


def _stream(inferencer: RecurrentVideoInferencer, features: Tensor,
            backbone_phase: int) -> Prediction:
    """The prediction after streaming the frames' features from a reset;
    the frames on which the inferencer's backbone does not run reuse the
    last features."""
    inferencer.reset(backbone_phase)
    for frame_features in features.split(1):
        canvas, state_reset = inferencer.advance(
            frame_features if inferencer.needs_backbone() else None)
    if inferencer.position_exit is None:
        return canvas, None
    exit_steps = inferencer.exit_steps
    head_macs = position_macs(inferencer.head).head(
        exit_steps, carried_state=not state_reset)
    return canvas, (head_macs, float(exit_steps.float().mean()))


def _row(setting: Setting, areas: list, costs: list,
         input_shape: Tuple[int, int]) -> dict:
    totals = [sum(area) for area in zip(*areas)]
    metrics = IoUMetric.total_area_to_metrics(*totals, ['mIoU'])
    row = dict(
        setting._asdict(),
        total_steps=(None if setting.mode == 'position' else
                     (setting.context_frames + 1) * setting.steps_per_frame),
        mIoU=_percent(metrics['IoU']),
        mAcc=_percent(metrics['Acc']),
        aAcc=_percent(metrics['aAcc']),
        input_shape=list(input_shape))
    if setting.mode == 'position':
        head_macs, position_steps = zip(*costs)
        row.update(
            head_macs=float(np.mean(head_macs)),
            mean_position_steps=round(float(np.mean(position_steps)), 3))
    return row


def _percent(values) -> float:
    return round(float(np.nanmean(values)) * 100, 2)


def add_frame_macs(model: BaseSegmentor, rows: List[dict]) -> None:
    """Adds ``head_gmacs_per_frame`` and ``gmacs_per_frame`` to every row:
    the recurrent steps of one frame, from the carried state for video rows
    and from zeros for static rows (multiply-accumulates, see
    :mod:`.video_macs`; per-position rows: their counted ``head_macs``),
    plus the backbone (divided by the row's ``backbone_interval``: its
    average over a video). Video rows carry the canvas with the config's
    ``video_cfg.canvas_decay``."""
    backbone, features = feature_macs(model, tuple(rows[0]['input_shape']))
    canvas_decay = RecurrentVideoInferencer(model).canvas_decay
    for row in rows:
        steps = row['head_macs'] if row['mode'] == 'position' else \
            recurrent_step_macs(
                model.decode_head,
                features,
                row['steps_per_frame'],
                carried_state=row['mode'] == 'video',
                canvas_decay=canvas_decay)
        row['head_gmacs_per_frame'] = round(steps / 1e9, 4)
        row['gmacs_per_frame'] = round(
            average_frame_macs(backbone, steps, row['backbone_interval']) /
            1e9, 4)


def frame_macs_rows(model: BaseSegmentor,
                    input_shape: Tuple[int, int],
                    steps_per_frame: Sequence[int],
                    static_steps: int,
                    backbone_intervals: Sequence[int] = (1, )
                    ) -> List[dict]:
    """GMACs per frame of the static baseline after 1..``static_steps``
    steps and of streaming with each of ``steps_per_frame`` and
    ``backbone_intervals``, on inputs of ``input_shape``; no data needed
    (see :func:`add_frame_macs`)."""
    rows = [
        dict(setting._asdict(), input_shape=list(input_shape)) for setting in
        video_settings([1], steps_per_frame, static_steps, backbone_intervals)
    ]
    add_frame_macs(model, rows)
    return rows


def run_video_benchmark(
    cfg: Config,
    checkpoint: str,
    context_frames: Sequence[int],
    steps_per_frame: Sequence[int],
    static_steps: Optional[int] = None,
    device: str = 'cpu',
    backbone_intervals: Sequence[int] = (1, ),
    position_exits: Sequence[str] = ()
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
        position_exits (Sequence[str]): Per-position rules to stream with
            each of ``context_frames`` (see :func:`parse_video_rule`).
            Default: none.

    Returns:
        list[dict]: The rows of :func:`evaluate_video_settings` with
        ``head_gmacs_per_frame`` and ``gmacs_per_frame``.
    """
    if VIDEO_DATALOADER_KEY not in cfg:
        raise KeyError(f'the config has no {VIDEO_DATALOADER_KEY} (a '
                       'dataloader of CityscapesSequenceDataset clips)')
    loader_cfg = copy.deepcopy(cfg[VIDEO_DATALOADER_KEY])
    loader_cfg.dataset.context_frames = max(context_frames)
    model = load_model(cfg, checkpoint, device)
    static_steps = static_steps or model.inference_steps
    rows = evaluate_video_settings(
        model, Runner.build_dataloader(loader_cfg),
        video_settings(context_frames, steps_per_frame, static_steps,
                       backbone_intervals, position_exits))
    add_frame_macs(model, rows)
    return rows
