"""A generated miniature of the original CamVid release: frames in
701_StillsRaw_full/, colour labels of the 32 classes in
LabeledApproved_full/X_L.png, for the converter's tests."""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import numpy as np
from PIL import Image

from mmseg_convlstm.datasets.camvid_conversion import (CAMVID_32_CLASSES,
                                                       source_paths)

SIZE = (96, 72)  # width, height
GRID = (4, 8)  # rows, columns: one cell for each of the 32 classes
# One frame of each SegNet split and the frames at the split boundaries.
FRAMES = {
    '0001TP_008520': 'train',
    '0001TP_008550': 'test',
    '0006R0_f00930': 'train',
    '0016E5_07959': 'val',
    '0016E5_08159': 'val',
    '0016E5_08190': 'train',
    'Seq05VD_f00000': 'test',
}


def class_grid(shift: int) -> np.ndarray:
    """(4, 8) indices into CAMVID_32_CLASSES: every class once, rolled by
    ``shift`` so that every frame has its own arrangement."""
    return np.roll(np.arange(32), shift).reshape(GRID)


def colour_labels(grid: np.ndarray, size: Tuple[int, int] = SIZE):
    """The RGB label image of a class grid, each cell a block of pixels."""
    colours = np.array([colour for _, colour, _ in CAMVID_32_CLASSES],
                       np.uint8)
    cell_height, cell_width = size[1] // GRID[0], size[0] // GRID[1]
    return colours[np.kron(grid, np.ones((cell_height, cell_width), np.intp))]


def frame_colour(index: int) -> Tuple[int, int, int]:
    """A uniform image colour of its own for every frame."""
    return (10 * index, 200 - 10 * index, 77)


def make_original_release(root: str,
                          stems: Sequence[str] = tuple(FRAMES),
                          size: Tuple[int, int] = SIZE) -> Dict[str, int]:
    """Writes the frames ``stems`` (uniform images of
    :func:`frame_colour`, labels of :func:`class_grid`) under ``root`` and
    returns each frame's index (its colour and grid shift)."""
    for folder in ('701_StillsRaw_full', 'LabeledApproved_full'):
        os.makedirs(osp.join(root, folder), exist_ok=True)
    for index, stem in enumerate(stems):
        image_path, label_path = source_paths(root, stem)
        Image.new('RGB', size, frame_colour(index)).save(image_path)
        Image.fromarray(colour_labels(class_grid(index), size)).save(
            label_path)
    return {stem: index for index, stem in enumerate(stems)}


def release_with_unknown_colour(root: str, pixel: Tuple[int, int],
                                colour: Tuple[int, int, int]) -> str:
    """A one-frame original release (``0016E5_07959``) whose label has
    ``colour``, none of the 32, at ``pixel`` (row, column); returns the
    label's path."""
    make_original_release(root, ['0016E5_07959'])
    _, label_path = source_paths(root, '0016E5_07959')
    colours = np.array(Image.open(label_path))
    colours[pixel] = colour
    Image.fromarray(colours).save(label_path)
    return label_path
