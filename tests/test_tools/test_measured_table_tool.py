"""tools/analysis_tools/measured_table.py end to end on generated CamVid:
two configs trained side by side, one evaluated from its checkpoint and one
from its training log, costs measured in the same run, the tables, the JSON
and the plot written."""
import json
import os
import os.path as osp

from tests.conftest import CONFIGS
from tests.tools_runner import run_tool

TOOL = 'tools/analysis_tools/measured_table.py'
DEEPLAB = 'mobilenet-v2-d16_deeplabv3_1xb8-2k_camvid-288x384'
OURS = 'mobilenet-v2-d16_convlstm-256-128_1xb8-2k_camvid-288x384'


def quick_overrides(data_root):
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        'model.pretrained=None', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2'
    ]


def test_trains_side_by_side_then_measures_every_model(tmp_path,
                                                       camvid_root):
    configs = [
        osp.join(CONFIGS, 'camvid', f'{name}.py') for name in (DEEPLAB, OURS)
    ]
    work_root = tmp_path / 'work'
    common = [
        '--work-root',
        str(work_root), '--device', 'cpu', '--shape', '96', '128',
        '--repeats', '1', '--latency-steps', '1', '3'
    ]
    run_tool([TOOL, *configs, '--train', '--train-jobs', '2', *common,
              '--out-dir', str(tmp_path / 'first'),
              *quick_overrides(camvid_root)], timeout=900)
    for name in (DEEPLAB, OURS):
        assert (work_root / f'{name}.log').is_file()
        assert (work_root / name / 'last_checkpoint').is_file()

    # DeepLabV3's checkpoint gone (trained elsewhere): read from its log.
    os.remove(work_root / DEEPLAB / 'last_checkpoint')
    result = run_tool([TOOL, *configs, *common, '--adaptive-exit',
                       'min_steps=2', 'change_fraction=0.5',
                       '--position-exit', 'confidence=0.5',
                       '--out-dir', str(tmp_path / 'second'),
                       *quick_overrides(camvid_root)], timeout=900)
    assert 'its accuracy is read from its training log' in result.stdout

    written = json.loads((tmp_path / 'second' / 'measured_table.json')
                         .read_text())
    deeplab, ours = written['rows']
    assert deeplab['checkpoint'] is None and deeplab['iteration'] == 2
    assert ours['checkpoint'].endswith('iter_2.pth') and ours['iteration'] == 2
    assert len(ours['evaluation']['step_miou']) == 10
    assert 2 <= ours['adaptive_exit']['mean_steps'] <= 10
    per_position = ours['position_exits']['confidence=0.5']
    assert 1 <= per_position['mean_steps'] <= 10
    # Counted as they ran: every position runs step 1, none more than 10.
    assert (0.999 * ours['macs'][0] <= per_position['mean_macs'] <=
            1.001 * ours['macs'][-1])
    assert 'position_exits' not in deeplab or not deeplab['position_exits']
    assert ours['macs'][0] < ours['macs'][2] and deeplab['macs'][0] > 0
    assert set(ours['latency']) == {'1', '3'} and '0' in deeplab['latency']
    table = (tmp_path / 'second' / 'measured_table.md').read_text()
    assert f'| {DEEPLAB} | 2 (log) |' in table
    assert f'| {OURS} | 2 | 3 |' in table and f'| {OURS} | 2 | 1 |' in table
    assert f'| {OURS} | per position, confidence=0.5 |' in table
    assert (tmp_path / 'second' / 'measured_table.png').stat().st_size > 0
