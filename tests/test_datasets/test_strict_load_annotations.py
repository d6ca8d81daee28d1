"""Bad label maps are refused while loading, naming the file; grayscale and
RGBA images are converted; a crop larger than the image is padded with
ignored labels."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose, LoadImageFromFile
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmseg.registry import MODELS
from mmseg_convlstm.datasets.dataset_check import InvalidSampleError
from mmseg_convlstm.datasets.transforms import StrictLoadAnnotations

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def _sample(tmp_path, labels, image_size=(6, 8)):
    image_path = str(tmp_path / 'image.png')
    label_path = str(tmp_path / 'label.png')
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (*image_size, 3),
                                 np.uint8)).save(image_path)
    if isinstance(labels, bytes):
        with open(label_path, 'wb') as file:
            file.write(labels)
    else:
        Image.fromarray(labels).save(label_path)
    return dict(
        img_path=image_path,
        seg_map_path=label_path,
        reduce_zero_label=False,
        seg_fields=[])


def _load(results):
    results = LoadImageFromFile()(results)
    return StrictLoadAnnotations(num_classes=21)(results)


def test_a_good_label_map_loads_unchanged(tmp_path):
    labels = np.full((6, 8), 255, np.uint8)
    labels[:3] = 20
    results = _load(_sample(tmp_path, labels))
    np.testing.assert_array_equal(results['gt_seg_map'], labels)


@pytest.mark.parametrize('labels, message', [
    (np.zeros((5, 8), np.uint8),
     'label map size differs from image (label 5x8, image 6x8)'),
    (np.full((6, 8), 21, np.uint8),
     'label values neither a class id nor void (21;'),
    (np.zeros((6, 8, 3), np.uint8), 'label map has several channels'),
    (b'\x89PNG\r\n garbage', 'cannot decode label map'),
])
def test_a_bad_label_map_is_refused_naming_it_and_its_image(
        tmp_path, labels, message):
    results = _sample(tmp_path, labels)
    with pytest.raises(InvalidSampleError) as error:
        _load(results)
    assert message in str(error.value)
    assert results['seg_map_path'] in str(error.value)
    assert results['img_path'] in str(error.value)


def test_the_paper_configs_load_labels_strictly():
    for name, classes in (('convlstm_voc.py', 21),
                          ('convlstm_cityscapes.py', 19)):
        cfg = Config.fromfile(osp.join(CONFIGS, name))
        for pipeline in (cfg.train_pipeline, cfg.test_pipeline):
            (loader, ) = [
                step for step in pipeline if 'Annotations' in step['type']
            ]
            assert loader == dict(
                type='StrictLoadAnnotations', num_classes=classes)


def test_grayscale_and_rgba_images_are_read_as_three_channels(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 255, (6, 8), np.uint8)
    rgba = rng.integers(0, 255, (6, 8, 4), np.uint8)
    Image.fromarray(grey).save(tmp_path / 'grey.jpg', quality=100)
    Image.fromarray(rgba, mode='RGBA').save(tmp_path / 'rgba.png')

    grey_image = LoadImageFromFile()(dict(
        img_path=str(tmp_path / 'grey.jpg')))['img']
    rgba_image = LoadImageFromFile()(dict(
        img_path=str(tmp_path / 'rgba.png')))['img']

    assert grey_image.shape == (6, 8, 3)
    assert (grey_image == grey_image[..., :1]).all()
    assert rgba_image.shape == (6, 8, 3)
    np.testing.assert_array_equal(rgba_image, rgba[..., 2::-1])  # BGR


def test_a_crop_larger_than_the_image_is_padded_with_ignored_labels(
        tmp_path):
    init_default_scope('mmseg')
    labels = np.zeros((40, 50), np.uint8)
    labels[10:20, 10:20] = 15
    results = _sample(tmp_path, labels, image_size=(40, 50))
    cfg = Config.fromfile(osp.join(CONFIGS, 'convlstm_voc.py'))
    crop = (97, 97)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='StrictLoadAnnotations', num_classes=21),
        dict(type='RandomCrop', crop_size=crop, cat_max_ratio=0.75),
        dict(type='PackSegInputs')
    ])
    preprocessor = MODELS.build(dict(cfg.model.data_preprocessor, size=crop))

    packed = pipeline(results)
    batch = preprocessor(
        dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]),
        training=True)

    assert packed['inputs'].shape[1:] == (40, 50)  # RandomCrop keeps it
    assert batch['inputs'].shape == (1, 3, *crop)
    gt = batch['data_samples'][0].gt_sem_seg.data[0]
    assert torch.equal(gt[:40, :50], torch.from_numpy(labels).long())
    assert (gt[40:] == 255).all() and (gt[:, 50:] == 255).all()
