"""Small generated datasets in the real on-disk layouts of PASCAL VOC 2012
(VOCdevkit, with SBD's SegmentationClassAug) and Cityscapes (leftImg8bit,
gtFine ``*_labelTrainIds.png``, leftImg8bit_sequence).

Scenes are textured shapes on a textured background; each class has its own
shape, texture and colour, so a small network can learn them in minutes. The
shapes move with constant velocity, so consecutive frames form a video.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmseg.datasets import PascalVOCDataset

IGNORE_INDEX = 255
VOC_SHAPE_CLASSES = (2, 7, 15)  # bicycle, car, person
CITYSCAPES_BACKGROUND_CLASS = 0  # road
CITYSCAPES_SHAPE_CLASSES = (18, 13, 11)  # bicycle, car, person
SHAPE_KINDS = ('wheels', 'box', 'ellipse')
SHAPE_COLOURS = ((200, 60, 40), (40, 90, 210), (230, 200, 50))


@dataclass
class MovingShape:
    """One object: its class, its kind of shape, where it is at frame 0 (its
    centre, as fractions of the image), its size and its velocity."""
    label: int
    kind: str
    colour: Tuple[int, int, int]
    centre: Tuple[float, float]
    size: float
    velocity: Tuple[float, float]


def random_shapes(rng: np.random.Generator, labels: Sequence[int],
                  num_shapes: int) -> List[MovingShape]:
    """``num_shapes`` shapes of classes drawn from ``labels``."""
    shapes = []
    for _ in range(num_shapes):
        index = int(rng.integers(len(labels)))
        shapes.append(
            MovingShape(
                label=labels[index],
                kind=SHAPE_KINDS[index % len(SHAPE_KINDS)],
                colour=SHAPE_COLOURS[index % len(SHAPE_COLOURS)],
                centre=tuple(rng.uniform(0.2, 0.8, size=2)),
                size=float(rng.uniform(0.12, 0.25)),
                velocity=tuple(rng.uniform(-0.01, 0.01, size=2))))
    return shapes


def _shape_mask(shape: MovingShape, frame: int, height: int,
                width: int) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    scale = min(height, width)
    cy = (shape.centre[0] + frame * shape.velocity[0]) * height
    cx = (shape.centre[1] + frame * shape.velocity[1]) * width
    radius = shape.size * scale
    dy, dx = rows - cy, cols - cx
    if shape.kind == 'box':
        return (np.abs(dy) < 0.6 * radius) & (np.abs(dx) < radius)
    if shape.kind == 'ellipse':
        return (dy / radius)**2 + (dx / (0.5 * radius))**2 < 1
    wheel = 0.5 * radius
    mask = np.zeros((height, width), bool)
    for offset in (-wheel, wheel):
        distance = np.hypot(dy, dx - offset)
        mask |= (distance < wheel) & (distance > 0.6 * wheel)
    mask |= (np.abs(dy + 0.3 * wheel) < 0.12 * wheel) & (np.abs(dx) < wheel)
    return mask


def _texture(kind: str, height: int, width: int) -> np.ndarray:
    """A per-kind pattern in [0.6, 1] that modulates the shape's colour."""
    rows, cols = np.mgrid[0:height, 0:width]
    if kind == 'box':
        pattern = ((rows // 4 + cols // 4) % 2).astype(np.float32)
    elif kind == 'ellipse':
        pattern = (rows % 6 < 3).astype(np.float32)
    else:
        pattern = ((rows % 5 < 2) & (cols % 5 < 2)).astype(np.float32)
    return 0.6 + 0.4 * pattern


def _background(rng: np.random.Generator, height: int,
                width: int) -> np.ndarray:
    """Smooth coloured noise: a random low-resolution field upsampled."""
    coarse = rng.uniform(60, 160, size=(max(2, height // 16),
                                        max(2, width // 16), 3))
    field = Image.fromarray(coarse.astype(np.uint8)).resize((width, height),
                                                            Image.BICUBIC)
    fine = rng.normal(0, 12, size=(height, width, 3))
    return np.asarray(field, np.float32) + fine


def render_frame(rng: np.random.Generator,
                 shapes: Sequence[MovingShape],
                 frame: int,
                 height: int,
                 width: int,
                 background_label: int = 0,
                 boundary: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Image (H, W, 3 uint8 RGB) and labels (H, W uint8) at ``frame``.

    Args:
        boundary (int): Width in pixels of a band of ``IGNORE_INDEX`` around
            every object, as in VOC's annotations. Default: 0.
    """
    image = _background(rng, height, width)
    labels = np.full((height, width), background_label, np.uint8)
    for shape in shapes:
        mask = _shape_mask(shape, frame, height, width)
        colour = np.asarray(shape.colour, np.float32)
        shaded = colour * _texture(shape.kind, height, width)[..., None]
        image[mask] = shaded[mask] + rng.normal(0, 8, size=(mask.sum(), 3))
        labels[mask] = shape.label
        if boundary:
            labels[_ring(mask, boundary)] = IGNORE_INDEX
    return np.clip(image, 0, 255).astype(np.uint8), labels


def _ring(mask: np.ndarray, width: int) -> np.ndarray:
    """Pixels within ``width`` of the mask's edge, inside or out."""
    grown, shrunk = mask.copy(), mask.copy()
    for _ in range(width):
        grown = _dilate(grown)
        shrunk = ~_dilate(~shrunk)
    return grown & ~shrunk


def _dilate(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def voc_palette() -> List[int]:
    """PASCAL VOC's palette, flattened for :meth:`PIL.Image.putpalette`."""
    palette = [0] * (256 * 3)
    for index, colour in enumerate(PascalVOCDataset.METAINFO['palette']):
        palette[3 * index:3 * index + 3] = colour
    palette[3 * IGNORE_INDEX:3 * IGNORE_INDEX + 3] = (224, 224, 192)
    return palette


def make_voc_tree(root: str,
                  splits: Optional[Dict[str, int]] = None,
                  image_size: Tuple[int, int] = (160, 200),
                  num_shapes: int = 3,
                  seed: int = 0) -> str:
    """Writes ``root/VOCdevkit/VOC2012`` as PASCAL VOC 2012 + SBD lay it out.

    JPEG images, palette PNGs in ``SegmentationClass`` (with a 255 band
    around objects), grey PNGs in ``SegmentationClassAug``, and one split file
    per entry of ``splits`` (name -> number of images) in
    ``ImageSets/Segmentation``; ``aug.txt`` lists the ``train`` images.

    Returns:
        str: The ``VOC2012`` directory (a config's ``data_root``).
    """
    splits = splits or dict(train=8, val=4)
    data_root = osp.join(root, 'VOCdevkit', 'VOC2012')
    for folder in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                   'ImageSets/Segmentation'):
        os.makedirs(osp.join(data_root, folder), exist_ok=True)
    rng = np.random.default_rng(seed)
    palette = voc_palette()
    height, width = image_size
    for split, count in splits.items():
        names = [f'2007_{split}_{index:06d}' for index in range(count)]
        for name in names:
            shapes = random_shapes(rng, VOC_SHAPE_CLASSES, num_shapes)
            image, labels = render_frame(
                rng, shapes, 0, height, width, boundary=2)
            Image.fromarray(image).save(
                osp.join(data_root, 'JPEGImages', f'{name}.jpg'), quality=95)
            label_image = Image.fromarray(labels, mode='P')
            label_image.putpalette(palette)
            label_image.save(
                osp.join(data_root, 'SegmentationClass', f'{name}.png'))
            Image.fromarray(labels).save(
                osp.join(data_root, 'SegmentationClassAug', f'{name}.png'))
        _write_split(data_root, split, names)
        if split == 'train':
            _write_split(data_root, 'aug', names)
    return data_root


def _write_split(data_root: str, split: str, names: Sequence[str]) -> None:
    with open(osp.join(data_root, 'ImageSets', 'Segmentation', f'{split}.txt'),
              'w') as file:
        file.write(''.join(f'{name}\n' for name in names))


def cityscapes_stem(city: str, sequence: int, frame: int) -> str:
    """``{city}_{sequence:06d}_{frame:06d}``, Cityscapes' file stem."""
    return f'{city}_{sequence:06d}_{frame:06d}'


def make_cityscapes_tree(root: str,
                         splits: Optional[Dict[str, int]] = None,
                         image_size: Tuple[int, int] = (128, 256),
                         num_shapes: int = 3,
                         sequence_length: int = 0,
                         annotated_frame: int = 19,
                         city: str = 'synthcity',
                         seed: int = 0) -> str:
    """Writes a Cityscapes tree under ``root``.

    ``leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png`` and
    ``gtFine/{split}/{city}/{stem}_gtFine_labelTrainIds.png`` (the files that
    cityscapesscripts' conversion produces and MMSeg reads) for
    ``splits[split]`` annotated frames each. With ``sequence_length`` > 0,
    also ``leftImg8bit_sequence/{split}/{city}/{stem}_leftImg8bit.png`` for
    frames ``annotated_frame - sequence_length + 1 .. annotated_frame`` of
    every sequence, its objects moving between frames; the annotated frame is
    the last of them, as in Cityscapes (frame 19 of each 30-frame snippet).

    Returns:
        str: ``root`` (a config's ``data_root``).
    """
    splits = splits or dict(train=8, val=4)
    rng = np.random.default_rng(seed)
    height, width = image_size
    first_frame = annotated_frame - sequence_length + 1
    for split, count in splits.items():
        folders = {
            name: osp.join(root, name, split, city)
            for name in ('leftImg8bit', 'gtFine', 'leftImg8bit_sequence')
        }
        for folder in folders.values():
            os.makedirs(folder, exist_ok=True)
        for sequence in range(count):
            shapes = random_shapes(rng, CITYSCAPES_SHAPE_CLASSES, num_shapes)
            frames = range(min(first_frame, annotated_frame),
                           annotated_frame + 1)
            for frame in frames:
                image, labels = render_frame(
                    rng,
                    shapes,
                    frame - annotated_frame,
                    height,
                    width,
                    background_label=CITYSCAPES_BACKGROUND_CLASS)
                stem = cityscapes_stem(city, sequence, frame)
                if sequence_length > 0:
                    Image.fromarray(image).save(
                        osp.join(folders['leftImg8bit_sequence'],
                                 f'{stem}_leftImg8bit.png'))
                if frame == annotated_frame:
                    Image.fromarray(image).save(
                        osp.join(folders['leftImg8bit'],
                                 f'{stem}_leftImg8bit.png'))
                    Image.fromarray(labels).save(
                        osp.join(folders['gtFine'],
                                 f'{stem}_gtFine_labelTrainIds.png'))
    return root
