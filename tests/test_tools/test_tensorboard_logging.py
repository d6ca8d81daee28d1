"""With TensorboardVisBackend in ``visualizer.vis_backends`` (needs the
optional ``tensorboard`` package: ``pip install -e .[tensorboard]``),
tools/train.py logs every step's loss and every step's mIoU as TensorBoard
scalars."""
import glob
import os.path as osp

import pytest

from tests.test_tools.fault_runs import tiny_options
from tests.tools_runner import DEMO_CONFIG, run_tool

event_accumulator = pytest.importorskip(
    'tensorboard.backend.event_processing.event_accumulator')

STEPS = 2  # tiny_options trains and tests two recurrent steps

TENSORBOARD_CONFIG = f'''_base_ = [{DEMO_CONFIG!r}]
visualizer = dict(vis_backends=[
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
])
'''


def test_per_step_losses_and_miou_are_tensorboard_scalars(voc_root, tmp_path):
    config = tmp_path / 'with_tensorboard.py'
    config.write_text(TENSORBOARD_CONFIG)
    work_dir = str(tmp_path / 'work')
    run_tool([
        'tools/train.py',
        str(config), '--work-dir', work_dir, '--cfg-options',
        *tiny_options(voc_root, iters=2, interval=2)
    ])
    (events, ) = glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    tags = set(
        event_accumulator.EventAccumulator(events).Reload().Tags()['scalars'])
    for step in range(1, STEPS + 1):
        assert f'decode.ce_step{step}' in tags
        assert f'mIoU@{step}' in tags
