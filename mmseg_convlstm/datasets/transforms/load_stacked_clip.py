from typing import List, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadStackedClip(BaseTransform):
    """Loads the frames of a clip stacked along the channel axis.

    The frames of ``clip_paths`` (oldest first, the annotated frame last)
    become one image ``img`` of shape (H, W, 3 * num_frames), so that MMSeg's
    geometric transforms that follow (``Resize``, ``RandomResize``,
    ``RandomCrop``, ``RandomFlip``) resize, crop and flip every frame alike.
    Transforms that mix the colour channels (``PhotoMetricDistortion``) do not
    apply. :class:`PackClipSegInputs` unstacks the frames.

    Required keys: ``clip_paths``.

    Added keys: ``img``, ``img_shape``, ``ori_shape``, ``num_clip_frames``.

    Args:
        to_float32 (bool): Convert the frames to float32. Default: False.
        imdecode_backend (str): Backend of :func:`mmcv.imfrombytes`.
            Default: 'cv2'.
        backend_args (dict, optional): Arguments of the file backend.
            Default: None.

    Raises:
        FileNotFoundError: When a frame does not exist, naming it.
        ValueError: When a frame cannot be decoded, or its size differs from
            the annotated frame's, naming both.
    """
    paths_key = 'clip_paths'
    decode_flag = 'color'

    def __init__(self,
                 to_float32: bool = False,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32 = to_float32
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Loads the clip into ``results['img']``."""
        paths = results[self.paths_key]
        frames = [self._load(path) for path in paths]
        self._check_sizes(frames, paths)
        frames = [frame.reshape(*frame.shape[:2], -1) for frame in frames]
        return self._store(results, np.concatenate(frames, axis=2))

    def _store(self, results: dict, stacked: np.ndarray) -> dict:
        if self.to_float32:
            stacked = stacked.astype(np.float32)
        results['img'] = stacked
        results['img_shape'] = stacked.shape[:2]
        results['ori_shape'] = stacked.shape[:2]
        results['num_clip_frames'] = len(results[self.paths_key])
        return results

    def _load(self, path: str) -> np.ndarray:
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as error:
            raise FileNotFoundError(f'frame {path} does not exist') from error
        frame = mmcv.imfrombytes(
            content, flag=self.decode_flag, backend=self.imdecode_backend)
        if frame is None:
            raise ValueError(f'frame {path} cannot be decoded as an image')
        return frame

    @staticmethod
    def _check_sizes(frames: List[np.ndarray], paths: List[str]) -> None:
        annotated_size = frames[-1].shape[:2]
        for frame, path in zip(frames, paths):
            if frame.shape[:2] != annotated_size:
                raise ValueError(
                    f'frame {path} is {frame.shape[0]}x{frame.shape[1]} '
                    f'(HxW) but the annotated frame {paths[-1]} is '
                    f'{annotated_size[0]}x{annotated_size[1]}: all the '
                    'frames of a clip must have one size')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
