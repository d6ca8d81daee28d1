"""Converts the original CamVid release into SegNet's 11-class layout.

The original release (Brostow et al. 2009) holds 960x720 frames in
``701_StillsRaw_full/X.png`` and their labels in
``LabeledApproved_full/X_L.png``: RGB images whose colours are the 32 classes
of ``label_colors.txt`` (:data:`CAMVID_32_CLASSES`). :func:`convert_camvid`
writes what :class:`~mmseg_convlstm.datasets.CamVidDataset` reads, the layout
SegNet made standard: ``{split}/X.png`` RGB frames and ``{split}annot/X.png``
mode-L label maps (values 0-10 the 11 classes, 11 void), resized to 480x360
(labels with nearest neighbour), and ``{split}.txt`` listing the pairs as
SegNet does.

A colour outside the 32 is an error naming the file and the colour: such a
file is not a CamVid label (or is damaged), and counting it as void would
hide that.
"""
import os
import os.path as osp
from functools import lru_cache, partial
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import list_from_file
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image

from .camvid_dataset import CAMVID_CLASSES, CAMVID_VOID, camvid_frame

IMAGE_FOLDER = '701_StillsRaw_full'
LABEL_FOLDER = 'LabeledApproved_full'
LABEL_SUFFIX = '_L.png'
SEGNET_SIZE = (480, 360)  # (width, height) of SegNet's files
VOID = 'void'
# The 32 classes of the original release (its label_colors.txt: name and
# RGB colour) and the SegNet class each one is grouped into. SegNet's files
# do not document their grouping; this is the one commonly used to rebuild
# them (e.g. MATLAB's CamVid example).
CAMVID_32_CLASSES: Tuple[Tuple[str, Tuple[int, int, int], str], ...] = (
    ('Animal', (64, 128, 64), 'Pedestrian'),
    ('Archway', (192, 0, 128), 'Building'),
    ('Bicyclist', (0, 128, 192), 'Bicyclist'),
    ('Bridge', (0, 128, 64), 'Building'),
    ('Building', (128, 0, 0), 'Building'),
    ('Car', (64, 0, 128), 'Car'),
    ('CartLuggagePram', (64, 0, 192), 'Pedestrian'),
    ('Child', (192, 128, 64), 'Pedestrian'),
    ('Column_Pole', (192, 192, 128), 'Pole'),
    ('Fence', (64, 64, 128), 'Fence'),
    ('LaneMkgsDriv', (128, 0, 192), 'Road'),
    ('LaneMkgsNonDriv', (192, 0, 64), 'Road'),
    ('Misc_Text', (128, 128, 64), 'SignSymbol'),
    ('MotorcycleScooter', (192, 0, 192), 'Bicyclist'),
    ('OtherMoving', (128, 64, 64), 'Car'),
    ('ParkingBlock', (64, 192, 128), 'Pavement'),
    ('Pedestrian', (64, 64, 0), 'Pedestrian'),
    ('Road', (128, 64, 128), 'Road'),
    ('RoadShoulder', (128, 128, 192), 'Pavement'),
    ('Sidewalk', (0, 0, 192), 'Pavement'),
    ('SignSymbol', (192, 128, 128), 'SignSymbol'),
    ('Sky', (128, 128, 128), 'Sky'),
    ('SUVPickupTruck', (64, 128, 192), 'Car'),
    ('TrafficCone', (0, 0, 64), 'Pole'),
    ('TrafficLight', (0, 64, 64), 'SignSymbol'),
    ('Train', (192, 64, 128), 'Car'),
    ('Tree', (128, 128, 0), 'Tree'),
    ('Truck_Bus', (192, 128, 192), 'Car'),
    ('Tunnel', (64, 0, 64), 'Building'),
    ('VegetationMisc', (192, 192, 0), 'Tree'),
    ('Void', (0, 0, 0), VOID),
    ('Wall', (64, 192, 0), 'Building'),
)
_UNKNOWN = 255
_MAX_LISTED = 5


class UnknownColourError(ValueError):
    """A label image holds a colour that is none of CamVid's 32."""


