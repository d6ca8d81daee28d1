from typing import Sequence

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

    The data sample holds the annotation of the last (annotated) frame.

    Required keys: those of :class:`PackSegInputs` and ``num_clip_frames``.

    Args:
        meta_keys (Sequence[str]): Meta keys of the data sample; by default
            those of :class:`PackSegInputs` and ``clip_paths``.
    """

    def __init__(self, meta_keys: Sequence[str] = CLIP_META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Packs the clip and its annotated frame's data sample."""
        packed = super().transform(results)
        inputs = packed['inputs']
        num_frames = results['num_clip_frames']
        packed['inputs'] = inputs.reshape(num_frames, -1, *inputs.shape[1:])
        return packed
