"""The generated Cityscapes sequences behave like video: a persistent,
slowly panned background with moving objects within a sequence, a scene cut
between sequences, and labels for every frame."""
import glob
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmseg_convlstm.datasets import make_cityscapes_tree

NUM_FRAMES = 4


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return make_cityscapes_tree(
        str(tmp_path_factory.mktemp('video')),
        dict(val=3),
        image_size=(64, 128),
        sequence_length=NUM_FRAMES)


def read(root, folder, sequence, frame, suffix):
    return np.asarray(
        Image.open(
            osp.join(root, folder, 'val', 'synthcity',
                     f'synthcity_{sequence:06d}_{frame:06d}{suffix}')),
        np.float32)


def frames(root, sequence):
    return [
        read(root, 'leftImg8bit_sequence', sequence, frame, '_leftImg8bit.png')
        for frame in range(20 - NUM_FRAMES, 20)
    ]


def labels(root, sequence):
    return [
        read(root, 'gtFine_sequence', sequence, frame,
             '_gtFine_labelTrainIds.png')
        for frame in range(20 - NUM_FRAMES, 20)
    ]


def mean_change(first, second):
    return float(np.abs(first - second).mean())


def test_frames_change_little_within_a_sequence_and_a_lot_at_a_cut(root):
    within = [
        mean_change(clip[index], clip[index + 1])
        for clip in (frames(root, sequence) for sequence in range(3))
        for index in range(NUM_FRAMES - 1)
    ]
    cuts = [
        mean_change(frames(root, sequence)[-1],
                    frames(root, sequence + 1)[0]) for sequence in range(2)
    ]
    assert max(within) * 2 < min(cuts)


def test_objects_move_and_every_frame_has_its_labels(root):
    for sequence in range(3):
        clip_labels = labels(root, sequence)
        assert len(
            glob.glob(osp.join(root, 'gtFine_sequence', 'val', '*',
                               '*'))) == 3 * NUM_FRAMES
        assert not np.array_equal(clip_labels[0], clip_labels[-1])
        # The annotated frame is the last frame of its sequence.
        annotated = read(root, 'gtFine', sequence, 19,
                         '_gtFine_labelTrainIds.png')
        assert np.array_equal(annotated, clip_labels[-1])
        assert np.array_equal(
            read(root, 'leftImg8bit', sequence, 19, '_leftImg8bit.png'),
            frames(root, sequence)[-1])


def test_the_background_pans_instead_of_being_redrawn(root):
    """Where both frames show background, a frame is the previous one moved
    by less than two pixels, up to noise; a redrawn background is not."""
    for sequence in range(3):
        clip, clip_labels = frames(root, sequence), labels(root, sequence)
        first, second = clip[0], clip[1]
        background = (clip_labels[0] == 0) & (clip_labels[1] == 0)
        best = min(
            mean_change(
                np.roll(first, (dy,
                                dx), axis=(0,
                                           1))[background], second[background])
            for dy in (-1, 0, 1) for dx in (-2, -1, 0, 1, 2))
        other_scene = frames(root, (sequence + 1) % 3)[1]
        assert best * 2 < mean_change(first[background],
                                      other_scene[background])
