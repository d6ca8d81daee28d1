from typing import Sequence

import numpy as np
import torch
from mmengine.structures import PixelData

from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

CLIP_META_KEYS = ('img_path', 'seg_map_path', 'clip_paths', 'ori_shape',
                  'img_shape', 'pad_shape', 'scale_factor', 'flip',
                  'flip_direction', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackClipSegInputs(PackSegInputs):
    """Packs a clip loaded by :class:`LoadStackedClip` as
    :class:`PackSegInputs` packs an image, with ``inputs`` of shape
    (num_frames, 3, H, W), oldest frame first.

    The data sample holds the annotation of the last (annotated) frame as a
    (1, H, W) ``gt_sem_seg``, or, after :class:`LoadClipAnnotations`, that of
    every frame as a (num_frames, H, W) ``gt_sem_seg``, oldest first.

    Required keys: those of :class:`PackSegInputs` and ``num_clip_frames``.

    Args:
        meta_keys (Sequence[str]): Meta keys of the data sample; by default
            those of :class:`PackSegInputs` and ``clip_paths``.
    """

    def __init__(self, meta_keys: Sequence[str] = CLIP_META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Packs the clip and its data sample."""
        clip_labels = None
        if results.get('gt_seg_map', np.empty((0, 0))).ndim == 3:
            clip_labels = results.pop('gt_seg_map')
        packed = super().transform(results)
        inputs = packed['inputs']
        num_frames = results['num_clip_frames']
        packed['inputs'] = inputs.reshape(num_frames, -1, *inputs.shape[1:])
        if clip_labels is not None:
            packed['data_samples'].gt_sem_seg = PixelData(
                data=torch.from_numpy(
                    np.ascontiguousarray(clip_labels.transpose(
                        2, 0, 1)).astype(np.int64)))
        return packed
