"""Generated VOC, Cityscapes and CamVid trees with one broken sample per
kind of bad input, for the dataset-check tests."""
import os
import os.path as osp
from typing import Dict, List

import numpy as np
from PIL import Image

from mmseg_convlstm.datasets import (make_camvid_tree, make_cityscapes_tree,
                                     make_voc_tree)
from mmseg_convlstm.datasets.dataset_check import Issue


def _voc_files(data_root: str, stem: str):
    return (osp.join(data_root, 'JPEGImages', f'{stem}.jpg'),
            osp.join(data_root, 'SegmentationClass', f'{stem}.png'))


def _rewrite_labels(path: str, change) -> None:
    with Image.open(path) as label_image:
        labels = np.array(label_image)
    Image.fromarray(change(labels)).save(path)


def break_voc_tree(root: str) -> Dict[Issue, str]:
    """A VOC tree under ``root`` whose train split has one sample of each
    kind of bad input (and a missing image, an empty ``empty`` split); returns
    the file each issue is about."""
    data_root = make_voc_tree(root, dict(train=9, val=2), image_size=(64, 80))
    stems = [f'2007_train_{index:06d}' for index in range(9)]
    files = [_voc_files(data_root, stem) for stem in stems]
    expected = {}

    image, _ = files[0]
    with open(image, 'wb') as file:
        file.write(b'\xff\xd8 this is not a JPEG')
    expected[Issue.UNDECODABLE_IMAGE] = image

    _, label = files[1]
    _rewrite_labels(label, lambda labels: labels[:-8])
    expected[Issue.SIZE_MISMATCH] = label

    _, label = files[2]
    _rewrite_labels(label, lambda labels: np.where(labels == 0, 40, labels))
    expected[Issue.BAD_LABEL_VALUES] = label

    image, _ = files[3]
    Image.open(image).convert('L').save(image)
    expected[Issue.GRAYSCALE_IMAGE] = image

    _, label = files[4]
    with Image.open(label) as label_image:
        label_image.convert('RGB').save(label)
    expected[Issue.MULTICHANNEL_LABEL] = label

    _, label = files[5]
    with open(label, 'wb') as file:
        file.write(b'\x89PNG truncated')
    expected[Issue.UNDECODABLE_LABEL] = label

    image, _ = files[6]
    os.remove(image)
    expected[Issue.MISSING_IMAGE] = image

    _, label = files[7]
    os.remove(label)
    expected[Issue.MISSING_LABEL] = label

    empty_split = osp.join(data_root, 'ImageSets', 'Segmentation', 'empty.txt')
    open(empty_split, 'w').close()
    expected[Issue.EMPTY_SPLIT] = empty_split
    return expected


def break_cityscapes_tree(root: str) -> Dict[Issue, str]:
    """A Cityscapes tree with an RGBA image, a label map of the wrong size
    and an image without its label map, in ``train``."""
    make_cityscapes_tree(root, dict(train=3, val=1), image_size=(32, 64))
    city = osp.join('train', 'synthcity')
    images = [
        osp.join(root, 'leftImg8bit', city,
                 f'synthcity_{index:06d}_000019_leftImg8bit.png')
        for index in range(3)
    ]
    labels = [
        osp.join(root, 'gtFine', city,
                 f'synthcity_{index:06d}_000019_gtFine_labelTrainIds.png')
        for index in range(3)
    ]
    Image.open(images[0]).convert('RGBA').save(images[0])
    _rewrite_labels(labels[1], lambda labels: labels[:, :-4])
    os.remove(labels[2])
    return {
        Issue.ALPHA_IMAGE: images[0],
        Issue.SIZE_MISMATCH: labels[1],
        Issue.MISSING_LABEL: labels[2],
    }


def break_camvid_tree(root: str) -> Dict[Issue, List[str]]:
    """A CamVid tree (SegNet layout) whose train split has label maps with
    value 12 and with 255 (void is 11 in CamVid), one of the wrong size, a
    label map without its image and an image without its label map; its
    val split is clean. Returns the files each issue is about."""
    data_root = make_camvid_tree(root, dict(train=3, val=2))
    names = sorted(os.listdir(osp.join(data_root, 'train')))
    images = [osp.join(data_root, 'train', name) for name in names]
    labels = [osp.join(data_root, 'trainannot', name) for name in names]
    _rewrite_labels(labels[0], lambda labels: np.where(labels == 11, 12,
                                                       labels))
    _rewrite_labels(labels[1], lambda labels: np.where(labels == 11, 255,
                                                       labels))
    _rewrite_labels(labels[2], lambda labels: labels[:-2])
    os.remove(images[3])
    os.remove(labels[4])
    return {
        Issue.BAD_LABEL_VALUES: labels[:2],
        Issue.SIZE_MISMATCH: [labels[2]],
        Issue.MISSING_IMAGE: [images[3]],
        Issue.MISSING_LABEL: [labels[4]],
    }