def segnet_label(segnet_class: str) -> int:
    """The label value of one of SegNet's 11 classes, or 11 for void."""
    if segnet_class == VOID:
        return CAMVID_VOID
    return CAMVID_CLASSES.index(segnet_class)


def _colour_codes(colours: np.ndarray) -> np.ndarray:
    colours = colours.astype(np.int32)
    return (colours[..., 0] << 16) | (colours[..., 1] << 8) | colours[..., 2]


@lru_cache(maxsize=1)
def _colour_table() -> np.ndarray:
    """SegNet's label of every 24-bit colour; 255 for unknown colours."""
    table = np.full(1 << 24, _UNKNOWN, np.uint8)
    for _, colour, segnet_class in CAMVID_32_CLASSES:
        table[_colour_codes(np.array(colour))] = segnet_label(segnet_class)
    return table


def colours_to_segnet_labels(colours: np.ndarray,
                             path: str = '') -> np.ndarray:
    """Maps an (H, W, 3) RGB label image of the 32 classes to SegNet's
    label values (H, W), uint8.

    Raises:
        UnknownColourError: A colour is none of the 32; the message names
            ``path``, the colours and their pixel counts.
    """
    labels = _colour_table()[_colour_codes(colours)]
    unknown = labels == _UNKNOWN
    if unknown.any():
        found, counts = np.unique(
            colours[unknown].reshape(-1, 3), axis=0, return_counts=True)
        listed = ', '.join(f'RGB {tuple(int(v) for v in colour)} '
                           f'({count} pixels)' for colour, count in zip(
                               found[:_MAX_LISTED], counts[:_MAX_LISTED]))
        raise UnknownColourError(
            f'{path}: colours that are none of the 32 CamVid classes: '
            f'{listed}' + _more(len(found)))
    return labels


def _more(count: int) -> str:
    return f' and {count - _MAX_LISTED} more' if count > _MAX_LISTED else ''


def segnet_split(stem: str) -> str:
    """SegNet's split of an original frame: ``val`` the 15 fps clip of
    0016E5 (frames 7959-8159), ``test`` Seq05VD and 0001TP after frame 8520,
    ``train`` the rest (367, 101 and 233 frames of the release)."""
    sequence, frame = camvid_frame(stem)
    if sequence == '0016E5' and 7959 <= frame <= 8159:
        return 'val'
    if sequence == 'Seq05VD' or (sequence == '0001TP' and frame > 8520):
        return 'test'
    return 'train'


def read_split_list(path: str) -> List[str]:
    """The frame names (file stems) of a split list: SegNet's format
    (``/SegNet/CamVid/train/X.png /SegNet/CamVid/trainannot/X.png``) or
    one image name or path per line.

    Raises:
        ValueError: The list names no frame.
    """
    stems = [
        osp.splitext(osp.basename(line.split()[0]))[0]
        for line in list_from_file(path) if line.strip()
    ]
    if not stems:
        raise ValueError(f'split list {path} names no frame')
    return stems


def source_paths(source_root: str, stem: str) -> Tuple[str, str]:
    """The original image and colour label of a frame."""
    return (osp.join(source_root, IMAGE_FOLDER, stem + '.png'),
            osp.join(source_root, LABEL_FOLDER, stem + LABEL_SUFFIX))


def plan_splits(
        source_root: str,
        split_lists: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """The frames of every split: from the list files (each list's file
    name without extension names its split), or SegNet's split
    (:func:`segnet_split`) of every image of ``701_StillsRaw_full``.

    Raises:
        FileNotFoundError: A folder of the release is missing, or a planned
            frame lacks its image or label (the first few are named).
    """
    for folder in (IMAGE_FOLDER, LABEL_FOLDER):
        if not osp.isdir(osp.join(source_root, folder)):
            raise FileNotFoundError(
                f'{osp.join(source_root, folder)} does not exist: the source '
                f'is the original CamVid release ({IMAGE_FOLDER}/, '
                f'{LABEL_FOLDER}/)')
    if split_lists:
        splits = {
            osp.splitext(osp.basename(path))[0]: read_split_list(path)
            for path in split_lists
        }
    else:
        splits = {}
        for name in sorted(os.listdir(osp.join(source_root, IMAGE_FOLDER))):
            stem, extension = osp.splitext(name)
            if extension == '.png':
                splits.setdefault(segnet_split(stem), []).append(stem)
    _check_sources(source_root, splits)
    return splits


def _check_sources(source_root: str, splits: Dict[str, List[str]]) -> None:
    missing = [
        path for stems in splits.values() for stem in stems
        for path in source_paths(source_root, stem) if not osp.isfile(path)
    ]
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} files of the planned frames do not exist: '
            f'{", ".join(missing[:_MAX_LISTED])}{_more(len(missing))}')


