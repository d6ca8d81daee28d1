"""tools/analysis_tools/benchmark_train.py on the demo model at a tiny
crop: what it measures and how it reports it (its numbers are for
docs/en/benchmarks.md)."""
import json

import pytest
from mmengine.config import Config

from mmseg_convlstm.benchmarks.train_benchmark import benchmark_train
from tests.tools_runner import DEMO_CONFIG, run_tool

DEEPLAB = 'DeepLabV3 R-101-D8'
PSPNET = 'PSPNet R-101-D8'


def test_benchmark_of_training_the_demo_model(tmp_path):
    result = run_tool([
        'tools/analysis_tools/benchmark_train.py', DEMO_CONFIG, '--shape',
        '33', '33', '--steps', '1', '3', '--repeats', '1', '--device', 'cpu',
        '--out-dir',
        str(tmp_path)
    ])

    stem = tmp_path / 'benchmark_train_33x33'
    with open(f'{stem}.json') as file:
        report = json.load(file)
    assert report['crop'] == [33, 33] and report['batch'] == 2
    rows = {(row['model'], row['steps'], row['precision']): row
            for row in report['rows']}
    assert set(rows) == {('ours', 1, 'fp32'), ('ours', 3, 'fp32'),
                         (DEEPLAB, None, 'fp32'), (PSPNET, None, 'fp32')}
    for (model, steps, _), row in rows.items():
        assert row['seconds'] > 0
        if steps is None:
            assert row['head_share'] is None
        else:
            assert 0 < row['head_share'] < 1
    # DeepLabV3's iteration allocates at least the gradients and momentum
    # of its ~85 M parameters; the demo model has 12 M.
    deeplab = rows[(DEEPLAB, None, 'fp32')]['peak_bytes']
    assert deeplab > 500 * 2**20
    assert 0 < rows[('ours', 3, 'fp32')]['peak_bytes'] < deeplab / 2

    with open(f'{stem}.md') as file:
        table = file.read()
    assert table in result.stdout
    ours = rows[('ours', 3, 'fp32')]
    ratio = ours['seconds'] / rows[(DEEPLAB, None, 'fp32')]['seconds']
    assert (f"| ours | 3 | fp32 | {ours['seconds']:.3f} | {ratio:.3f} |"
            in table)
    assert f"| {ours['head_share']:.0%} |" in table


@pytest.mark.parametrize('kwargs, message', [
    (dict(batch=1), 'batch must be at least 2'),
    (dict(precisions=('fp8', )), 'unknown precisions'),
    (dict(precisions=('fp32', 'bf16')), 'needs a GPU'),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        benchmark_train(Config.fromfile(DEMO_CONFIG), (33, 33), **kwargs)
