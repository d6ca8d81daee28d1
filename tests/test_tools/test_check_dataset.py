"""tools/check_dataset.py reports every bad sample of a tree in one pass and
exits non-zero when it finds a problem."""
import os.path as osp

import pytest

from mmseg_convlstm.datasets.dataset_check import Issue
from tests.test_datasets.bad_trees import break_camvid_tree, break_voc_tree
from tests.tools_runner import REPO, run_tool

REAL_CAMVID = osp.join(REPO, '..', 'shared', 'camvid', 'CamVid')


def test_reports_every_problem_with_a_summary_and_fails(tmp_path):
    expected = break_voc_tree(str(tmp_path))
    data_root = osp.dirname(osp.dirname(osp.dirname(
        expected[Issue.EMPTY_SPLIT])))

    result = run_tool(['tools/check_dataset.py', data_root], check=False)

    assert result.returncode == 1
    for issue, path in expected.items():
        kind = 'problem' if issue.is_problem else 'note'
        assert f'{kind}: {path}: {issue.value}' in result.stdout
    for issue in Issue:
        count = 1 if issue in expected else 0
        assert f'| {issue.value}' in result.stdout
        row = next(line for line in result.stdout.splitlines()
                   if line.startswith(f'| {issue.value} '))
        assert row.split('|')[2].strip() == str(count)
    problems = sum(issue.is_problem for issue in expected)
    assert f'{problems} problems found in {data_root}' in result.stdout


def test_a_clean_tree_passes(voc_root):
    result = run_tool(['tools/check_dataset.py', voc_root, '--split', 'val'])
    assert f'0 problems found in {voc_root}' in result.stdout


def test_a_camvid_tree_is_recognised_and_its_problems_listed(tmp_path):
    expected = break_camvid_tree(str(tmp_path))
    data_root = str(tmp_path / 'CamVid')

    result = run_tool(['tools/check_dataset.py', data_root], check=False)

    assert result.returncode == 1
    twelve = expected[Issue.BAD_LABEL_VALUES][0]
    assert (f'problem: {twelve}: label values neither a class id nor void '
            '(12; class ids are 0-10, 11 is ignored)') in result.stdout
    (missing_image, ) = expected[Issue.MISSING_IMAGE]
    assert f'problem: {missing_image}: missing image' in result.stdout
    assert f'5 problems found in {data_root}' in result.stdout


@pytest.mark.skipif(
    not osp.isdir(REAL_CAMVID), reason='../shared/camvid/CamVid is absent')
def test_the_real_camvid_val_split_is_clean():
    result = run_tool(
        ['tools/check_dataset.py', REAL_CAMVID, '--split', 'val'])
    assert f'0 problems found in {REAL_CAMVID}' in result.stdout
