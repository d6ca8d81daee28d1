"""tools/analysis_tools/benchmark_position_exit.py on the demo model (its
numbers are for docs/en/benchmarks.md): what it reports and how."""
import json

import pytest
import torch
from mmengine.config import Config

from mmseg_convlstm.utils.complexity import build_segmentor
from tests.tools_runner import DEMO_CONFIG, run_tool

TOOL = 'tools/analysis_tools/benchmark_position_exit.py'


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory):
    """Untrained weights of the demo model."""
    path = tmp_path_factory.mktemp('checkpoint') / 'demo.pth'
    model = build_segmentor(Config.fromfile(DEMO_CONFIG).model)
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


def test_benchmark_on_dataset_images(tmp_path, voc_root, demo_checkpoint):
    result = run_tool([
        TOOL, DEMO_CONFIG, demo_checkpoint, '--images', '2', '--steps', '3',
        '--rules', 'confidence=0.2', 'settle_steps=1,min_steps=2',
        '--fractions', '1', '0.1', '--repeats', '1', '--device', 'cpu',
        '--out-dir',
        str(tmp_path), '--cfg-options',
        f'test_dataloader.dataset.data_root={voc_root}'
    ])

    stem = next(tmp_path.glob('benchmark_position_exit_*.json'))
    with open(stem) as file:
        report = json.load(file)
    assert report['images'] == 2 and report['steps'] == 3
    assert [row['rule'] for row in report['head']
            ] == [None, 'confidence=0.2', 'settle_steps=1,min_steps=2']
    dense = report['head'][0]['seconds']
    for row in report['head']:
        assert row['ratio'] == pytest.approx(row['seconds'] / dense)
        assert 1 <= row['mean_steps'] <= 3
    assert [row['fraction'] for row in report['fractions']] == [1.0, 0.1]
    for row in report['fractions']:
        assert row['ratio'] == pytest.approx(row['seconds'] /
                                             report['dense_step'])
    with open(stem.with_suffix('.md')) as file:
        assert file.read() in result.stdout


def test_random_images_and_a_bad_rule(tmp_path, demo_checkpoint):
    run_tool([
        TOOL, DEMO_CONFIG, demo_checkpoint, '--random-images', '--images', '1',
        '--steps', '2', '--fractions', '0.5', '--repeats', '1', '--device',
        'cpu', '--out-dir',
        str(tmp_path)
    ])
    assert (tmp_path / 'benchmark_position_exit_97x97.md').is_file()

    result = run_tool([
        TOOL, DEMO_CONFIG, demo_checkpoint, '--random-images', '--rules',
        'confidence=0.7', 'settle=2', '--device', 'cpu'
    ],
                      check=False)
    assert result.returncode != 0
    assert "rule 'settle=2'" in result.stderr
