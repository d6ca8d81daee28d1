"""tools/analysis_tools/deploy_benchmark.py on the tiny deployed model and
a tiny DeepLabV3-like baseline: every measure is there, the budgets keep
their steps, and the plot is drawn."""
import json
import os.path as osp

from mmengine.config import Config

from mmseg_convlstm.benchmarks.deploy_benchmark import ENGINES, OURS
from tests.conftest import axis_labels
from tests.tools_runner import run_tool_in_process
from .conftest import NUM_STEPS


def tiny_baseline(path, plain_cfg):
    """The tiny demo backbone with MMSeg's ASPP head (DeepLabV3)."""
    cfg = Config(
        dict(
            model=dict(
                type='EncoderDecoder',
                data_preprocessor=plain_cfg.model.data_preprocessor,
                backbone=plain_cfg.model.backbone,
                decode_head=dict(
                    type='ASPPHead',
                    in_channels=64,
                    in_index=-1,
                    channels=8,
                    dilations=(1, 2),
                    num_classes=21),
                test_cfg=dict(mode='whole'))))
    cfg.dump(path)
    return path


def test_the_benchmark_measures_every_engine(plain_deployment, tmp_path,
                                             saved_figures):
    anytime = str(tmp_path / 'anytime_iou.json')
    with open(anytime, 'w') as file:
        json.dump(
            dict(steps=[
                dict(step=step, mIoU=10.0 + step)
                for step in range(1, NUM_STEPS + 1)
            ]), file)
    baseline = tiny_baseline(str(tmp_path / 'aspp.py'), plain_deployment.cfg)
    run_tool_in_process(
        'tools/analysis_tools/deploy_benchmark.py',
        plain_deployment.config_file, plain_deployment.work_dir,
        '--checkpoint',
        plain_deployment.checkpoint, '--shape', '64', '96', '--steps', '1',
        str(NUM_STEPS), '--baselines', baseline, '--baseline-mious', '12.5',
        '--budgets-ms', '0.001', '100000', '--budget-images', '2', '--repeats',
        '1', '--threads', '1', '--anytime-json', anytime, '--out-dir',
        str(tmp_path / 'out'))
    with open(tmp_path / 'out' / 'deploy_benchmark_64x96.json') as file:
        report = json.load(file)
    measured = {(row['model'], row['engine'], row['part'])
                for row in report['latencies']}
    for engine in ENGINES:
        for part in ('prologue', 'step', 'T=1', f'T={NUM_STEPS}'):
            assert (OURS, engine, part) in measured
        assert ('aspp', engine, 'T=-') in measured
    assert report['threads'] == 1
    assert min(report['label_agreement'].values()) >= 0.999
    steps = {
        (row['engine'], row['budget_ms']): row['steps']
        for row in report['budgets']
    }
    for engine in ENGINES[1:]:
        assert steps[engine, 0.001] == [1, 1]
        assert steps[engine, 100000] == [NUM_STEPS] * 2
    markdown = open(tmp_path / 'out' / 'deploy_benchmark_64x96.md').read()
    assert 'over budget +10%' in markdown and '1 thread(s)' in markdown
    assert osp.isfile(tmp_path / 'out' / 'aspp.onnx')
    (figure, ) = saved_figures
    assert axis_labels(figure)[0] == ('ms per 64x96 image (CPU, 1 '
                                      'thread(s))', 'mIoU (%)')
    curves = {
        line.get_label(): line.get_ydata()
        for line in figure.axes[0].get_lines()
    }
    assert list(curves['ours, onnxruntime']) == [11.0, 10.0 + NUM_STEPS]
    assert list(curves['aspp, openvino']) == [12.5]
