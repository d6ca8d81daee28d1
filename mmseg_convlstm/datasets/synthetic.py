"""Small generated datasets in the real on-disk layouts of PASCAL VOC 2012
(VOCdevkit, with SBD's SegmentationClassAug), Cityscapes (leftImg8bit,
gtFine ``*_labelTrainIds.png``, leftImg8bit_sequence) and CamVid (SegNet's
``train/`` + ``trainannot/`` folders of video frames).

Scenes are textured shapes on a textured background; each class has its own
shape, texture and colour, so a small network can learn them in minutes.

The Cityscapes sequences behave like video: every sequence is one scene whose
background persists while the camera pans slowly across it, whose objects
move with constant velocity (their textures moving with them), and whose
frames differ only by that motion and a little sensor noise. Consecutive
sequences are different scenes (another background, tint, pan and objects),
so streaming them back to back has real scene cuts.
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
CAMVID_BACKGROUND_CLASS = 3  # road
CAMVID_SHAPE_CLASSES = (10, 8, 9)  # bicyclist, car, pedestrian
CAMVID_VOID = 11
SHAPE_KINDS = ('wheels', 'box', 'ellipse')
SHAPE_COLOURS = ((200, 60, 40), (40, 90, 210), (230, 200, 50))
FILE_SUFFIXES = {
    'leftImg8bit': '_leftImg8bit.png',
    'gtFine': '_gtFine_labelTrainIds.png',
    'leftImg8bit_sequence': '_leftImg8bit.png',
    'gtFine_sequence': '_gtFine_labelTrainIds.png'
}


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


def _shape_centre(shape: MovingShape, frame: int, height: int, width: int,
                  camera_shift: Tuple[float, float]) -> Tuple[float, float]:
    """The shape's centre (row, column) in pixels at ``frame`` in an image
    whose view has moved by ``camera_shift`` pixels."""
    return ((shape.centre[0] + frame * shape.velocity[0]) * height -
            camera_shift[0],
            (shape.centre[1] + frame * shape.velocity[1]) * width -
            camera_shift[1])


def _shape_mask(shape: MovingShape,
                frame: int,
                height: int,
                width: int,
                camera_shift: Tuple[float, float] = (0., 0.)) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    scale = min(height, width)
    cy, cx = _shape_centre(shape, frame, height, width, camera_shift)
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


def _texture(kind: str,
             height: int,
             width: int,
             origin: Tuple[int, int] = (0, 0)) -> np.ndarray:
    """A per-kind pattern in [0.6, 1] that modulates the shape's colour,
    anchored at pixel ``origin`` (so that it moves with the shape)."""
    rows, cols = np.mgrid[0:height, 0:width]
    rows, cols = rows - origin[0], cols - origin[1]
    if kind == 'box':
        pattern = ((rows // 4 + cols // 4) % 2).astype(np.float32)
    elif kind == 'ellipse':
        pattern = (rows % 6 < 3).astype(np.float32)
    else:
        pattern = ((rows % 5 < 2) & (cols % 5 < 2)).astype(np.float32)
    return 0.6 + 0.4 * pattern


def _background(rng: np.random.Generator,
                height: int,
                width: int,
                darkest: float = 60) -> np.ndarray:
    """Smooth coloured noise: a random low-resolution field upsampled, its
    values in [``darkest``, ``darkest`` + 100] before the fine noise."""
    coarse = rng.uniform(
        darkest,
        darkest + 100,
        size=(max(2, height // 16), max(2, width // 16), 3))
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
    _draw_shapes(rng, image, labels, shapes, frame, boundary=boundary)
    return np.clip(image, 0, 255).astype(np.uint8), labels


def _draw_shapes(rng: np.random.Generator,
                 image: np.ndarray,
                 labels: np.ndarray,
                 shapes: Sequence[MovingShape],
                 frame: int,
                 camera_shift: Optional[Tuple[float, float]] = None,
                 boundary: int = 0) -> None:
    """Paints the shapes at ``frame`` into ``image`` and ``labels``. With a
    ``camera_shift`` (video), the textures move with the shapes; without
    (still images), they are anchored at the image's corner."""
    height, width = labels.shape
    for shape in shapes:
        mask = _shape_mask(shape, frame, height, width, camera_shift
                           or (0., 0.))
        origin = (0, 0)
        if camera_shift is not None:
            cy, cx = _shape_centre(shape, frame, height, width, camera_shift)
            origin = (int(round(cy)), int(round(cx)))
        colour = np.asarray(shape.colour, np.float32)
        texture = _texture(shape.kind, height, width, origin)
        shaded = colour * texture[..., None]
        image[mask] = shaded[mask] + rng.normal(0, 8, size=(mask.sum(), 3))
        labels[mask] = shape.label
        if boundary:
            labels[_ring(mask, boundary)] = IGNORE_INDEX


