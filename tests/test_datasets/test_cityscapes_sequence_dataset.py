"""CityscapesSequenceDataset gives each annotated frame with the K frames
before it, all transformed alike, and names the file of a bad clip."""
import os.path as osp
import shutil

import mmcv
import numpy as np
import pytest
from PIL import Image

from tests.video_helpers import (SEQUENCE_LENGTH, build_sequence_dataset,
                                 make_sequence_tree)

SEQUENCE_DIR = osp.join('leftImg8bit_sequence', 'val', 'synthcity')


@pytest.fixture(scope='module')
def video_root(tmp_path_factory):
    return make_sequence_tree(
        str(tmp_path_factory.mktemp('sequences')), num_val=2)


def build_dataset(data_root, context_frames, pipeline):
    return build_sequence_dataset(data_root, context_frames, pipeline)


def clip_pipeline(*geometric_transforms):
    return [
        dict(type='LoadStackedClip'),
        dict(type='LoadAnnotations'), *geometric_transforms,
        dict(type='PackClipSegInputs')
    ]


def frame_path(root, sequence, frame):
    return osp.join(
        str(root), SEQUENCE_DIR,
        f'synthcity_{sequence:06d}_{frame:06d}_leftImg8bit.png')


@pytest.mark.parametrize('context_frames', [0, 2, SEQUENCE_LENGTH - 1])
def test_each_sample_is_the_annotated_frame_after_its_context(
        video_root, context_frames):
    dataset = build_dataset(video_root, context_frames, clip_pipeline())
    assert len(dataset) == 2
    sample = dataset[1]
    clip = sample['inputs']
    assert clip.shape[:2] == (context_frames + 1, 3)
    expected_frames = range(19 - context_frames, 20)
    assert sample['data_samples'].clip_paths == [
        frame_path(video_root, 1, frame) for frame in expected_frames
    ]
    for packed, frame in zip(clip, expected_frames):
        image = mmcv.imread(frame_path(video_root, 1, frame))
        assert np.array_equal(packed.permute(1, 2, 0).numpy(), image)
    annotation = np.asarray(Image.open(sample['data_samples'].seg_map_path))
    assert np.array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(),
                          annotation)


def test_random_resize_crop_and_flip_move_every_frame_alike(
        video_root, tmp_path):
    """A clip made of copies of one frame stays made of equal frames
    through random resizing, cropping and flipping."""
    root = shutil.copytree(video_root, tmp_path / 'still')
    for frame in range(19 - SEQUENCE_LENGTH + 1, 19):
        shutil.copy(frame_path(root, 0, 19), frame_path(root, 0, frame))
    dataset = build_dataset(
        root, SEQUENCE_LENGTH - 1,
        clip_pipeline(
            dict(
                type='RandomResize',
                scale=(65, 33),
                ratio_range=(1.5, 2.0),
                keep_ratio=True), dict(type='RandomCrop', crop_size=(24, 40)),
            dict(type='RandomFlip', prob=0.5)))
    for _ in range(3):
        sample = dataset[0]
        clip = sample['inputs']
        assert clip.shape == (SEQUENCE_LENGTH, 3, 24, 40)
        assert sample['data_samples'].gt_sem_seg.data.shape[-2:] == (24, 40)
        for frame in clip[:-1]:
            assert frame.equal(clip[-1])


def test_each_frame_and_the_annotation_are_resized_and_flipped_alike(
        video_root):
    dataset = build_dataset(
        video_root, SEQUENCE_LENGTH - 1,
        clip_pipeline(
            dict(type='Resize', scale=(90, 50), keep_ratio=False),
            dict(type='RandomFlip', prob=1.0)))
    sample = dataset[0]
    data_sample = sample['data_samples']
    for packed, path in zip(sample['inputs'], data_sample.clip_paths):
        expected = mmcv.imflip(mmcv.imresize(mmcv.imread(path), (90, 50)))
        assert np.array_equal(packed.permute(1, 2, 0).numpy(), expected)
    labels = np.asarray(Image.open(data_sample.seg_map_path))
    expected_labels = mmcv.imflip(
        mmcv.imresize(labels, (90, 50), interpolation='nearest'))
    assert np.array_equal(data_sample.gt_sem_seg.data[0].numpy(),
                          expected_labels)


def test_a_missing_frame_is_named(video_root, tmp_path):
    root = shutil.copytree(video_root, tmp_path / 'missing')
    missing = frame_path(root, 1, 18)
    shutil.move(missing, str(tmp_path / 'moved.png'))
    with pytest.raises(FileNotFoundError, match=missing):
        build_dataset(root, 2, clip_pipeline())
    assert len(build_dataset(root, 0, clip_pipeline())) == 2


def test_a_frame_of_another_size_is_named(video_root, tmp_path):
    root = shutil.copytree(video_root, tmp_path / 'sizes')
    odd = frame_path(root, 0, 17)
    mmcv.imwrite(mmcv.imresize(mmcv.imread(odd), (70, 40)), odd)
    dataset = build_dataset(root, 2, clip_pipeline())
    with pytest.raises(ValueError, match=odd) as error:
        dataset[0]
    assert '40x70' in str(error.value)


def test_an_undecodable_frame_is_named(video_root, tmp_path):
    root = shutil.copytree(video_root, tmp_path / 'corrupt')
    corrupt = frame_path(root, 0, 18)
    with open(corrupt, 'wb') as file:
        file.write(b'not a png')
    dataset = build_dataset(root, 2, clip_pipeline())
    with pytest.raises(ValueError, match=corrupt):
        dataset[0]
