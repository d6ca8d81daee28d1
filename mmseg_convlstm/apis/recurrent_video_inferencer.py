import copy
from typing import NamedTuple, Optional, Tuple, Union

import mmcv
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from torch import Tensor

from mmseg.apis import init_model
from mmseg.models import BaseSegmentor
from mmseg.structures import SegDataSample
from ..models.exits.exit_settings import (check_carried_steps,
                                          check_time_budget, merge_options)
from ..models.exits.step_loop import EagerSteps, Never, run_until
from ..models.exits.step_policies import VIDEO_EXIT_KEY, VideoPositionExit
from ..models.exits.time_budget import BudgetRule, TimeBudget, device_time_ms
from ..models.layers.recurrent_state import RecurrentState

Frame = Union[np.ndarray, str]
"""A BGR uint8 image (H, W, 3), as OpenCV reads it, or an image file."""
DEFAULT_VIDEO_CFG = dict(
    steps_per_frame=1,
    canvas_decay=1.0,
    scene_cut_threshold=None,
    backbone_interval=1,
    position_exit=None)


class VideoFramePrediction(NamedTuple):
    """What :class:`RecurrentVideoInferencer` returns for one frame."""
    labels: Tensor
    """(H, W) int64 class of every pixel, at the frame's size."""
    canvas: Tensor
    """(num_classes, h, w) canvas (logits) at the features' resolution."""
    state_reset: bool
    """Whether the carried state was reset before this frame (the first
    frame, or a scene cut)."""


