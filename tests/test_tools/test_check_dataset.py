"""tools/check_dataset.py reports every bad sample of a tree in one pass and
exits non-zero when it finds a problem."""
import os.path as osp

from mmseg_convlstm.datasets.dataset_check import Issue
from tests.test_datasets.bad_trees import break_voc_tree
from tests.tools_runner import run_tool


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
