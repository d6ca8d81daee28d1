"""One evaluation pass gives every step's metrics, equal to the digit to
separate runs of MMSeg's IoUMetric at each number of steps."""
import glob
import json
import os.path as osp

import pytest

from tests.checkpoints import save_random_checkpoint
from tests.tools_runner import DEMO_CONFIG, run_tool, voc_overrides


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Randomly initialised demo model: its steps predict differently."""
    return save_random_checkpoint(
        DEMO_CONFIG, str(tmp_path_factory.mktemp('ckpt') / 'random.pth'))


def evaluate(checkpoint, voc_root, work_dir, *options):
    run_tool([
        'tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir', work_dir,
        '--cfg-options', *voc_overrides(voc_root, 1), *options
    ])
    (path, ) = [
        path for path in glob.glob(osp.join(work_dir, '*', '*.json'))
        if osp.basename(path) != 'anytime_iou.json'
    ]
    with open(path) as file:
        return json.load(file)


def test_every_step_equals_iou_metric_run_at_that_step(
        checkpoint, voc_root, tmp_path):
    anytime = evaluate(checkpoint, voc_root, str(tmp_path / 'all'))
    (json_file, ) = glob.glob(str(tmp_path / 'all' / '*' /
                                  'anytime_iou.json'))
    with open(json_file) as file:
        per_step = json.load(file)['steps']

    assert anytime['mIoU'] == anytime['mIoU@5']
    for step in (1, 3, 5):
        alone = evaluate(checkpoint, voc_root, str(tmp_path / f'step{step}'),
                         f'model.test_cfg.num_steps={step}',
                         'model.test_cfg.return_all_steps=False',
                         'test_evaluator.type=IoUMetric')
        for key in ('aAcc', 'mIoU', 'mAcc'):
            assert anytime[f'{key}@{step}'] == alone[key]
            assert per_step[step - 1][key] == alone[key]
        assert set(per_step[step - 1]['per_class']['IoU']) >= {'bicycle'}


def test_missing_steps_are_explained(voc_root, checkpoint, tmp_path):
    result = run_tool([
        'tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 1),
        'model.test_cfg.return_all_steps=False'
    ],
                      check=False)
    assert result.returncode != 0
    assert 'model.test_cfg.return_all_steps=True' in result.stderr
