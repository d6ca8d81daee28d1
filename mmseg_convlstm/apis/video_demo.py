"""Segment a video with the recurrent state carried across frames: write
the frames with their segmentation drawn over them, or keep the labels of
some frames."""
import os
import os.path as osp
import time
from typing import Dict, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.utils import ProgressBar

from .recurrent_video_inferencer import Frame, RecurrentVideoInferencer
from .video_frame_reader import VideoFrameReader


def overlay_labels(frame: np.ndarray, labels: np.ndarray,
                   palette_bgr: np.ndarray, opacity: float) -> np.ndarray:
    """``frame`` (BGR uint8) blended with the colours of ``labels``."""
    colours = palette_bgr[labels]
    blended = (1 - opacity) * frame + opacity * colours
    return blended.round().astype(np.uint8)


def bgr_palette(palette_rgb: Sequence[Sequence[int]]) -> np.ndarray:
    """A dataset's RGB palette as a (num_classes, 3) BGR uint8 array."""
    return np.asarray(palette_rgb, np.uint8)[:, ::-1]


def _video_writer(path: str, fps: float, shape: tuple) -> cv2.VideoWriter:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (shape[1], shape[0]))
    if not writer.isOpened():
        raise ValueError(f'OpenCV cannot write the video {path} (mp4v)')
    return writer


def segment_video(inferencer: RecurrentVideoInferencer,
                  reader: VideoFrameReader,
                  out_file: Optional[str] = None,
                  frames_dir: Optional[str] = None,
                  opacity: float = 0.5) -> Dict[str, float]:
    """Segments every frame of ``reader`` from a reset inferencer and writes
    the overlays as a video (mp4v) and/or PNG frames.

    Args:
        inferencer (RecurrentVideoInferencer): The streaming model; its
            ``model.dataset_meta['palette']`` colours the classes.
        reader (VideoFrameReader): The frames.
        out_file (str, optional): The overlay video to write.
        frames_dir (str, optional): A folder for the overlays as PNGs.
        opacity (float): Opacity of the colours. Default: 0.5.

    Returns:
        dict: ``frames``, ``segmentation_fps`` (frames per second of the
        inferencer alone) and ``overall_fps`` (with reading and writing).
    """
    palette = bgr_palette(inferencer.model.dataset_meta['palette'])
    if frames_dir:
        os.makedirs(frames_dir, exist_ok=True)
    inferencer.reset()
    writer = None
    progress = ProgressBar(len(reader))
    num_frames, segmentation_seconds = 0, 0.0
    start = time.perf_counter()
    try:
        for name, frame in reader:
            started = time.perf_counter()
            labels = inferencer(frame).labels.cpu().numpy()
            segmentation_seconds += time.perf_counter() - started
            image = overlay_labels(frame, labels, palette, opacity)
            if out_file:
                writer = writer or _video_writer(out_file, reader.fps,
                                                 image.shape)
                writer.write(image)
            if frames_dir:
                mmcv.imwrite(image, osp.join(frames_dir, f'{name}.png'))
            num_frames += 1
            progress.update()
    finally:
        if writer is not None:
            writer.release()
    return dict(
        frames=num_frames,
        segmentation_fps=num_frames / segmentation_seconds,
        overall_fps=num_frames / (time.perf_counter() - start))


def carried_labels(inferencer: RecurrentVideoInferencer,
                   frames: Sequence[Frame],
                   shown: Sequence[int],
                   context: int = 0) -> np.ndarray:
    """The labels that ``inferencer``, reset, carries to some frames of a
    video: it streams ``context`` frames before the first shown one
    (fewer when the video starts sooner) and then every frame up to the
    last shown one, keeping the labels of the shown frames only.

    Args:
        inferencer (RecurrentVideoInferencer): The streaming model.
        frames (Sequence[np.ndarray | str]): The frames of the video in
            order: BGR uint8 images or image files.
        shown (Sequence[int]): Increasing indices in ``frames`` of the
            frames whose labels are returned.
        context (int): Frames streamed before the first shown one, only to
            build up the carried state. Default: 0.

    Returns:
        np.ndarray: The labels (len(shown), H, W) of the shown frames, at
        the frames' size.

    Raises:
        ValueError: When ``shown`` is empty, not increasing or beyond the
            frames.
    """
    _check_shown(shown, len(frames))
    streamed = range(max(0, shown[0] - context), shown[-1] + 1)
    inferencer.reset()
    progress = ProgressBar(len(streamed))
    labels = []
    for index in streamed:
        prediction = inferencer(frames[index])
        if index in shown:
            labels.append(prediction.labels.cpu().numpy())
        progress.update()
    return np.stack(labels)


def _check_shown(shown: Sequence[int], num_frames: int) -> None:
    if not shown or list(shown) != sorted(set(shown)):
        raise ValueError('the frames shown must be given by increasing '
                         f'indices, got {list(shown)}')
    if shown[0] < 0 or shown[-1] >= num_frames:
        raise ValueError(f'the frames shown {list(shown)} are not all among '
                         f'the {num_frames} frames (indices 0 to '
                         f'{num_frames - 1})')
