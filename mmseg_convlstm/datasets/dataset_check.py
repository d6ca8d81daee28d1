"""Finds what is wrong with a segmentation dataset before a run trips on it.

Two levels of checks:

- :func:`check_dataset_files` and :func:`check_dataset_configs` are cheap
  (file existence only) and run on every dataset
  :class:`~mmseg_convlstm.engine.GuardedRunner` builds: an empty split or a
  split naming files that do not exist stops the run at once, naming them
  (instead of MMEngine's "need at least one array to concatenate", or an
  ``InfiniteSampler`` looping forever on an unserialized empty dataset, or a
  missing file failing the run when the sampler reaches it).
- :func:`check_sample` decodes a sample's image and label map and checks
  them against each other; :func:`scan_dataset` runs it over every split of a
  VOC, Cityscapes or CamVid (SegNet layout) tree (``tools/check_dataset.py``),
  and :func:`label_problems` is what ``StrictLoadAnnotations`` checks while
  training.

Grayscale and RGBA images are not errors: ``LoadImageFromFile`` reads every
image as 3-channel BGR (grey replicated, alpha dropped), so they are reported
as notes.
"""
import glob
import os
import os.path as osp
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.fileio import list_from_file
from mmengine.utils import ProgressBar
from PIL import Image

from mmseg.datasets import CityscapesDataset, PascalVOCDataset
from mmseg.registry import DATASETS

from .camvid_dataset import CAMVID_CLASSES, CAMVID_VOID

IGNORE_INDEX = 255
VOC_IMAGE_SUFFIX, VOC_LABEL_SUFFIX = '.jpg', '.png'
CITYSCAPES_IMAGE_SUFFIX = '_leftImg8bit.png'
CITYSCAPES_LABEL_SUFFIX = '_gtFine_labelTrainIds.png'
CAMVID_SUFFIX = '.png'
CAMVID_SPLITS = ('train', 'val', 'test')


class Issue(Enum):
    """What can be wrong with a split or a sample."""
    EMPTY_SPLIT = 'empty split'
    MISSING_IMAGE = 'missing image'
    MISSING_LABEL = 'missing label map'
    UNDECODABLE_IMAGE = 'image cannot be decoded'
    UNDECODABLE_LABEL = 'label map cannot be decoded'
    MULTICHANNEL_LABEL = 'label map has several channels'
    SIZE_MISMATCH = 'label map size differs from image'
    BAD_LABEL_VALUES = 'label values neither a class id nor void'
    GRAYSCALE_IMAGE = 'grayscale image (read as 3 equal channels)'
    ALPHA_IMAGE = 'image with alpha (alpha dropped)'

    @property
    def is_problem(self) -> bool:
        """False for the notes: images MMSeg converts on loading."""
        return self not in (Issue.GRAYSCALE_IMAGE, Issue.ALPHA_IMAGE)


@dataclass(frozen=True)
class Finding:
    """One issue of one file."""
    issue: Issue
    path: str
    detail: str = ''

    def __str__(self) -> str:
        detail = f' ({self.detail})' if self.detail else ''
        return f'{self.path}: {self.issue.value}{detail}'


@dataclass
class Split:
    """A split's samples (image and label map paths) and where they were
    listed: a split file or an image directory."""
    name: str
    source: str
    samples: List[Tuple[str, str]]


class InvalidSampleError(ValueError):
    """A sample's image or label map is unusable; the message names it."""


