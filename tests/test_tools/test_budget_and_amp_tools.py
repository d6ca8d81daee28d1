"""tools/test.py --time-budget-ms run end to end on the demo model, and
tools/train.py --amp on a machine without a GPU."""
import glob
import json
import math
import os.path as osp

import pytest
import torch

from tests.tools_runner import DEMO_CONFIG, run_tool, scalars, voc_overrides

NUM_STEPS = 5  # the demo config's model.test_cfg.num_steps


@pytest.fixture(scope='module')
def checkpoint(trained_voc):
    """The checkpoint of 2 iterations of the demo model by tools/train.py."""
    return osp.join(trained_voc, 'iter_2.pth')


# A budget no step fits in still runs one step; one every step fits in runs
# them all.
@pytest.mark.parametrize('budget_ms, expected_steps', [(1e-6, 1),
                                                       (1e9, NUM_STEPS)])
def test_test_tool_with_a_time_budget_writes_the_steps_used(
        checkpoint, voc_root, tmp_path, budget_ms, expected_steps):
    result = run_tool([
        'tools/test.py', DEMO_CONFIG, checkpoint, '--time-budget-ms',
        str(budget_ms), '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 2)
    ])

    output = result.stdout + result.stderr
    (json_file, ) = glob.glob(str(tmp_path / '*' / 'time_budget.json'))
    with open(json_file) as file:
        report = json.load(file)
    assert report['num_images'] == 3  # the val split of voc_root
    assert 1 <= report['mean_steps'] <= NUM_STEPS
    assert report['mean_steps'] == expected_steps
    assert report['steps_histogram'] == {str(expected_steps): 3}
    assert 0 <= report['mIoU'] <= 100
    assert (f'adaptive exit: {expected_steps:.2f} recurrent steps per image'
            in output)
    # The budget replaced the every-step report.
    assert 'results after every recurrent step' not in result.stdout
    assert not glob.glob(str(tmp_path / '*' / 'anytime_iou.json'))


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks a machine without a GPU')
def test_train_tool_refuses_amp_without_a_gpu_naming_the_flag(
        voc_root, tmp_path):
    result = run_tool([
        'tools/train.py', DEMO_CONFIG, '--amp', 'bf16', '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 2)
    ],
                      check=False)

    assert result.returncode != 0
    assert ('RuntimeError: --amp: mixed-precision training uses MMEngine\'s '
            'AmpOptimWrapper, which needs a GPU') in result.stderr
    assert 'drop --amp to train in fp32 on the CPU' in result.stderr
    # Refused before anything was built or written.
    assert not (tmp_path / 'iter_1.pth').exists()
    assert 'AssertionError' not in result.stderr


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='AMP training needs a CUDA device')
def test_train_tool_trains_with_amp_on_a_gpu(voc_root, tmp_path):
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--amp', 'bf16', '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 2)
    ])

    assert (tmp_path / 'iter_2.pth').is_file()
    losses = [r['loss'] for r in scalars(str(tmp_path)) if 'loss' in r]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
