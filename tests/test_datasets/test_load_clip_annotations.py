"""LoadClipAnnotations gives every frame of a clip its labels, moved with
the frames, and names a missing or mis-sized label map."""
import os.path as osp
import shutil

import mmcv
import numpy as np
import pytest
from PIL import Image

from tests.video_helpers import (SEQUENCE_LENGTH, build_sequence_dataset,
                                 make_sequence_tree)


@pytest.fixture(scope='module')
def video_root(tmp_path_factory):
    return make_sequence_tree(str(tmp_path_factory.mktemp('labelled')))


def build_dataset(data_root, context_frames, *geometric_transforms):
    return build_sequence_dataset(
        data_root,
        context_frames, [
            dict(type='LoadStackedClip'),
            dict(type='LoadClipAnnotations'), *geometric_transforms,
            dict(type='PackClipSegInputs')
        ],
        sequence_seg_map_path='gtFine_sequence/val')


def label_path(root, sequence, frame):
    return osp.join(
        str(root), 'gtFine_sequence', 'val', 'synthcity',
        f'synthcity_{sequence:06d}_{frame:06d}_gtFine_labelTrainIds.png')


def test_every_frame_gets_its_labels_resized_and_flipped_with_it(video_root):
    dataset = build_dataset(
        video_root, SEQUENCE_LENGTH - 1,
        dict(type='Resize', scale=(90, 50), keep_ratio=False),
        dict(type='RandomFlip', prob=1.0))
    sample = dataset[1]
    labels = sample['data_samples'].gt_sem_seg.data
    assert labels.shape == (SEQUENCE_LENGTH, 50, 90)
    for packed, frame in zip(labels, range(20 - SEQUENCE_LENGTH, 20)):
        expected = mmcv.imflip(
            mmcv.imresize(
                np.asarray(Image.open(label_path(video_root, 1, frame))),
                (90, 50),
                interpolation='nearest'))
        assert np.array_equal(packed.numpy(), expected)
    assert sample['inputs'].shape == (SEQUENCE_LENGTH, 3, 50, 90)


def test_a_missing_label_map_is_named(video_root, tmp_path):
    root = shutil.copytree(video_root, tmp_path / 'missing')
    missing = label_path(root, 0, 18)
    shutil.move(missing, str(tmp_path / 'moved.png'))
    with pytest.raises(FileNotFoundError, match=missing):
        build_dataset(root, 2)


def test_a_label_map_of_another_size_is_named(video_root, tmp_path):
    root = shutil.copytree(video_root, tmp_path / 'sizes')
    odd = label_path(root, 0, 17)
    labels = np.asarray(Image.open(odd))
    Image.fromarray(labels[:20, :30]).save(odd)
    with pytest.raises(ValueError, match=odd) as error:
        build_dataset(root, 2)[0]
    assert '20x30' in str(error.value)


def test_more_context_frames_than_the_sequence_has_are_named(video_root):
    with pytest.raises(FileNotFoundError, match='context_frames=4'):
        build_dataset(video_root, SEQUENCE_LENGTH)