def label_problems(labels: np.ndarray,
                   image_shape: Optional[Sequence[int]],
                   num_classes: int,
                   ignore_index: int = IGNORE_INDEX,
                   path: str = '') -> List[Finding]:
    """What is wrong with a decoded label map: several channels, a size
    other than ``image_shape`` (H, W), or values that are neither a class id
    (``0 .. num_classes - 1``) nor ``ignore_index``."""
    if labels.ndim == 3 and labels.shape[2] > 1:
        return [
            Finding(Issue.MULTICHANNEL_LABEL, path,
                    f'{labels.shape[2]} channels: colours instead of class '
                    'ids?')
        ]
    findings = []
    if image_shape is not None and labels.shape[:2] != tuple(
            image_shape[:2]):
        findings.append(
            Finding(
                Issue.SIZE_MISMATCH, path,
                f'label {labels.shape[0]}x{labels.shape[1]}, image '
                f'{image_shape[0]}x{image_shape[1]}'))
    values = np.unique(labels)
    bad = values[(values >= num_classes) & (values != ignore_index)]
    if len(bad):
        shown = ', '.join(str(value) for value in bad[:10])
        more = f' and {len(bad) - 10} more' if len(bad) > 10 else ''
        findings.append(
            Finding(
                Issue.BAD_LABEL_VALUES, path,
                f'{shown}{more}; class ids are 0-{num_classes - 1}, '
                f'{ignore_index} is ignored'))
    return findings


def _decode(path: str, flag: str, backend: str) -> Optional[np.ndarray]:
    try:
        with open(path, 'rb') as file:
            return mmcv.imfrombytes(file.read(), flag=flag, backend=backend)
    except (OSError, ValueError):
        return None


def _image_notes(path: str) -> List[Finding]:
    with Image.open(path) as image:
        mode = image.mode
        has_transparency = 'transparency' in image.info
    if mode in ('L', 'I', 'I;16', 'F', '1'):
        return [Finding(Issue.GRAYSCALE_IMAGE, path, f'mode {mode}')]
    if mode in ('RGBA', 'LA', 'PA') or has_transparency:
        return [Finding(Issue.ALPHA_IMAGE, path, f'mode {mode}')]
    return []


def check_sample(image_path: str,
                 label_path: str,
                 num_classes: int,
                 ignore_index: int = IGNORE_INDEX) -> List[Finding]:
    """Decodes a sample as MMSeg's ``LoadImageFromFile`` (cv2, colour) and
    ``LoadAnnotations`` (pillow, unchanged) do and returns its issues."""
    findings = []
    image_shape = None
    if not osp.isfile(image_path):
        findings.append(Finding(Issue.MISSING_IMAGE, image_path))
    else:
        image = _decode(image_path, 'color', 'cv2')
        if image is None:
            findings.append(Finding(Issue.UNDECODABLE_IMAGE, image_path))
        else:
            image_shape = image.shape[:2]
            findings += _image_notes(image_path)
    if not osp.isfile(label_path):
        findings.append(Finding(Issue.MISSING_LABEL, label_path))
        return findings
    labels = _decode(label_path, 'unchanged', 'pillow')
    if labels is None:
        findings.append(Finding(Issue.UNDECODABLE_LABEL, label_path))
        return findings
    return findings + label_problems(labels, image_shape, num_classes,
                                     ignore_index, label_path)


def voc_splits(data_root: str,
               names: Optional[Sequence[str]] = None) -> List[Split]:
    """The splits of a VOC2012 directory: ``ImageSets/Segmentation/*.txt``
    (or the given names). ``aug`` takes its label maps from
    ``SegmentationClassAug``, the others from ``SegmentationClass``, as the
    configs do."""
    split_dir = osp.join(data_root, 'ImageSets', 'Segmentation')
    if names is None:
        names = sorted(
            osp.splitext(osp.basename(path))[0]
            for path in glob.glob(osp.join(split_dir, '*.txt')))
    splits = []
    for name in names:
        split_file = osp.join(split_dir, f'{name}.txt')
        if not osp.isfile(split_file):
            raise FileNotFoundError(f'split file {split_file} does not exist')
        label_dir = 'SegmentationClassAug' if name == 'aug' else (
            'SegmentationClass')
        stems = [line.strip() for line in list_from_file(split_file)]
        samples = [(osp.join(data_root, 'JPEGImages',
                             stem + VOC_IMAGE_SUFFIX),
                    osp.join(data_root, label_dir, stem + VOC_LABEL_SUFFIX))
                   for stem in stems if stem]
        splits.append(Split(name, split_file, samples))
    return splits


