"""CamVid in SegNet's layout: classes, void ignored, frame order, and the
clips of CamVidSequenceDataset; on generated trees, and on the real splits
when ../shared/camvid/CamVid exists."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmseg.datasets.transforms import LoadAnnotations
from mmseg_convlstm.datasets import (CamVidDataset, CamVidSequenceDataset,
                                     make_camvid_tree)
from mmseg_convlstm.datasets.camvid_dataset import (CAMVID_CLASSES,
                                                    camvid_frame)
from tests.conftest import REPO

REAL_CAMVID = osp.join(REPO, '..', 'shared', 'camvid', 'CamVid')
needs_real_camvid = pytest.mark.skipif(
    not osp.isdir(REAL_CAMVID), reason='../shared/camvid/CamVid is absent')


@pytest.fixture(scope='module')
def camvid_root(tmp_path_factory):
    return make_camvid_tree(
        str(tmp_path_factory.mktemp('camvid')), dict(train=5, val=3))


def infos(dataset):
    return [dataset.get_data_info(index) for index in range(len(dataset))]


def names(dataset):
    return [osp.basename(info['img_path']) for info in infos(dataset)]


@pytest.mark.parametrize('name, expected', [
    ('0016E5_07959.png', ('0016E5', 7959)),
    ('0006R0_f00930.png', ('0006R0', 930)),
    ('/a/b/Seq05VD_f02370.png', ('Seq05VD', 2370)),
])
def test_frame_names_give_sequence_and_number(name, expected):
    assert camvid_frame(name) == expected


def test_a_name_without_frame_number_is_named_in_the_error():
    with pytest.raises(ValueError, match='sky.png'):
        camvid_frame('sky.png')


def test_split_lists_every_frame_in_frame_order(camvid_root):
    dataset = CamVidDataset(data_root=camvid_root)
    assert len(dataset) == 10
    frames = [camvid_frame(name) for name in names(dataset)]
    assert frames == sorted(frames)
    assert names(dataset)[5] == '0006R0_f00930.png'
    assert dataset.metainfo['classes'] == CAMVID_CLASSES
    assert len(dataset.metainfo['palette']) == 11


def test_val_folders_through_data_prefix(camvid_root):
    dataset = CamVidDataset(
        data_root=camvid_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'))
    assert len(dataset) == 6
    assert all(info['seg_map_path'].startswith(osp.join(camvid_root,
                                                        'valannot'))
               for info in infos(dataset))


def test_void_becomes_the_ignore_index_when_loaded(camvid_root):
    dataset = CamVidDataset(data_root=camvid_root)
    info = dataset.get_data_info(0)
    raw = np.asarray(Image.open(info['seg_map_path']))
    assert (raw == 11).any()
    loaded = LoadAnnotations()(dict(info, seg_fields=[]))['gt_seg_map']
    np.testing.assert_array_equal(loaded == 255, raw == 11)
    np.testing.assert_array_equal(loaded[raw != 11], raw[raw != 11])


def test_a_class_subset_keeps_void_ignored(camvid_root):
    dataset = CamVidDataset(
        data_root=camvid_root, metainfo=dict(classes=('Road', 'Car')))
    assert dataset.label_map[11] == 255
    assert dataset.label_map[3] == 0 and dataset.label_map[8] == 1


def test_sequence_clips_are_the_frames_before_in_the_same_sequence(
        camvid_root):
    dataset = CamVidSequenceDataset(data_root=camvid_root, context_frames=2)
    assert len(dataset) == 2 * (5 - 2)
    for info in infos(dataset):
        frames = [camvid_frame(path) for path in info['clip_paths']]
        sequence, frame = camvid_frame(info['img_path'])
        assert frames == [(sequence, frame - 4), (sequence, frame - 2),
                          (sequence, frame)]
        assert [camvid_frame(path) for path in info['clip_seg_map_paths']
                ] == frames


def test_negative_context_frames_is_an_error(camvid_root):
    with pytest.raises(ValueError, match='context_frames'):
        CamVidSequenceDataset(data_root=camvid_root, context_frames=-1)


@needs_real_camvid
@pytest.mark.parametrize('split, count', [('train', 367), ('val', 101)])
def test_real_splits_have_their_counts_sizes_and_labels(split, count):
    dataset = CamVidDataset(
        data_root=REAL_CAMVID,
        data_prefix=dict(img_path=split, seg_map_path=split + 'annot'))
    assert len(dataset) == count
    for info in infos(dataset)[::25]:
        image = Image.open(info['img_path'])
        labels = np.asarray(Image.open(info['seg_map_path']))
        assert image.size == (480, 360) and image.mode == 'RGB'
        assert labels.shape == (360, 480)
        assert set(np.unique(labels)) <= set(range(12))


@needs_real_camvid
def test_real_val_is_one_15_fps_clip_in_frame_order():
    dataset = CamVidSequenceDataset(
        data_root=REAL_CAMVID,
        context_frames=4,
        data_prefix=dict(img_path='val', seg_map_path='valannot'))
    frames = [camvid_frame(info['img_path']) for info in infos(dataset)]
    assert frames == [('0016E5', number) for number in range(7967, 8160, 2)]
    first = dataset.get_data_info(0)['clip_paths']
    assert [camvid_frame(path)[1] for path in first] == list(
        range(7959, 7968, 2))
