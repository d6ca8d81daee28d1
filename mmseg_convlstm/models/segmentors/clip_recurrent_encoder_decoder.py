from typing import Dict, List

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList, add_prefix
from ..exits.exit_settings import check_carried_steps, merge_options
from .recurrent_encoder_decoder import RecurrentEncoderDecoder
from ..losses.step_losses import canvas_losses, weighted_loss_sum

DEFAULT_CLIP_TRAIN_CFG = dict(
    steps_per_frame=1,
    canvas_decay=1.0,
    loss_frames='all',
    context_backbone_grad=True,
    freeze_features=False)


@MODELS.register_module()
class ClipRecurrentEncoderDecoder(RecurrentEncoderDecoder):
    """:class:`RecurrentEncoderDecoder` trained through the frames of video
    clips, as it runs on video (see :class:`RecurrentVideoInferencer`).

    A training batch of clips (inputs of shape (N, F, 3, H, W), oldest frame
    first, from :class:`ClipSegDataPreProcessor`) goes through the backbone
    frame by frame. The head then runs ``steps_per_frame`` steps on every
    frame from the LSTM states and the canvas that the previous frame left
    (zeros before the first frame), and the loss is taken on the canvas
    after each labelled frame's last step. Backpropagation runs through the
    whole clip (truncated at its F frames). Still images (N, 3, H, W) train
    as :class:`RecurrentEncoderDecoder` trains them; prediction is that of
    :class:`RecurrentEncoderDecoder`.

    ``train_cfg`` options:

    - ``steps_per_frame`` (int): Recurrent steps per frame. Default: 1.
    - ``canvas_decay`` (float): Weight of the carried canvas before each new
      frame, blended with the frame's cold-start canvas (see
      :meth:`ConvLSTMCanvasHead.next_frame_state`), as
      ``video_cfg.canvas_decay`` of
      :class:`RecurrentVideoInferencer` (set both alike). Default: 1.0.
    - ``loss_frames`` (str): 'all' takes the loss on every frame that has
      labels (the data samples' ``gt_sem_seg`` of shape (F, H, W), from
      :class:`LoadClipAnnotations`), averaged over them; 'last' on the last
      frame only, as Cityscapes annotates it (a (1, H, W) ``gt_sem_seg``
      from ``LoadAnnotations`` is always the last frame's). Default: 'all'.
    - ``context_backbone_grad`` (bool): Whether the loss backpropagates into
      the backbone through the features of the frames before the last;
      False computes them without gradient, which saves the backbone's
      activations of those frames. Default: True.
    - ``freeze_features`` (bool): Whether what computes the head's features
      (the backbone, any neck and the head's context module) and the
      auxiliary heads keep the weights and the normalisation statistics
      they were loaded with (no gradient, norms in eval mode), so that only
      the recurrence (the cells and any initial-canvas classifier) learns
      from the clips; ``context_backbone_grad`` then has no effect.
      Default: False.

    Activation checkpointing of the backbone is the backbone's own option
    (``model.backbone.with_cp=True``).

    Args:
        **kwargs: Arguments of :class:`RecurrentEncoderDecoder`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clip_train_cfg = self._clip_options(self.train_cfg or {})
        if self.clip_train_cfg['freeze_features']:
            for module in self._feature_modules():
                module.requires_grad_(False)

    def _feature_modules(self) -> List[nn.Module]:
        """The modules ``freeze_features`` freezes."""
        modules = [
            self.backbone,
            getattr(self, 'neck', None), self.decode_head.context,
            getattr(self, 'auxiliary_head', None)
        ]
        return [module for module in modules if module is not None]

    def train(self, mode: bool = True) -> 'ClipRecurrentEncoderDecoder':
        """Sets the training mode; the modules that ``freeze_features``
        freezes stay in eval mode."""
        super().train(mode)
        if self.clip_train_cfg['freeze_features']:
            for module in self._feature_modules():
                module.eval()
        return self

    @staticmethod
    def _clip_options(train_cfg: dict) -> dict:
        options = merge_options(DEFAULT_CLIP_TRAIN_CFG, train_cfg,
                                'model.train_cfg')
        check_carried_steps(options, 'model.train_cfg')
        if options['loss_frames'] not in ('all', 'last'):
            raise ValueError("model.train_cfg.loss_frames must be 'all' or "
                             f"'last', got {options['loss_frames']!r}")
        return options

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of a batch of clips (N, F, 3, H, W) or of still images
        (N, 3, H, W)."""
        if inputs.ndim == 4:
            return super().loss(inputs, data_samples)
        labelled = self._labelled_frames(inputs.shape[1], data_samples)
        canvases = self._frame_canvases(self._clip_features(inputs))
        tagged_terms = []
        for frame, samples in labelled.items():
            (terms, ), accuracy = canvas_losses(self.decode_head,
                                                [canvases[frame]], samples)
            tagged_terms.append((f'frame{frame}', 1 / len(labelled), terms))
        losses = weighted_loss_sum(tagged_terms)
        losses['acc_seg'] = accuracy
        return add_prefix(losses, 'decode')

    def _clip_features(self, inputs: Tensor) -> List[Tensor]:
        """The head's input features (N, C, h, w) of every frame."""
        num_clips = inputs.shape[0]
        frames = inputs.transpose(0, 1).flatten(0, 1)
        if self.clip_train_cfg['freeze_features']:
            with torch.no_grad():
                features = self.head_features(frames)
        elif (self.clip_train_cfg['context_backbone_grad']
              or len(frames) == num_clips):
            features = self.head_features(frames)
        else:
            with torch.no_grad():
                context = self.head_features(frames[:-num_clips])
            last = self.head_features(frames[-num_clips:])
            features = torch.cat([context, last])
        return list(features.split(num_clips))

    def _frame_canvases(self, features: List[Tensor]) -> List[Tensor]:
        """The canvas after the last step of every frame, the state carried
        from frame to frame."""
        canvases, state = [], None
        for frame_features in features:
            if state is not None:
                state = self.decode_head.next_frame_state(
                    state, frame_features, self.clip_train_cfg['canvas_decay'])
            frame_canvases, state = self.decode_head.run_steps(
                frame_features, self.clip_train_cfg['steps_per_frame'], state)
            canvases.append(frame_canvases[-1])
        return canvases

    def _labelled_frames(self, num_frames: int,
                         data_samples: SampleList) -> Dict[int, SampleList]:
        """Data samples with one frame's labels, by frame index."""
        num_labelled = data_samples[0].gt_sem_seg.data.shape[0]
        if num_labelled not in (1, num_frames):
            raise ValueError(
                f'a clip of {num_frames} frames has labels of {num_labelled} '
                'frames: give the last frame\'s (LoadAnnotations) or every '
                "frame's (LoadClipAnnotations)")
        last_only = (
            self.clip_train_cfg['loss_frames'] == 'last' or num_labelled == 1)
        frames = [num_frames - 1] if last_only else range(num_frames)
        return {
            frame: [
                SegDataSample(
                    metainfo=sample.metainfo,
                    gt_sem_seg=PixelData(
                        data=sample.gt_sem_seg.data[frame - num_frames:][:1]))
                for sample in data_samples
            ]
            for frame in frames
        }