@dataclass
class Scene:
    """One video sequence: a background larger than the frame that the
    camera pans across, and the objects moving in front of it.

    Frame ``t`` (0 for the last frame, negative before) shows the background
    ``margin + t * pan`` pixels from its top-left corner; the objects' own
    motion adds to the apparent motion that the pan gives them."""
    background: np.ndarray
    margin: int
    pan: Tuple[float, float]
    shapes: List[MovingShape]


def random_scene(rng: np.random.Generator, labels: Sequence[int],
                 num_shapes: int, image_size: Tuple[int, int],
                 num_frames: int) -> Scene:
    """A scene of ``num_frames`` frames of ``image_size`` (H, W): its own
    background tint, a slow pan (up to 1.5 pixels per frame horizontally,
    0.3 vertically) and ``num_shapes`` objects of classes in ``labels``."""
    pan = (float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-1.5, 1.5)))
    margin = int(np.ceil(1.5 * max(num_frames - 1, 0))) + 2
    height, width = image_size
    background = _background(
        rng,
        height + 2 * margin,
        width + 2 * margin,
        darkest=float(rng.uniform(30, 90)))
    return Scene(background, margin, pan,
                 random_shapes(rng, labels, num_shapes))


def render_scene_frame(rng: np.random.Generator,
                       scene: Scene,
                       frame: int,
                       image_size: Tuple[int, int],
                       background_label: int = 0,
                       noise: float = 3.0) -> Tuple[np.ndarray, np.ndarray]:
    """Image (H, W, 3 uint8 RGB) and labels (H, W uint8) of ``scene`` at
    ``frame`` (0 for the last frame, negative before), with Gaussian sensor
    noise of standard deviation ``noise``."""
    height, width = image_size
    camera_shift = (frame * scene.pan[0], frame * scene.pan[1])
    image = _crop(scene.background, scene.margin + camera_shift[0],
                  scene.margin + camera_shift[1], height, width)
    image += rng.normal(0, noise, size=image.shape)
    labels = np.full((height, width), background_label, np.uint8)
    _draw_shapes(rng, image, labels, scene.shapes, frame, camera_shift)
    return np.clip(image, 0, 255).astype(np.uint8), labels


