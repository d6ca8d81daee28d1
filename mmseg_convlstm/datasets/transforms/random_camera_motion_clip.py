import math
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

IMG_BORDERS = dict(
    constant=cv2.BORDER_CONSTANT, replicate=cv2.BORDER_REPLICATE)


def camera_motion_matrix(steps: int, scale: float, rotate_degree: float,
                         translation: Tuple[float, float],
                         center: Tuple[float, float]) -> np.ndarray:
    """The 2x3 affine matrix that maps a pixel (x, y) of the frame ``steps``
    frames before the still to where it appears in the still.

    The camera moves at a constant velocity: each frame magnifies the one
    before it by ``scale`` about ``center`` (x, y), rotates it by
    ``rotate_degree`` (counter-clockwise on the screen) and shifts it by
    ``translation`` (x, y) pixels. The parameters are interpolated linearly
    along the path (the scale in log), so ``steps`` frames before the still
    the magnification is ``scale ** steps``, the angle ``steps *
    rotate_degree`` and the shift ``steps * translation``; ``steps=0`` is
    the identity.
    """
    angle = math.radians(steps * rotate_degree)
    magnification = scale**steps
    linear = magnification * np.array([[
        math.cos(angle), math.sin(angle)
    ], [-math.sin(angle), math.cos(angle)]])
    center = np.asarray(center, dtype=np.float64)
    offset = center - linear @ center + steps * np.asarray(translation)
    return np.concatenate([linear, offset[:, None]], axis=1)


