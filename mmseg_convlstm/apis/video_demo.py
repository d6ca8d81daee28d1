"""Segment a video with the recurrent state carried across frames and write
the frames with their segmentation drawn over them."""
import os
import os.path as osp
import time
from typing import Dict, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.utils import ProgressBar

from .recurrent_video_inferencer import RecurrentVideoInferencer
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
