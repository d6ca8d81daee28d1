"""tools/analysis_tools/benchmark_budget.py on the demo model at a tiny size:
what it measures and how it reports it (its numbers are for
docs/en/benchmarks.md)."""
import json

import pytest
from mmengine.config import Config

from mmseg_convlstm.benchmarks.inference_benchmark import benchmark_budget
from tests.tools_runner import DEMO_CONFIG, run_tool


def test_benchmark_of_the_demo_model(tmp_path):
    result = run_tool([
        'tools/analysis_tools/benchmark_budget.py', DEMO_CONFIG, '--shape',
        '33', '33', '--steps', '1', '2', '--repeats', '1', '--out-dir',
        str(tmp_path)
    ])

    stem = tmp_path / 'benchmark_budget_33x33'
    with open(f'{stem}.json') as file:
        report = json.load(file)
    rows = {(row['model'], row['steps'], row['cached']): row['latency']
            for row in report['latencies']}
    assert set(rows) == {
        ('ours', 1, True), ('ours', 2, True), ('ours', 1, False),
        ('ours', 2, False), ('DeepLabV3 R-101-D8', None, None),
        ('PSPNet R-101-D8', None, None)
    }
    assert all(seconds > 0 for seconds in rows.values())
    steps, alone, one_pass = report['one_pass']
    assert steps == 2 and alone > 0 and one_pass > 0

    memory = {(row['model'], row['steps']): row['peak_bytes']
              for row in report['memory']}
    assert set(memory) == {('ours', 1), ('ours', 2),
                           ('DeepLabV3 R-101-D8', None)}
    # DeepLabV3's training step allocates at least the gradients of its
    # ~85 M parameters (~325 MiB); the demo model has 12 M.
    deeplab = memory[('DeepLabV3 R-101-D8', None)]
    assert deeplab > 250 * 2**20
    assert 0 < memory[('ours', 1)] < deeplab / 2

    with open(f'{stem}.md') as file:
        tables = file.read()
    assert tables in result.stdout
    deeplab_ms = rows[('DeepLabV3 R-101-D8', None, None)] * 1e3
    assert f'| DeepLabV3 R-101-D8 |  |  | {deeplab_ms:.0f} | 1.000 |' in tables
    assert f'| {one_pass / alone:.3f} |' in tables


def test_training_batch_of_one_is_refused():
    with pytest.raises(ValueError, match='train_batch must be at least 2'):
        benchmark_budget(
            Config.fromfile(DEMO_CONFIG), (33, 33), train_batch=1)