@TRANSFORMS.register_module()
class RandomCameraMotionClip(BaseTransform):
    """Makes a pseudo-clip from one labelled image: the frames that a camera
    moving smoothly towards the image would have seen before it, the image
    itself last.

    Each sample draws one per-frame motion from numpy's global random state
    (as MMSeg's transforms do, so MMEngine's ``randomness.seed`` makes it
    reproducible): a magnification (a car driving forward), a shift and a
    small rotation, constant along the clip (see
    :func:`camera_motion_matrix`). The frame ``k`` frames before the image
    is the image warped back by ``k`` such steps: bilinearly for the image,
    with the nearest neighbour for the label maps (``seg_fields``), by the
    same matrix. A label pixel whose image pixel reads anything outside the
    image (the border uncovered by the motion) becomes ``seg_pad_val``, so
    the loss ignores it; the image there is ``pad_val`` (``img_border=
    'constant'``) or its nearest edge pixel (``'replicate'``).

    The output is that of :class:`LoadStackedClip` and
    :class:`LoadClipAnnotations`: the ``context_frames + 1`` frames stacked
    along the channel axis, oldest first, as ``img`` of shape
    (H, W, 3 * (context_frames + 1)) and every label map as (H, W,
    context_frames + 1), so every frame is labelled and the last frame (the
    one ``loss_frames='last'`` of :class:`ClipRecurrentEncoderDecoder`
    reads) is the image and its labels unchanged. Put it after the
    transforms of one image (``LoadImageFromFile``, ``LoadAnnotations``,
    ``PhotoMetricDistortion``, ``RandomResize``) and before those that also
    take clips (``RandomCrop``, ``RandomFlip``) and
    :class:`PackClipSegInputs`.

    The defaults are about the motion between consecutive frames of
    CamVid's 15 fps val clip (magnification 1.005-1.02 per frame, shifts of
    a few pixels and rotations under half a degree, estimated from matched
    features).

    Required keys: ``img``, ``seg_fields`` and the maps they name.

    Modified keys: ``img`` and the label maps of ``seg_fields``.

    Added keys: ``num_clip_frames``, ``clip_motion`` (the motion drawn:
    ``scale``, ``rotate_degree``, ``translation`` (x, y) in pixels, per
    frame).

    Args:
        context_frames (int): Number K of frames made before the image; the
            clip has K + 1 frames. Default: 3.
        scaling_ratio_range (Sequence[float]): Range of the magnification
            per frame (> 1: the camera moves forward). Default: (1.0, 1.03).
        max_translate_ratio (float | Sequence[float]): Largest shift per
            frame in either direction, as a fraction of the width and the
            height: one number for both, or (x, y). Default: (0.01, 0.005).
        max_rotate_degree (float): Largest rotation per frame in either
            direction, in degrees. Default: 0.5.
        img_border (str): 'constant' (``pad_val``) or 'replicate'.
            Default: 'constant'.
        pad_val (float): Image value of the uncovered border with
            ``img_border='constant'``. Default: 0.
        seg_pad_val (int): Label of the uncovered border. Default: 255.

    Raises:
        ValueError: For a bad argument, naming it, or when the input is
            already a clip.
    """

    def __init__(self,
                 context_frames: int = 3,
                 scaling_ratio_range: Sequence[float] = (1.0, 1.03),
                 max_translate_ratio: Union[float,
                                            Sequence[float]] = (0.01, 0.005),
                 max_rotate_degree: float = 0.5,
                 img_border: str = 'constant',
                 pad_val: float = 0,
                 seg_pad_val: int = 255) -> None:
        if context_frames < 0:
            raise ValueError('context_frames must be at least 0, got '
                             f'{context_frames}')
        low, high = scaling_ratio_range
        if not 0 < low <= high:
            raise ValueError('scaling_ratio_range must be (low, high) with '
                             f'0 < low <= high, got {scaling_ratio_range}')
        if isinstance(max_translate_ratio, (int, float)):
            max_translate_ratio = (max_translate_ratio, max_translate_ratio)
        if len(max_translate_ratio) != 2 or min(max_translate_ratio) < 0:
            raise ValueError('max_translate_ratio must be a number >= 0 or '
                             f'(x, y) of them, got {max_translate_ratio}')
        if max_rotate_degree < 0:
            raise ValueError('max_rotate_degree must be at least 0, got '
                             f'{max_rotate_degree}')
        if img_border not in IMG_BORDERS:
            raise ValueError(f'img_border must be one of {list(IMG_BORDERS)}'
                             f', got {img_border!r}')
        self.context_frames = context_frames
        self.scaling_ratio_range = (float(low), float(high))
        self.max_translate_ratio = tuple(
            float(ratio) for ratio in max_translate_ratio)
        self.max_rotate_degree = float(max_rotate_degree)
        self.img_border = img_border
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def _sample_motion(self, height: int, width: int) -> Dict:
        """One per-frame motion, from numpy's global random state."""
        scale = np.random.uniform(*self.scaling_ratio_range)
        rotate_degree = np.random.uniform(-self.max_rotate_degree,
                                          self.max_rotate_degree)
        ratio_x, ratio_y = self.max_translate_ratio
        translation = (np.random.uniform(-ratio_x, ratio_x) * width,
                       np.random.uniform(-ratio_y, ratio_y) * height)
        return dict(
            scale=float(scale),
            rotate_degree=float(rotate_degree),
            translation=tuple(float(shift) for shift in translation))

    def transform(self, results: dict) -> dict:
        """Turns ``results``' image and label maps into a clip."""
        img = results['img']
        if 'num_clip_frames' in results or img.ndim != 3:
            raise ValueError(
                'RandomCameraMotionClip makes a clip from one image of shape '
                f'(H, W, C); got img of shape {img.shape}' +
                (', already a clip of num_clip_frames='
                 f"{results['num_clip_frames']}" if 'num_clip_frames' in
                 results else ''))
        height, width = img.shape[:2]
        motion = self._sample_motion(height, width)
        center = ((width - 1) / 2, (height - 1) / 2)
        matrices = [
            camera_motion_matrix(steps, center=center, **motion)
            for steps in range(self.context_frames, 0, -1)
        ]
        covered = [
            self._coverage(matrix, height, width) for matrix in matrices
        ]
        results['img'] = np.concatenate(
            [self._warp_image(img, matrix) for matrix in matrices] + [img],
            axis=2)
        for key in results.get('seg_fields', []):
            labels = results[key]
            if labels.ndim != 2:
                raise ValueError(
                    f'RandomCameraMotionClip warps label maps of shape (H, W);'
                    f' got {key} of shape {labels.shape}')
            results[key] = np.stack(
                self._warp_labels(labels, matrices, covered) + [labels],
                axis=2)
        results['num_clip_frames'] = self.context_frames + 1
        results['clip_motion'] = motion
        return results

    def _warp_image(self, img: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        warped = cv2.warpAffine(
            img,
            matrix, (img.shape[1], img.shape[0]),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=IMG_BORDERS[self.img_border],
            borderValue=(self.pad_val, ) * 4)
        return warped.reshape(img.shape)

    def _warp_labels(self, labels: np.ndarray, matrices: List[np.ndarray],
                     covered: List[np.ndarray]) -> List[np.ndarray]:
        frames = []
        for matrix, inside in zip(matrices, covered):
            warped = cv2.warpAffine(
                labels,
                matrix, (labels.shape[1], labels.shape[0]),
                flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=self.seg_pad_val)
            warped[~inside] = self.seg_pad_val
            frames.append(warped)
        return frames

    @staticmethod
    def _coverage(matrix: np.ndarray, height: int, width: int) -> np.ndarray:
        """Where the bilinear warp reads only pixels inside the image."""
        inside = cv2.warpAffine(
            np.full((height, width), 255, np.uint8),
            matrix, (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0)
        return inside == 255

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'context_frames={self.context_frames}, '
                f'scaling_ratio_range={self.scaling_ratio_range}, '
                f'max_translate_ratio={self.max_translate_ratio}, '
                f'max_rotate_degree={self.max_rotate_degree}, '
                f"img_border='{self.img_border}', pad_val={self.pad_val}, "
                f'seg_pad_val={self.seg_pad_val})')
