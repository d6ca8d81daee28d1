from typing import Dict, Optional

import numpy as np

from mmseg.registry import TRANSFORMS
from .load_stacked_clip import LoadStackedClip


def map_labels(labels: np.ndarray, reduce_zero_label: bool,
               label_map: Optional[Dict[int, int]]) -> np.ndarray:
    """``labels`` (uint8) with the dataset's ``reduce_zero_label`` (0
    ignored, the other labels one less) and ``label_map`` (old id to new id,
    e.g. CamVid's void to 255) applied, as MMSeg's ``LoadAnnotations``
    applies them."""
    if reduce_zero_label:
        labels = np.where(labels == 0, 255, labels - 1).astype(np.uint8)
        labels[labels == 254] = 255
    if label_map:
        mapped = labels.copy()
        for old_id, new_id in label_map.items():
            mapped[labels == old_id] = new_id
        labels = mapped
    return labels


@TRANSFORMS.register_module()
class LoadClipAnnotations(LoadStackedClip):
    """Loads the label maps of every frame of a clip, stacked along the
    channel axis as ``gt_seg_map`` of shape (H, W, num_frames), oldest first,
    so that the geometric transforms that follow move them with the frames
    of :class:`LoadStackedClip`. :class:`PackClipSegInputs` packs them as a
    (num_frames, H, W) ``gt_sem_seg``.

    Use it instead of ``LoadAnnotations`` when every frame has labels (the
    generated sequences' ``gtFine_sequence``; see
    :class:`CityscapesSequenceDataset`'s ``sequence_seg_map_path``; CamVid's
    frames in :class:`CamVidSequenceDataset`). The dataset's
    ``reduce_zero_label`` and ``label_map`` (CamVid's void to 255) apply to
    every frame as ``LoadAnnotations`` applies them.

    Required keys: ``clip_seg_map_paths``.

    Added keys: ``gt_seg_map``, ``seg_fields``.

    Args:
        imdecode_backend (str): Backend of :func:`mmcv.imfrombytes`.
            Default: 'pillow' (as MMSeg's ``LoadAnnotations``).
        backend_args (dict, optional): Arguments of the file backend.
            Default: None.

    Raises:
        FileNotFoundError: When a label map does not exist, naming it.
        ValueError: When a label map cannot be decoded, or its size differs
            from the annotated frame's, naming both.
    """
    paths_key = 'clip_seg_map_paths'
    decode_flag = 'unchanged'

    def __init__(self,
                 imdecode_backend: str = 'pillow',
                 backend_args=None) -> None:
        super().__init__(
            imdecode_backend=imdecode_backend, backend_args=backend_args)

    def _store(self, results: dict, stacked: np.ndarray) -> dict:
        results['gt_seg_map'] = map_labels(
            stacked.astype(np.uint8), results.get('reduce_zero_label', False),
            results.get('label_map'))
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(imdecode_backend="
                f"'{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
