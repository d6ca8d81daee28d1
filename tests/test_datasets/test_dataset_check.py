"""Every kind of bad input in a VOC, Cityscapes or CamVid tree is found in
one pass, and the cheap file checks stop a dataset that cannot be trained
on."""
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmseg_convlstm.datasets import make_voc_tree
from mmseg_convlstm.datasets.dataset_check import (Issue, camvid_splits,
                                                   label_problems,
                                                   scan_dataset, summarize)
from mmseg_convlstm.engine import GuardedRunner
from .bad_trees import (break_camvid_tree, break_cityscapes_tree,
                        break_voc_tree)


def _by_issue(findings):
    return {
        issue: {finding.path
                for finding in found}
        for issue, found in summarize(findings).items() if found
    }


def test_scan_finds_every_bad_voc_sample_and_only_those(tmp_path):
    expected = break_voc_tree(str(tmp_path))
    data_root = osp.dirname(osp.dirname(osp.dirname(
        expected[Issue.EMPTY_SPLIT])))

    found = _by_issue(scan_dataset(data_root, progress=False))

    assert found == {issue: {path} for issue, path in expected.items()}
    assert not Issue.GRAYSCALE_IMAGE.is_problem


def test_scan_reports_the_bad_values_and_sizes(tmp_path):
    expected = break_voc_tree(str(tmp_path))
    data_root = osp.dirname(osp.dirname(osp.dirname(
        expected[Issue.EMPTY_SPLIT])))

    findings = {
        finding.issue: finding
        for finding in scan_dataset(data_root, 'voc', ['train'],
                                    progress=False)
    }

    assert '40' in findings[Issue.BAD_LABEL_VALUES].detail
    assert 'label 56x80, image 64x80' in findings[Issue.SIZE_MISMATCH].detail
    assert Issue.EMPTY_SPLIT not in findings  # only train was scanned


def test_scan_finds_bad_cityscapes_samples(tmp_path):
    expected = break_cityscapes_tree(str(tmp_path))

    found = _by_issue(scan_dataset(str(tmp_path), progress=False))

    assert found == {issue: {path} for issue, path in expected.items()}


def test_scan_finds_bad_camvid_samples_with_11_as_void(tmp_path):
    expected = break_camvid_tree(str(tmp_path))

    findings = scan_dataset(str(tmp_path / 'CamVid'), progress=False)

    assert _by_issue(findings) == {
        issue: set(paths)
        for issue, paths in expected.items()
    }
    details = {finding.path: finding.detail for finding in findings}
    twelve, two_five_five = expected[Issue.BAD_LABEL_VALUES]
    assert details[twelve] == '12; class ids are 0-10, 11 is ignored'
    assert details[two_five_five].startswith('255;')


def test_only_the_named_camvid_splits_are_scanned(tmp_path):
    break_camvid_tree(str(tmp_path))
    data_root = str(tmp_path / 'CamVid')
    assert scan_dataset(data_root, 'camvid', ['val'], progress=False) == []
    with pytest.raises(FileNotFoundError, match=osp.join(data_root, 'test')):
        scan_dataset(data_root, split_names=['test'], progress=False)


def test_camvid_splits_pair_images_with_same_named_labels(camvid_root):
    splits = camvid_splits(camvid_root)
    assert [split.name for split in splits] == ['train', 'val']
    assert [len(split.samples) for split in splits] == [8, 6]
    for image, label in splits[1].samples:
        assert osp.dirname(image) == osp.join(camvid_root, 'val')
        assert label == osp.join(camvid_root, 'valannot',
                                 osp.basename(image))


@pytest.mark.parametrize('tree', ['voc_root', 'camvid_root'])
def test_a_clean_tree_has_no_findings(tree, request):
    assert scan_dataset(request.getfixturevalue(tree), progress=False) == []


def test_an_unknown_layout_is_named(tmp_path):
    with pytest.raises(ValueError, match=str(tmp_path)):
        scan_dataset(str(tmp_path), progress=False)


@pytest.mark.parametrize('labels, problems', [
    (np.array([[0, 20], [255, 3]], np.uint8), []),
    (np.array([[0, 21], [255, 254]], np.uint8), [Issue.BAD_LABEL_VALUES]),
    (np.zeros((2, 3), np.uint8), [Issue.SIZE_MISMATCH]),
    (np.zeros((2, 2, 3), np.uint8), [Issue.MULTICHANNEL_LABEL]),
])
def test_label_problems(labels, problems):
    found = label_problems(labels, (2, 2), num_classes=21)
    assert [finding.issue for finding in found] == problems


def _build_voc_loader(data_root, split, **dataset_options):
    """Builds a train dataloader on a VOC split as GuardedRunner does."""
    init_default_scope('mmseg')
    return GuardedRunner.build_dataloader(
        dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='InfiniteSampler'),
            dataset=dict(
                type='PascalVOCDataset',
                data_root=data_root,
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                ann_file=f'ImageSets/Segmentation/{split}.txt',
                pipeline=[],
                **dataset_options)))


@pytest.mark.parametrize('serialize_data', [True, False])
def test_an_empty_split_is_refused_naming_it(tmp_path, serialize_data):
    data_root = make_voc_tree(str(tmp_path), dict(train=1))
    split_file = osp.join(data_root, 'ImageSets', 'Segmentation', 'empty.txt')
    open(split_file, 'w').close()

    with pytest.raises(ValueError, match=f'{split_file}.*has no samples'):
        _build_voc_loader(data_root, 'empty', serialize_data=serialize_data)


def test_a_split_naming_missing_files_is_refused_naming_them(tmp_path):
    data_root = make_voc_tree(str(tmp_path), dict(train=2))
    split_file = osp.join(data_root, 'ImageSets', 'Segmentation', 'train.txt')
    with open(split_file, 'a') as file:
        file.write('2007_no_such_image\n')

    with pytest.raises(FileNotFoundError) as error:
        _build_voc_loader(data_root, 'train')
    message = str(error.value)
    assert 'lists 2 files that do not exist' in message
    assert osp.join(data_root, 'JPEGImages', '2007_no_such_image.jpg') in (
        message)
    assert split_file in message


def test_a_good_split_builds(tmp_path):
    data_root = make_voc_tree(str(tmp_path), dict(train=2))
    assert len(_build_voc_loader(data_root, 'train').dataset) == 2
