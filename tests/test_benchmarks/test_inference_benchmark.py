"""benchmark_budget's --cuda-graph and --amp options on a CPU: the graphs
are said to be unavailable and everything runs eagerly; the marginal cost
of a step comes from the rows measured."""
from unittest import mock

import pytest
import torch
from mmengine.config import Config

from mmseg_convlstm.benchmarks.inference_benchmark import (BudgetBenchmark,
                                                           LatencyRow,
                                                           benchmark_budget,
                                                           per_step_latency)
from mmseg_convlstm.benchmarks.latency import autocast_run
from tests.conftest import DEMO_CONFIG


def test_cuda_graph_without_cuda_runs_eagerly_under_autocast():
    with mock.patch('mmseg_convlstm.benchmarks.inference_benchmark.'
                    'print_log') as log:
        report = benchmark_budget(
            Config.fromfile(DEMO_CONFIG), (33, 33),
            steps=(1, 3),
            baselines=(),
            repeats=1,
            measure_memory=False,
            cuda_graph=True,
            amp='bf16')

    assert 'runs eagerly' in log.call_args.args[0]
    assert not any(row.cuda_graph for row in report.latencies)
    assert report.amp == 'bf16' and set(report.per_step) == {'eager'}
    assert 'autocast bf16' in report.markdown()


def test_per_step_latency_is_the_slope_between_fewest_and_most_steps():
    rows = [
        LatencyRow('ours', 1, True, 0.100),
        LatencyRow('ours', 5, True, 0.140),
        LatencyRow('ours', 5, False, 0.900),
        LatencyRow('ours', 1, True, 0.050, cuda_graph=True),
        LatencyRow('ours', 5, True, 0.054, cuda_graph=True),
        LatencyRow('DeepLabV3 R-101-D8', None, None, 0.300, cuda_graph=True)
    ]
    per_step = per_step_latency(rows)
    assert per_step == pytest.approx({'eager': 0.010, 'CUDA graph': 0.001})

    report = BudgetBenchmark((33, 33), 'CPU', 1, rows, (5, 0.1, 0.2),
                             (33, 33), 2, [], '', per_step=per_step)
    tables = report.markdown()
    assert '/ DeepLabV3 R-101-D8 (CUDA graph) |' in tables
    assert '| ours (CUDA graph) | 5 | yes | 54 | 0.180 |' in tables
    assert '10.00 ms eager, 1.00 ms CUDA graph' in tables


def test_autocast_run_casts_and_refuses_unknown_dtypes():
    convolution = torch.nn.Conv2d(3, 4, 1)
    image = torch.rand(1, 3, 5, 5)
    run = autocast_run(lambda: convolution(image), torch.device('cpu'),
                       'bf16')
    assert run().dtype == torch.bfloat16
    with pytest.raises(ValueError, match='amp must be one of'):
        autocast_run(lambda: None, torch.device('cpu'), 'fp8')
