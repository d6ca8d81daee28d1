"""The original CamVid release (32 colour-coded classes, 960x720) becomes
SegNet's 11-class layout: every colour's class, the resizing, the splits and
the errors, on a generated miniature of the release."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmseg_convlstm.datasets import CamVidDataset
from mmseg_convlstm.datasets.camvid_conversion import (
    CAMVID_32_CLASSES, UnknownColourError, colours_to_segnet_labels,
    convert_camvid, read_split_list, segnet_split, source_paths)
from mmseg_convlstm.datasets.dataset_check import scan_dataset
from tests.conftest import REPO
from tests.test_datasets.original_camvid import (
    FRAMES, SIZE, class_grid, frame_colour, make_original_release,
    release_with_unknown_colour)

REAL_CAMVID = osp.join(REPO, '..', 'shared', 'camvid', 'CamVid')

HALF = (SIZE[0] // 2, SIZE[1] // 2)
# SegNet's value of each of the 32 classes, written out independently of
# the converter's table: 0 Sky, 1 Building, 2 Pole, 3 Road, 4 Pavement,
# 5 Tree, 6 SignSymbol, 7 Fence, 8 Car, 9 Pedestrian, 10 Bicyclist, 11 void.
EXPECTED_VALUES = {
    'Animal': 9, 'Archway': 1, 'Bicyclist': 10, 'Bridge': 1, 'Building': 1,
    'Car': 8, 'CartLuggagePram': 9, 'Child': 9, 'Column_Pole': 2,
    'Fence': 7, 'LaneMkgsDriv': 3, 'LaneMkgsNonDriv': 3, 'Misc_Text': 6,
    'MotorcycleScooter': 10, 'OtherMoving': 8, 'ParkingBlock': 4,
    'Pedestrian': 9, 'Road': 3, 'RoadShoulder': 4, 'Sidewalk': 4,
    'SignSymbol': 6, 'Sky': 0, 'SUVPickupTruck': 8, 'TrafficCone': 2,
    'TrafficLight': 6, 'Train': 8, 'Tree': 5, 'Truck_Bus': 8, 'Tunnel': 1,
    'VegetationMisc': 5, 'Void': 11, 'Wall': 1
}
# label_colors.txt of the release.
EXPECTED_COLOURS = {
    'Sky': (128, 128, 128), 'Road': (128, 64, 128), 'Void': (0, 0, 0),
    'Bicyclist': (0, 128, 192), 'Column_Pole': (192, 192, 128),
    'Sidewalk': (0, 0, 192), 'Wall': (64, 192, 0)
}


def read(path):
    with Image.open(path) as image:
        return image.mode, image.size, np.asarray(image)


def expected_labels(grid, size):
    """SegNet values of a class grid drawn at ``size`` (W, H)."""
    values = np.array(
        [EXPECTED_VALUES[name] for name, _, _ in CAMVID_32_CLASSES])
    return values[np.kron(grid, np.ones((size[1] // 4, size[0] // 8), int))]


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('original'))
    return root, make_original_release(root)


@pytest.fixture(scope='module')
def converted(release, tmp_path_factory):
    source_root, _ = release
    out_root = str(tmp_path_factory.mktemp('segnet') / 'CamVid')
    counts = convert_camvid(source_root, out_root, size=HALF)
    return out_root, counts


def test_the_table_has_32_distinct_classes_and_colours():
    names = [name for name, _, _ in CAMVID_32_CLASSES]
    colours = [colour for _, colour, _ in CAMVID_32_CLASSES]
    assert sorted(names) == sorted(EXPECTED_VALUES)
    assert len(set(colours)) == 32
    for name, colour in EXPECTED_COLOURS.items():
        assert colours[names.index(name)] == colour


@pytest.mark.parametrize(
    'name, colour', [(name, colour) for name, colour, _ in CAMVID_32_CLASSES])
def test_every_colour_becomes_its_segnet_class(name, colour):
    colours = np.zeros((3, 4, 3), np.uint8) + np.array(colour, np.uint8)
    labels = colours_to_segnet_labels(colours)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, EXPECTED_VALUES[name])


def test_an_unknown_colour_is_an_error_naming_file_and_colour():
    colours = np.zeros((2, 3, 3), np.uint8)  # Void
    colours[0, :2] = (1, 2, 3)
    with pytest.raises(UnknownColourError,
                       match=r'x_L\.png: .*RGB \(1, 2, 3\) \(2 pixels\)'):
        colours_to_segnet_labels(colours, 'x_L.png')


@pytest.mark.parametrize('stem', sorted(FRAMES))
def test_segnet_split_of_the_boundary_frames(stem):
    assert segnet_split(stem) == FRAMES[stem]


def test_conversion_writes_segnet_layout_in_segnet_split(converted):
    out_root, counts = converted
    assert counts == dict(test=2, train=3, val=2)
    for split in ('train', 'val', 'test'):
        stems = sorted(stem for stem in FRAMES if FRAMES[stem] == split)
        for folder in (split, split + 'annot'):
            assert sorted(os.listdir(osp.join(out_root, folder))) == [
                stem + '.png' for stem in stems
            ]
        lines = open(osp.join(out_root, f'{split}.txt')).read().splitlines()
        assert sorted(lines) == [
            f'/SegNet/CamVid/{split}/{stem}.png '
            f'/SegNet/CamVid/{split}annot/{stem}.png' for stem in stems
        ]


@pytest.mark.parametrize('stem', sorted(FRAMES))
def test_labels_and_images_are_resized_and_mapped(release, converted, stem):
    _, indices = release
    out_root, _ = converted
    split = FRAMES[stem]
    mode, size, labels = read(osp.join(out_root, split + 'annot',
                                       stem + '.png'))
    assert (mode, size) == ('L', HALF)
    np.testing.assert_array_equal(
        labels, expected_labels(class_grid(indices[stem]), HALF))
    mode, size, image = read(osp.join(out_root, split, stem + '.png'))
    assert (mode, size) == ('RGB', HALF)
    assert (image == frame_colour(indices[stem])).all()


def test_the_converted_tree_is_a_clean_camvid_dataset(converted):
    out_root, _ = converted
    assert scan_dataset(out_root, progress=False) == []
    dataset = CamVidDataset(
        data_root=out_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'))
    assert len(dataset) == 2


def test_split_lists_choose_the_frames_and_name_the_splits(release, tmp_path):
    source_root, _ = release
    lists = [tmp_path / 'mytrain.txt', tmp_path / 'holdout.txt']
    lists[0].write_text(
        '/SegNet/CamVid/train/0016E5_07959.png '
        '/SegNet/CamVid/trainannot/0016E5_07959.png\n\n'
        '/SegNet/CamVid/train/Seq05VD_f00000.png '
        '/SegNet/CamVid/trainannot/Seq05VD_f00000.png\n')
    lists[1].write_text('0006R0_f00930.png\n')
    out_root = str(tmp_path / 'out')

    counts = convert_camvid(source_root, out_root, [str(p) for p in lists],
                            size=HALF)

    assert counts == dict(mytrain=2, holdout=1)
    assert sorted(os.listdir(out_root)) == [
        'holdout', 'holdout.txt', 'holdoutannot', 'mytrain', 'mytrain.txt',
        'mytrainannot'
    ]
    assert sorted(os.listdir(osp.join(out_root, 'mytrainannot'))) == [
        '0016E5_07959.png', 'Seq05VD_f00000.png'
    ]


def test_the_default_size_is_segnets(release, tmp_path):
    source_root, _ = release
    split_list = tmp_path / 'val.txt'
    split_list.write_text('0016E5_07959.png\n')
    convert_camvid(source_root, str(tmp_path / 'out'), [str(split_list)])
    for folder in ('val', 'valannot'):
        _, size, _ = read(tmp_path / 'out' / folder / '0016E5_07959.png')
        assert size == (480, 360)


def test_an_unknown_colour_in_a_label_names_the_file(tmp_path):
    source_root = str(tmp_path / 'original')
    label_path = release_with_unknown_colour(source_root, (5, 7),
                                             (255, 0, 255))

    with pytest.raises(UnknownColourError) as error:
        convert_camvid(source_root, str(tmp_path / 'out'))
    assert label_path in str(error.value)
    assert 'RGB (255, 0, 255) (1 pixels)' in str(error.value)


def test_missing_files_are_named_before_anything_is_written(tmp_path):
    source_root = str(tmp_path / 'original')
    make_original_release(source_root, ['0016E5_07959', '0001TP_006690'])
    _, label_path = source_paths(source_root, '0001TP_006690')
    os.remove(label_path)
    out_root = tmp_path / 'out'

    with pytest.raises(FileNotFoundError, match=label_path):
        convert_camvid(source_root, str(out_root))
    assert not out_root.exists()


def test_a_list_naming_an_absent_frame_is_refused(release, tmp_path):
    source_root, _ = release
    split_list = tmp_path / 'train.txt'
    split_list.write_text('0016E5_99999.png\n')
    image_path, _ = source_paths(source_root, '0016E5_99999')
    with pytest.raises(FileNotFoundError, match=image_path):
        convert_camvid(source_root, str(tmp_path / 'out'), [str(split_list)])


def test_an_empty_list_is_refused(tmp_path):
    split_list = tmp_path / 'train.txt'
    split_list.write_text('\n')
    with pytest.raises(ValueError, match='names no frame'):
        read_split_list(str(split_list))


def test_a_folder_other_than_the_release_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='701_StillsRaw_full'):
        convert_camvid(str(tmp_path), str(tmp_path / 'out'))


def test_output_folders_holding_files_are_refused(release, converted):
    source_root, _ = release
    out_root, _ = converted
    with pytest.raises(FileExistsError,
                       match=f'{out_root}/train already holds files'):
        convert_camvid(source_root, out_root)


def test_a_label_of_another_size_than_its_image_is_refused(tmp_path):
    source_root = str(tmp_path / 'original')
    make_original_release(source_root, ['0016E5_07959'])
    make_original_release(
        str(tmp_path / 'other'), ['0016E5_07959'], size=(48, 36))
    _, small_label = source_paths(str(tmp_path / 'other'), '0016E5_07959')
    _, label_path = source_paths(source_root, '0016E5_07959')
    os.replace(small_label, label_path)

    with pytest.raises(ValueError, match=f'{label_path} is 48x36'):
        convert_camvid(source_root, str(tmp_path / 'out'))


@pytest.mark.skipif(
    not osp.isdir(REAL_CAMVID), reason='../shared/camvid/CamVid is absent')
@pytest.mark.parametrize('split', ['train', 'val'])
def test_segnet_split_gives_the_real_split_of_every_frame(split):
    stems = read_split_list(osp.join(REAL_CAMVID, f'{split}.txt'))
    assert {segnet_split(stem) for stem in stems} == {split}