def _crop(image: np.ndarray, top: float, left: float, height: int,
          width: int) -> np.ndarray:
    """The (height, width) window of ``image`` at a sub-pixel position,
    bilinearly interpolated (so that a slow pan moves smoothly)."""
    row, col = int(np.floor(top)), int(np.floor(left))
    fy, fx = top - row, left - col
    window = image[row:row + height + 1, col:col + width + 1]
    rows = (1 - fy) * window[:-1] + fy * window[1:]
    return (1 - fx) * rows[:, :-1] + fx * rows[:, 1:]


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
    every sequence (the annotated frame is the last of them, as in
    Cityscapes: frame 19 of each 30-frame snippet), and, which Cityscapes
    does not have, the labels of every one of those frames in
    ``gtFine_sequence/{split}/{city}/{stem}_gtFine_labelTrainIds.png``.

    Every sequence is one :class:`Scene`: a persistent background panned by
    the camera, objects moving with constant velocity, sensor noise.

    Returns:
        str: ``root`` (a config's ``data_root``).
    """
    splits = splits or dict(train=8, val=4)
    rng = np.random.default_rng(seed)
    frames = range(
        min(annotated_frame - sequence_length + 1, annotated_frame),
        annotated_frame + 1)
    for split, count in splits.items():
        folders = {
            name: osp.join(root, name, split, city)
            for name in ('leftImg8bit', 'gtFine', 'leftImg8bit_sequence',
                         'gtFine_sequence')
        }
        for folder in folders.values():
            os.makedirs(folder, exist_ok=True)
        for sequence in range(count):
            scene = random_scene(rng, CITYSCAPES_SHAPE_CLASSES, num_shapes,
                                 image_size, len(frames))
            for frame in frames:
                image, labels = render_scene_frame(
                    rng,
                    scene,
                    frame - annotated_frame,
                    image_size,
                    background_label=CITYSCAPES_BACKGROUND_CLASS)
                stem = cityscapes_stem(city, sequence, frame)
                targets = []
                if frame == annotated_frame:
                    targets += [('leftImg8bit', image),
                                ('gtFine', labels)]
                if sequence_length > 0:
                    targets += [('leftImg8bit_sequence', image),
                                ('gtFine_sequence', labels)]
                for folder, array in targets:
                    Image.fromarray(array).save(
                        osp.join(folders[folder],
                                 stem + FILE_SUFFIXES[folder]))
    return root


def make_camvid_tree(root: str,
                     splits: Optional[Dict[str, int]] = None,
                     image_size: Tuple[int, int] = (96, 128),
                     sequences: Sequence[str] = ('0001TP', '0006R0'),
                     num_shapes: int = 3,
                     seed: int = 0) -> str:
    """Writes ``root/CamVid`` in SegNet's layout: for every split,
    ``{split}/`` RGB PNG frames and ``{split}annot/`` label PNGs (mode L,
    values 0-10 the classes, 11 void around every object) of the same
    names, and ``{split}.txt`` listing the pairs as SegNet does.

    Each split holds ``splits[split]`` consecutive frames of every sequence
    of ``sequences``, one :class:`Scene` each, named ``SEQUENCE_FRAME.png``
    with frame numbers two apart; the frames of a sequence whose name
    contains ``R`` get CamVid's ``f`` before the number (``0006R0_f00930``).

    Returns:
        str: The ``CamVid`` directory (a config's ``data_root``).
    """
    splits = splits or dict(train=4, val=3)
    data_root = osp.join(root, 'CamVid')
    rng = np.random.default_rng(seed)
    for split, count in splits.items():
        for folder in (split, split + 'annot'):
            os.makedirs(osp.join(data_root, folder), exist_ok=True)
        pairs = []
        for sequence in sequences:
            scene = random_scene(rng, CAMVID_SHAPE_CLASSES, num_shapes,
                                 image_size, count)
            prefix = 'f' if 'R' in sequence else ''
            for index in range(count):
                image, labels = render_scene_frame(
                    rng,
                    scene,
                    index - count + 1,
                    image_size,
                    background_label=CAMVID_BACKGROUND_CLASS)
                objects = np.isin(labels, CAMVID_SHAPE_CLASSES)
                labels[_ring(objects, 1)] = CAMVID_VOID
                name = f'{sequence}_{prefix}{930 + 2 * index:05d}.png'
                Image.fromarray(image).save(osp.join(data_root, split, name))
                Image.fromarray(labels).save(
                    osp.join(data_root, split + 'annot', name))
                pairs.append(f'/SegNet/CamVid/{split}/{name} '
                             f'/SegNet/CamVid/{split}annot/{name}\n')
        with open(osp.join(data_root, f'{split}.txt'), 'w') as file:
            file.write(''.join(pairs))
    return data_root
