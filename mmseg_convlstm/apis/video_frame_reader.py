import os
import os.path as osp
from typing import Iterator, List, Tuple

import cv2
import mmcv
import numpy as np

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


class VideoFrameReader:
    """The frames of a video file (decoded by OpenCV) or of a folder of
    images (in the order of their names), as BGR uint8 arrays.

    Iterating yields ``(name, frame)``: the image's file name without its
    extension, or the frame's index (``000000``...) in a video.

    Args:
        source (str): A video file or a folder of images.
        folder_fps (float): Frame rate of a folder of images (a video file
            says its own). Default: 17.0, that of Cityscapes' sequences.

    Raises:
        FileNotFoundError: When ``source`` does not exist or a folder holds
            no image.
        ValueError: When a video cannot be opened or decoded, or (while
            iterating) an image cannot be read or its size differs from the
            first frame's; the message names the file.
    """

    def __init__(self, source: str, folder_fps: float = 17.0) -> None:
        self.source = source
        if osp.isdir(source):
            self.image_paths = self._image_paths(source)
            self.fps = folder_fps
            self.num_frames = len(self.image_paths)
        elif osp.isfile(source):
            self.image_paths = []
            capture = self._open_video()
            self.fps = capture.get(cv2.CAP_PROP_FPS) or folder_fps
            self.num_frames = max(
                int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
            capture.release()
        else:
            raise FileNotFoundError(
                f'{source} is neither a video file nor a folder of frames')

    @staticmethod
    def _image_paths(folder: str) -> List[str]:
        names = sorted(
            name for name in os.listdir(folder)
            if name.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise FileNotFoundError(f'the folder {folder} holds no image '
                                    f'({", ".join(IMAGE_EXTENSIONS)})')
        return [osp.join(folder, name) for name in names]

    def _open_video(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            raise ValueError(
                f'{self.source} cannot be opened as a video by OpenCV')
        return capture

    def __len__(self) -> int:
        """The number of frames (0 when a video does not say)."""
        return self.num_frames

    def __iter__(self) -> Iterator[Tuple[str, np.ndarray]]:
        frames = (
            self._folder_frames()
            if self.image_paths else self._video_frames())
        first_path, first_shape = None, None
        for name, frame, path in frames:
            if first_shape is None:
                first_path, first_shape = path, frame.shape
            elif frame.shape != first_shape:
                raise ValueError(
                    f'frame {path} is {frame.shape[0]}x{frame.shape[1]} '
                    f'(HxW) but the first frame {first_path} is '
                    f'{first_shape[0]}x{first_shape[1]}: all the frames of a'
                    ' video must have one size')
            yield name, frame

    def _folder_frames(self) -> Iterator[Tuple[str, np.ndarray, str]]:
        for path in self.image_paths:
            frame = mmcv.imread(path, flag='color')
            if frame is None:
                raise ValueError(f'frame {path} cannot be read as an image')
            yield osp.splitext(osp.basename(path))[0], frame, path

    def _video_frames(self) -> Iterator[Tuple[str, np.ndarray, str]]:
        capture = self._open_video()
        index = 0
        try:
            while True:
                success, frame = capture.read()
                if not success:
                    break
                yield f'{index:06d}', frame, f'{self.source} (frame {index})'
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise ValueError(f'no frame of {self.source} could be decoded')