def cityscapes_splits(data_root: str,
                      names: Optional[Sequence[str]] = None) -> List[Split]:
    """The splits of a Cityscapes tree: the folders of ``leftImg8bit`` (or
    the given names), each image paired with its
    ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``."""
    image_root = osp.join(data_root, 'leftImg8bit')
    if names is None:
        names = sorted(name for name in os.listdir(image_root)
                       if osp.isdir(osp.join(image_root, name)))
    splits = []
    for name in names:
        split_dir = osp.join(image_root, name)
        if not osp.isdir(split_dir):
            raise FileNotFoundError(
                f'split directory {split_dir} does not exist')
        images = sorted(
            glob.glob(osp.join(split_dir, '*', '*' + CITYSCAPES_IMAGE_SUFFIX)))
        samples = [(image,
                    osp.join(data_root, 'gtFine',
                             osp.relpath(image, image_root)
                             [:-len(CITYSCAPES_IMAGE_SUFFIX)] +
                             CITYSCAPES_LABEL_SUFFIX)) for image in images]
        splits.append(Split(name, split_dir, samples))
    return splits


def _has_camvid_split(data_root: str, name: str) -> bool:
    return all(
        osp.isdir(osp.join(data_root, folder))
        for folder in (name, name + 'annot'))


def camvid_splits(data_root: str,
                  names: Optional[Sequence[str]] = None) -> List[Split]:
    """The splits of a CamVid tree in SegNet's layout: the folder pairs
    ``{split}/`` (images) and ``{split}annot/`` (label maps of the same
    names) of ``train``, ``val`` and ``test`` that exist (or the given
    names). Every name in either folder is a sample, so an image without
    its label map and a label map without its image are both found."""
    if names is None:
        names = [
            name for name in CAMVID_SPLITS
            if _has_camvid_split(data_root, name)
        ]
    splits = []
    for name in names:
        if not _has_camvid_split(data_root, name):
            raise FileNotFoundError(
                f'{osp.join(data_root, name)} or '
                f'{osp.join(data_root, name)}annot does not exist')
        folders = (osp.join(data_root, name),
                   osp.join(data_root, name + 'annot'))
        file_names = sorted({
            file_name
            for folder in folders for file_name in os.listdir(folder)
            if file_name.endswith(CAMVID_SUFFIX)
        })
        samples = [(osp.join(folders[0], file_name),
                    osp.join(folders[1], file_name))
                   for file_name in file_names]
        splits.append(Split(name, folders[0], samples))
    return splits


@dataclass(frozen=True)
class Layout:
    """How a dataset layout lists its splits and what its label maps
    hold: class ids ``0 .. num_classes - 1`` and ``ignore_index``."""
    list_splits: Callable[[str, Optional[Sequence[str]]], List[Split]]
    num_classes: int
    ignore_index: int = IGNORE_INDEX


LAYOUTS = dict(
    voc=Layout(voc_splits, len(PascalVOCDataset.METAINFO['classes'])),
    cityscapes=Layout(cityscapes_splits,
                      len(CityscapesDataset.METAINFO['classes'])),
    camvid=Layout(camvid_splits, len(CAMVID_CLASSES), CAMVID_VOID))


def detect_format(data_root: str) -> str:
    """``'voc'``, ``'cityscapes'`` or ``'camvid'``, from the tree's
    folders."""
    if osp.isdir(osp.join(data_root, 'ImageSets', 'Segmentation')):
        return 'voc'
    if osp.isdir(osp.join(data_root, 'leftImg8bit')):
        return 'cityscapes'
    if any(_has_camvid_split(data_root, name) for name in CAMVID_SPLITS):
        return 'camvid'
    raise ValueError(
        f'{data_root} is neither a VOC2012 directory (no '
        'ImageSets/Segmentation) nor a Cityscapes root (no leftImg8bit) nor '
        'a CamVid root in SegNet\'s layout (no train/ + trainannot/, val/ + '
        'valannot/ or test/ + testannot/)')