class RecurrentVideoInferencer:
    """Segments a video frame by frame, carrying the recurrent state across
    frames.

    For every frame the backbone computes features; then
    ``steps_per_frame`` steps of the :class:`ConvLSTMCanvasHead` run from the
    LSTM states and the canvas that the previous frame left. The canvas
    keeps the segmentation of the past frames, so one step per frame can
    reach the quality of many steps on a still image. :meth:`reset` starts a
    new video.

    The options are read from the config's ``video_cfg`` dict and can be
    overridden by keyword arguments:

    - ``steps_per_frame`` (int): Recurrent steps per frame. Default: 1.
    - ``canvas_decay`` (float): Weight of the carried canvas before each
      new frame, blended with the frame's cold-start canvas (zero, or that
      of ``init_canvas``; see :meth:`ConvLSTMCanvasHead.next_frame_state`):
      1 keeps it, 0 starts each frame from its cold canvas (the LSTM states
      are still carried). Default: 1.0.
    - ``scene_cut_threshold`` (float, optional): Reset everything, as
      :meth:`reset` does, when the mean absolute change of the backbone
      features from the previous frame, relative to their mean absolute
      value, exceeds this. None never resets. Default: None.
    - ``backbone_interval`` (int): Run the backbone on every N-th frame only
      (the first after a reset, then every N-th); the frames in between run
      their recurrent steps on the last computed features, so they cost only
      the steps. Scene cuts are detected on the frames that run the
      backbone. Default: 1 (every frame).
    - ``position_exit`` (dict, optional): Per-position steps (see
      :class:`~mmseg_convlstm.models.exits.step_policies.VideoPositionExit`): a
      feature position whose features barely changed since its last step
      (``skip_change``) or whose carried label is confident
      (``skip_confidence``; with both, both must hold) keeps its state and
      skips the frame; the others run until their label settles
      (``settle_steps``) or is confident (``confidence``), at least
      ``min_steps`` (default 1) and at most ``max_steps`` steps (default
      ``steps_per_frame``); :attr:`exit_steps` says how many each ran. The
      cells must be 1x1. None runs ``steps_per_frame`` steps at every
      position. Default: None.

    Frames go through the config's ``test_pipeline`` (without
    ``LoadAnnotations``) and the model's data preprocessor, as in
    :func:`mmseg.apis.inference_model`.

    Args:
        model (str | Config | BaseSegmentor): A config (file) whose model has
            a :class:`ConvLSTMCanvasHead`, built by
            :func:`mmseg.apis.init_model`, or such a model already built (in
            eval mode, with its ``cfg``; or a deployed one, see
            :class:`~mmseg_convlstm.deploy.DeployedVideoInferencer`).
        checkpoint (str, optional): Checkpoint to load into a model built
            from a config. Default: None.
        device (str): Device of a model built from a config. Default: 'cpu'.
        time_budget_ms (float, optional): Milliseconds for each frame's
            backbone and steps: of the ``steps_per_frame`` steps, those run
            while the next fits in what is left (at least one; see
            :class:`TimeBudget`, timed by the model's ``clock``);
            :attr:`steps_used` says how many ran. None runs them all.
            Default: None.
        **video_cfg: Overrides of the config's ``video_cfg``.

    Example:
        >>> inferencer = RecurrentVideoInferencer(config, checkpoint)
        >>> for frame in frames:  # BGR uint8 arrays or image files
        ...     labels, canvas, _ = inferencer(frame)
    """

    def __init__(self,
                 model: Union[str, Config, BaseSegmentor],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 time_budget_ms: Optional[float] = None,
                 **video_cfg) -> None:
        if isinstance(model, (str, Config)):
            model = init_model(model, checkpoint, device)
        self.model = model
        self.head = model.decode_head
        self.time_budget_ms = None if time_budget_ms is None else \
            check_time_budget(time_budget_ms, 'time_budget_ms')
        self.steps_used = 0  # recurrent steps run on the last frame
        # With position_exit, the steps of every position on the last frame.
        self.exit_steps: Optional[Tensor] = None
        options = self._options(model.cfg, video_cfg)
        self.steps_per_frame = options['steps_per_frame']
        self.canvas_decay = options['canvas_decay']
        self.scene_cut_threshold = options['scene_cut_threshold']
        self.backbone_interval = options['backbone_interval']
        self.position_exit = self._position_exit(options)
        self.pipeline = self._frame_pipeline(model.cfg)
        self.reset()

    @staticmethod
    def _options(cfg: Config, overrides: dict) -> dict:
        options = merge_options(DEFAULT_VIDEO_CFG, cfg.get('video_cfg', {}),
                                'video_cfg')
        options = merge_options(options, overrides, 'keyword')
        check_carried_steps(options, 'video_cfg')
        if (not isinstance(options['backbone_interval'], int)
                or options['backbone_interval'] < 1):
            raise ValueError(
                'video_cfg.backbone_interval must be an integer of at least '
                f"1, got {options['backbone_interval']!r}")
        return options

    def _position_exit(self, options: dict) -> Optional[VideoPositionExit]:
        exit_cfg = options['position_exit']
        if exit_cfg is None:
            return None
        if self.time_budget_ms is not None:
            raise ValueError(
                f'{VIDEO_EXIT_KEY} and time_budget_ms both choose the steps '
                'of a frame: set only one of them')
        try:
            return VideoPositionExit(**{
                'max_steps': options['steps_per_frame'],
                **exit_cfg
            })
        except TypeError as error:
            raise ValueError(f'{VIDEO_EXIT_KEY}: {error}') from error

    @staticmethod
    def _frame_pipeline(cfg: Config) -> Compose:
        if 'test_pipeline' not in cfg:
            raise KeyError('RecurrentVideoInferencer needs the config key '
                           'test_pipeline (the transforms of one image)')
        transforms = [
            copy.deepcopy(transform) for transform in cfg.test_pipeline
            if transform['type'] != 'LoadAnnotations'
        ]
        transforms[0]['type'] = 'LoadImageFromNDArray'
        return Compose(transforms)

    def reset(self, backbone_phase: int = 0) -> None:
        """Forgets the past frames: zero LSTM states, empty canvas.

        Args:
            backbone_phase (int): With ``backbone_interval`` N, the backbone
                runs on the first frame after the reset and on every frame
                ``i`` with ``(i - backbone_phase) % N == 0`` (frames counted
                from 0 at the reset). Default: 0.
        """
        self.state: Optional[RecurrentState] = None
        self._previous_features: Optional[Tensor] = None
        # With position_exit, every position's features at its last step.
        self._reference_features: Optional[Tensor] = None
        self._previous_input_shape: Optional[torch.Size] = None
        self._frame_index = 0
        self._backbone_phase = backbone_phase

    @torch.no_grad()
    def __call__(self, frame: Frame) -> VideoFramePrediction:
        """Segments the next frame of the video.

        Args:
            frame (np.ndarray | str): A BGR uint8 image (H, W, 3), as OpenCV
                reads it, or the path of an image file.
        """
        inputs, data_sample = self.preprocess(frame)
        budget = self._frame_budget(inputs.device)
        features = None
        if (self.needs_backbone()
                or inputs.shape[-2:] != self._previous_input_shape):
            features = self.extract_features(inputs)
            self._previous_input_shape = inputs.shape[-2:]
        canvas, state_reset = self.advance(features, budget)
        return VideoFramePrediction(
            self.labels(canvas, data_sample), canvas[0], state_reset)

    def preprocess(self, frame: Frame) -> Tuple[Tensor, SegDataSample]:
        """The network input (1, 3, H', W') of a frame and its data sample
        (with the metainfo that maps the prediction back to the frame)."""
        if isinstance(frame, str):
            path, frame = frame, mmcv.imread(frame)
            if frame is None:
                raise ValueError(f'frame {path} cannot be read as an image')
        data = self.pipeline(dict(img=frame))
        data = self.model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
            False)
        return data['inputs'], data['data_samples'][0]

    def extract_features(self, inputs: Tensor) -> Tensor:
        """The backbone (and neck) features (N, C, h, w) that the head
        reads, of preprocessed inputs (N, 3, H, W)."""
        return self.model.head_features(inputs)

    def needs_backbone(self) -> bool:
        """Whether the next frame is one on which the backbone runs (see
        ``backbone_interval`` and :meth:`reset`)."""
        return (self._frame_index == 0
                or (self._frame_index - self._backbone_phase) %
                self.backbone_interval == 0)

    def _frame_budget(self, device: torch.device) -> Optional[TimeBudget]:
        """The time budget of a frame starting now, or None without
        ``time_budget_ms``."""
        if self.time_budget_ms is None:
            return None
        return TimeBudget(self.time_budget_ms, device,
                          getattr(self.model, 'clock', device_time_ms))

    def advance(self,
                features: Optional[Tensor],
                budget: Optional[TimeBudget] = None) -> Tuple[Tensor, bool]:
        """Runs ``steps_per_frame`` steps on the next frame's features from
        the carried state, and carries the new state.

        Args:
            features (Tensor, optional): The frame's features (N, C, h, w),
                N videos at once; None runs the steps on the last features
                given (a frame on which the backbone does not run).
            budget (TimeBudget, optional): Stops before ``steps_per_frame``
                steps when the next does not fit (at least one runs); None
                runs them all.

        Returns:
            tuple[Tensor, bool]: The canvas (N, num_classes, h, w) after the
            last step, and whether the state was reset first.
        """
        if features is None:
            if self._previous_features is None:
                raise ValueError(
                    'advance(None) reuses the last features, but no frame '
                    'has given features since the reset')
            return self._steps(self._previous_features, budget), False
        state_reset = self.state is None or self._is_scene_cut(features)
        if state_reset:
            if self.state is not None:
                self.reset()
        elif features.shape != self._previous_features.shape:
            raise ValueError(
                f'the features of this frame are {tuple(features.shape)} but '
                'those of the previous frame were '
                f'{tuple(self._previous_features.shape)}: the frames of a '
                'video must have one size; call reset() to start a new video')
        self._previous_features = features
        return self._steps(features, budget), state_reset

    def _steps(self, features: Tensor, budget: Optional[TimeBudget]) -> Tensor:
        if self.position_exit is None:
            run = run_until(
                EagerSteps(self.head, features,
                           self._carried_state(features)),
                self.steps_per_frame,
                Never() if budget is None else BudgetRule(budget))
            self.state, self.steps_used = run.state, run.steps_run
        else:
            self._position_steps(features)
        self._frame_index += 1
        return self.state.canvas

    def _position_steps(self, features: Tensor) -> None:
        state = self._carried_state(features)
        if state is not None:
            state = self.head.dense_state(features, state)
        self.state, self.exit_steps = self.position_exit.run(
            self.head, features, state, self._reference_features)
        self.steps_used = int(self.exit_steps.max())
        ran = (self.exit_steps > 0).unsqueeze(1)
        self._reference_features = (
            features if self._reference_features is None else torch.where(
                ran, features, self._reference_features))

    def _is_scene_cut(self, features: Tensor) -> bool:
        if (self.scene_cut_threshold is None
                or features.shape != self._previous_features.shape):
            return False
        return self.feature_change(self._previous_features,
                                   features) > self.scene_cut_threshold

    @staticmethod
    def feature_change(previous: Tensor, current: Tensor) -> float:
        """Mean absolute change between two frames' features, relative to
        the mean absolute value of the previous ones (what
        ``scene_cut_threshold`` is compared with)."""
        scale = previous.abs().mean().clamp_min(
            torch.finfo(previous.dtype).tiny)
        return float((current - previous).abs().mean() / scale)

    def _carried_state(self, features: Tensor) -> Optional[RecurrentState]:
        if self.state is None:
            return None
        return self.head.next_frame_state(self.state, features,
                                          self.canvas_decay)

    def labels(self, canvas: Tensor, data_sample: SegDataSample) -> Tensor:
        """The (H, W) labels at the frame's original size of one frame's
        canvas (1, num_classes, h, w)."""
        logits = self.head.predict_by_feat(canvas, [data_sample.metainfo])
        result = self.model.postprocess_result(
            logits, [SegDataSample(metainfo=data_sample.metainfo)])
        return result[0].pred_sem_seg.data[0]
