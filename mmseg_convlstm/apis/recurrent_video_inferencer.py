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
from ..models.convlstm_canvas_head import RecurrentState

Frame = Union[np.ndarray, str]
"""A BGR uint8 image (H, W, 3), as OpenCV reads it, or an image file."""
DEFAULT_VIDEO_CFG = dict(
    steps_per_frame=1, canvas_decay=1.0, scene_cut_threshold=None)


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
    - ``canvas_decay`` (float): Factor of the carried canvas before each new
      frame: 1 keeps it, 0 starts each frame from an empty canvas (the LSTM
      states are still carried). Default: 1.0.
    - ``scene_cut_threshold`` (float, optional): Reset everything, as
      :meth:`reset` does, when the mean absolute change of the backbone
      features from the previous frame, relative to their mean absolute
      value, exceeds this. None never resets. Default: None.

    Frames go through the config's ``test_pipeline`` (without
    ``LoadAnnotations``) and the model's data preprocessor, as in
    :func:`mmseg.apis.inference_model`.

    Args:
        model (str | Config | BaseSegmentor): A config (file) whose model has
            a :class:`ConvLSTMCanvasHead`, built by
            :func:`mmseg.apis.init_model`, or such a model already built (in
            eval mode, with its ``cfg``).
        checkpoint (str, optional): Checkpoint to load into a model built
            from a config. Default: None.
        device (str): Device of a model built from a config. Default: 'cpu'.
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
                 **video_cfg) -> None:
        if not isinstance(model, BaseSegmentor):
            model = init_model(model, checkpoint, device)
        self.model = model
        self.head = model.decode_head
        options = self._options(model.cfg, video_cfg)
        self.steps_per_frame = options['steps_per_frame']
        self.canvas_decay = options['canvas_decay']
        self.scene_cut_threshold = options['scene_cut_threshold']
        self.pipeline = self._frame_pipeline(model.cfg)
        self.reset()

    @staticmethod
    def _options(cfg: Config, overrides: dict) -> dict:
        options = dict(DEFAULT_VIDEO_CFG)
        for source, values in (('video_cfg', cfg.get('video_cfg', {})),
                               ('keyword', overrides)):
            unknown = set(values) - set(DEFAULT_VIDEO_CFG)
            if unknown:
                raise KeyError(
                    f'unknown {source} option(s) {sorted(unknown)}; the '
                    f'options are {sorted(DEFAULT_VIDEO_CFG)}')
            options.update(values)
        if options['steps_per_frame'] < 1:
            raise ValueError('video_cfg.steps_per_frame must be at least 1, '
                             f"got {options['steps_per_frame']}")
        if not 0 <= options['canvas_decay'] <= 1:
            raise ValueError('video_cfg.canvas_decay must be in [0, 1], got '
                             f"{options['canvas_decay']}")
        return options

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

    def reset(self) -> None:
        """Forgets the past frames: zero LSTM states, empty canvas."""
        self.state: Optional[RecurrentState] = None
        self._previous_features: Optional[Tensor] = None

    @torch.no_grad()
    def __call__(self, frame: Frame) -> VideoFramePrediction:
        """Segments the next frame of the video.

        Args:
            frame (np.ndarray | str): A BGR uint8 image (H, W, 3), as OpenCV
                reads it, or the path of an image file.
        """
        inputs, data_sample = self.preprocess(frame)
        canvas, state_reset = self.advance(self.extract_features(inputs))
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
        return self.head._transform_inputs(self.model.extract_feat(inputs))

    def advance(self, features: Tensor) -> Tuple[Tensor, bool]:
        """Runs ``steps_per_frame`` steps on the next frame's features from
        the carried state, and carries the new state.

        Args:
            features (Tensor): The frame's features (N, C, h, w), N videos at
                once.

        Returns:
            tuple[Tensor, bool]: The canvas (N, num_classes, h, w) after the
            last step, and whether the state was reset first.
        """
        state_reset = self.state is None or self._is_scene_cut(features)
        if state_reset:
            self.reset()
        elif features.shape != self._previous_features.shape:
            raise ValueError(
                f'the features of this frame are {tuple(features.shape)} but '
                'those of the previous frame were '
                f'{tuple(self._previous_features.shape)}: the frames of a '
                'video must have one size; call reset() to start a new video')
        canvases, self.state = self.head.run_steps(features,
                                                   self.steps_per_frame,
                                                   self._carried_state())
        self._previous_features = features
        return canvases[-1], state_reset

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

    def _carried_state(self) -> Optional[RecurrentState]:
        if self.state is None:
            return None
        canvas = self.state.canvas
        if self.canvas_decay == 0:
            canvas = None
        elif self.canvas_decay != 1:
            canvas = self.canvas_decay * canvas
        return RecurrentState(self.state.lstm, canvas)

    def labels(self, canvas: Tensor, data_sample: SegDataSample) -> Tensor:
        """The (H, W) labels at the frame's original size of one frame's
        canvas (1, num_classes, h, w)."""
        logits = self.head.predict_by_feat(canvas, [data_sample.metainfo])
        result = self.model.postprocess_result(
            logits, [SegDataSample(metainfo=data_sample.metainfo)])
        return result[0].pred_sem_seg.data[0]
