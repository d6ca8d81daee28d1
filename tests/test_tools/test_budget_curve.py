"""tools/analysis_tools/budget_curve.py on the demo model, with the JSONs of
a real adaptive-exit evaluation and of AnytimeIoUMetric, against PSPNet."""
import glob
import json
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.structures import PixelData
from PIL import Image

from mmseg.registry import MODELS
from mmseg_convlstm.benchmarks.budget_curve import (read_adaptive_exit_json,
                                                    read_anytime_json)
from mmseg_convlstm.utils.model_zoo import mmseg_config_path
from mmseg_convlstm.evaluation import AnytimeIoUMetric
from tests.tools_runner import DEMO_CONFIG, run_tool, voc_overrides

PSPNET = 'mmseg::pspnet/pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'random.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def anytime_json(path, num_steps=3):
    """A JSON written by AnytimeIoUMetric, and its metrics."""
    torch.manual_seed(0)
    metric = AnytimeIoUMetric(json_file=path)
    metric.dataset_meta = dict(classes=('background', 'car', 'person'))
    metric.process({}, [
        dict(
            pred_sem_seg_steps=PixelData(
                data=torch.randint(3, (num_steps, 8, 8))).to_dict(),
            gt_sem_seg=PixelData(data=torch.randint(3, (1, 8, 8))).to_dict())
        for _ in range(2)
    ])
    return metric.evaluate(2)


def adaptive_exit_json(checkpoint, voc_root, work_dir):
    """tools/test.py with adaptive exit and AdaptiveExitIoUMetric."""
    run_tool([
        'tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir', work_dir,
        '--cfg-options', *voc_overrides(voc_root, 1),
        'model.test_cfg.return_all_steps=False',
        'model.test_cfg.adaptive_exit.min_steps=2',
        'model.test_cfg.adaptive_exit.max_steps=3',
        'model.test_cfg.adaptive_exit.change_fraction=0.02',
        'test_evaluator.type=AdaptiveExitIoUMetric'
    ])
    (path, ) = glob.glob(osp.join(work_dir, '*', 'adaptive_exit.json'))
    return path


def test_budget_curve_of_the_demo_model(checkpoint, voc_root, tmp_path):
    anytime_path = str(tmp_path / 'anytime.json')
    anytime = anytime_json(anytime_path)
    adaptive_path = adaptive_exit_json(checkpoint, voc_root,
                                       str(tmp_path / 'test'))
    with open(adaptive_path) as file:
        adaptive = json.load(file)
    assert 2 <= adaptive['mean_steps'] <= 3

    result = run_tool([
        'tools/analysis_tools/budget_curve.py', DEMO_CONFIG, '--checkpoint',
        checkpoint, '--anytime-json', anytime_path, '--adaptive-json',
        adaptive_path, '--max-steps', '3', '--shape', '65', '65',
        '--baselines', PSPNET, '--repeats', '1', '--out-dir',
        str(tmp_path / 'out')
    ])

    stem = tmp_path / 'out' / 'budget_curve_65x65'
    with open(f'{stem}.json') as file:
        curve = json.load(file)
    ours = curve['ours']
    assert [point['steps'] for point in ours] == [1, 2, 3]
    assert [point['miou'] for point in ours] == [
        anytime[f'mIoU@{step}'] for step in (1, 2, 3)
    ]
    step_macs = curve['step_macs'][0]
    assert ours[1]['macs'] - ours[0]['macs'] == step_macs
    assert ours[2]['macs'] - ours[1]['macs'] == step_macs
    assert curve['step_macs'][1] > step_macs
    assert all(point['latency'] > 0 for point in ours)

    exit_point = curve['adaptive_exit']
    assert exit_point['steps'] == adaptive['mean_steps']
    assert exit_point['miou'] == adaptive['mIoU']
    assert exit_point['macs'] == pytest.approx(
        ours[0]['macs'] + (adaptive['mean_steps'] - 1) * step_macs)

    (pspnet, ) = curve['baselines']
    assert pspnet['model'] == 'PSPNet R-101-D8'
    zoo_name = pspnet['miou_source'].split(': ')[1]
    with open(osp.join(
            osp.dirname(mmseg_config_path(PSPNET)), 'metafile.yaml')) as file:
        entries = {e['Name']: e for e in yaml.safe_load(file)['Models']}
    assert 'voc12aug' in zoo_name
    assert pspnet['miou'] == entries[zoo_name]['Results']['Metrics']['mIoU']
    assert pspnet['macs'] > ours[-1]['macs'] and pspnet['latency'] > 0

    with open(f'{stem}.md') as file:
        table = file.read()
    assert table in result.stdout
    assert table.count('| ours |') == 3 and '| PSPNet R-101-D8 |' in table
    assert '| ours, adaptive exit |' in table
    with Image.open(f'{stem}.png') as plot:
        assert plot.size[0] > 300


@pytest.mark.parametrize('content, message', [
    ('{"steps": [{"step": 1}]}', 'not an AnytimeIoUMetric JSON'),
    ('{"steps": ', 'not valid JSON'),
])
def test_bad_anytime_json_is_named(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        read_anytime_json(str(path))
    assert str(path) in str(error.value)


def test_bad_adaptive_json_is_named(tmp_path):
    path = tmp_path / 'anytime.json'
    anytime_json(str(path))
    with pytest.raises(ValueError, match='not an AdaptiveExitIoUMetric'):
        read_adaptive_exit_json(str(path))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        read_adaptive_exit_json(str(tmp_path / 'missing.json'))