def scan_dataset(data_root: str,
                 data_format: Optional[str] = None,
                 split_names: Optional[Sequence[str]] = None,
                 progress: bool = True) -> List[Finding]:
    """Checks every sample of every split of a VOC, Cityscapes or CamVid
    tree and returns all findings (problems and notes), each once."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data root {data_root} does not exist')
    layout = LAYOUTS[data_format or detect_format(data_root)]
    splits = layout.list_splits(data_root, split_names)
    findings = [
        Finding(Issue.EMPTY_SPLIT, split.source) for split in splits
        if not split.samples
    ]
    samples = list(dict.fromkeys(
        sample for split in splits for sample in split.samples))
    bar = ProgressBar(len(samples)) if progress and samples else None
    for image_path, label_path in samples:
        findings += check_sample(image_path, label_path, layout.num_classes,
                                 layout.ignore_index)
        if bar is not None:
            bar.update()
    # An image shared by two splits (VOC's train and aug) is found twice.
    return list(dict.fromkeys(findings))


def summarize(findings: Sequence[Finding]) -> Dict[Issue, List[Finding]]:
    """Findings grouped by issue, in the order of :class:`Issue`."""
    groups: Dict[Issue, List[Finding]] = {issue: [] for issue in Issue}
    for finding in findings:
        groups[finding.issue].append(finding)
    return groups


def leaf_datasets(dataset) -> Iterator:
    """The datasets inside ``ConcatDataset`` and other wrappers."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for child in dataset.datasets:
            yield from leaf_datasets(child)
    elif hasattr(dataset, 'dataset'):  # RepeatDataset and other wrappers
        yield from leaf_datasets(dataset.dataset)
    else:
        yield dataset


def _leaf_dataset_configs(dataset_cfg: dict) -> Iterator[dict]:
    if 'datasets' in dataset_cfg:
        for child in dataset_cfg['datasets']:
            yield from _leaf_dataset_configs(child)
    elif 'dataset' in dataset_cfg:
        yield from _leaf_dataset_configs(dataset_cfg['dataset'])
    else:
        yield dataset_cfg


def _describe(dataset) -> str:
    source = (getattr(dataset, 'ann_file', '')
              or getattr(dataset, 'data_prefix', {}).get('img_path', ''))
    return f'{type(dataset).__name__} ({source})'


def _empty_dataset_error(dataset) -> ValueError:
    return ValueError(
        f'{_describe(dataset)} has no samples: the split file is empty or '
        'the image directory holds no image with the expected suffix')


def check_dataset_configs(dataset_cfg: dict) -> None:
    """Raises ``ValueError`` naming the split when a dataset config (or a
    part of a ``ConcatDataset`` config) loads no samples.

    For the error path: MMEngine fails to build an empty dataset with
    "need at least one array to concatenate"; this builds each part without
    initialising it (default scope: mmseg) to say which one is empty.
    """
    for leaf_cfg in _leaf_dataset_configs(dataset_cfg):
        dataset = DATASETS.build(dict(leaf_cfg, lazy_init=True))
        if not dataset.load_data_list():
            raise _empty_dataset_error(dataset)


def check_dataset_files(dataset, max_listed: int = 5) -> None:
    """Raises, naming the split, when a built dataset (or a part of a
    ``ConcatDataset``) has no samples or lists image or label files that do
    not exist.

    Raises:
        ValueError: A dataset is empty.
        FileNotFoundError: Files are missing (the first ``max_listed`` are
            named, with the count).
    """
    for leaf in leaf_datasets(dataset):
        if len(leaf) == 0:
            raise _empty_dataset_error(leaf)
        missing = [
            path for index in range(len(leaf))
            for key, path in leaf.get_data_info(index).items()
            if key in ('img_path', 'seg_map_path') and not osp.isfile(path)
        ]
        if missing:
            listed = ', '.join(missing[:max_listed])
            more = (f' and {len(missing) - max_listed} more'
                    if len(missing) > max_listed else '')
            raise FileNotFoundError(
                f'{_describe(leaf)} lists {len(missing)} files that do not '
                f'exist: {listed}{more}. Run tools/check_dataset.py on the '
                'data root to see every problem.')