def _check_output_empty(out_root: str, split_names: Sequence[str]) -> None:
    for name in split_names:
        for folder in (name, name + 'annot'):
            path = osp.join(out_root, folder)
            if osp.isdir(path) and os.listdir(path):
                raise FileExistsError(
                    f'{path} already holds files: convert into new folders')


def convert_frame(frame: Tuple[str, str], source_root: str, out_root: str,
                  size: Tuple[int, int]) -> None:
    """Writes one ``(stem, split)`` frame: its image resized to ``size``
    (W, H, bilinear) and its SegNet labels (nearest neighbour)."""
    stem, split = frame
    image_path, label_path = source_paths(source_root, stem)
    with Image.open(image_path) as image, Image.open(label_path) as colours:
        if image.size != colours.size:
            raise ValueError(f'{label_path} is {colours.size[0]}x'
                             f'{colours.size[1]}, its image {image_path} '
                             f'{image.size[0]}x{image.size[1]}')
        labels = colours_to_segnet_labels(
            np.asarray(colours.convert('RGB')), label_path)
        image.convert('RGB').resize(size, Image.Resampling.BILINEAR).save(
            osp.join(out_root, split, stem + '.png'))
    Image.fromarray(labels, 'L').resize(size, Image.Resampling.NEAREST).save(
        osp.join(out_root, split + 'annot', stem + '.png'))


def write_segnet_list(out_root: str, split: str, stems: Sequence[str]) -> str:
    """Writes ``{split}.txt`` in SegNet's format and returns its path."""
    path = osp.join(out_root, f'{split}.txt')
    with open(path, 'w') as file:
        file.writelines(f'/SegNet/CamVid/{split}/{stem}.png '
                        f'/SegNet/CamVid/{split}annot/{stem}.png\n'
                        for stem in stems)
    return path


def convert_camvid(source_root: str,
                   out_root: str,
                   split_lists: Optional[Sequence[str]] = None,
                   size: Tuple[int, int] = SEGNET_SIZE,
                   nproc: int = 1) -> Dict[str, int]:
    """Converts the original release under ``source_root`` into SegNet's
    layout under ``out_root``, with a progress bar; returns the number of
    frames of every split.

    Args:
        source_root: The folder holding ``701_StillsRaw_full/`` and
            ``LabeledApproved_full/``.
        out_root: Where ``{split}/``, ``{split}annot/`` and ``{split}.txt``
            are written (their folders must be new or empty).
        split_lists: List files (see :func:`read_split_list`), each named
            after its split (``train.txt``); default: SegNet's split.
        size: (width, height) of the written images and labels.
        nproc: Processes converting frames in parallel.

    Raises:
        FileNotFoundError, FileExistsError: Before anything is written (see
            :func:`plan_splits`).
        UnknownColourError: A label holds a colour none of the 32 classes.
    """
    splits = plan_splits(source_root, split_lists)
    _check_output_empty(out_root, list(splits))
    for split, stems in splits.items():
        for folder in (split, split + 'annot'):
            os.makedirs(osp.join(out_root, folder), exist_ok=True)
        write_segnet_list(out_root, split, stems)
    frames = [(stem, split) for split, stems in splits.items()
              for stem in stems]
    convert = partial(
        convert_frame, source_root=source_root, out_root=out_root, size=size)
    if nproc > 1:
        track_parallel_progress(convert, frames, nproc)
    else:
        track_progress(convert, frames)
    return {split: len(stems) for split, stems in splits.items()}
