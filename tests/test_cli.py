"""The --time-budget-ms and --cuda-graph flags of tools/test.py and
demo/image_demo.py set model.test_cfg; the tools end their process group."""
import argparse

import torch.distributed as torch_dist
from mmengine.config import Config

from mmseg_convlstm.cli import (add_step_budget_args, apply_step_budget_args,
                                end_distributed)
from tests.conftest import DEMO_CONFIG


def parsed(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_step_budget_args(parser)
    return parser.parse_args(list(flags))


def test_without_flags_the_config_is_unchanged():
    cfg = Config.fromfile(DEMO_CONFIG)
    before = cfg.to_dict()
    apply_step_budget_args(cfg, parsed())
    assert cfg.to_dict() == before


def test_a_time_budget_sets_the_budget_and_the_mean_steps_evaluator():
    cfg = Config.fromfile(DEMO_CONFIG)
    assert cfg.test_evaluator.type == 'AnytimeIoUMetric'
    apply_step_budget_args(cfg, parsed('--time-budget-ms', '40',
                                       '--cuda-graph'))
    assert cfg.model.test_cfg.time_budget_ms == 40.0
    assert cfg.model.test_cfg.cuda_graph is True
    assert cfg.model.test_cfg.return_all_steps is False
    assert cfg.test_evaluator.type == 'AdaptiveExitIoUMetric'
    assert cfg.test_evaluator.json_file == 'time_budget.json'


def test_the_tools_end_the_process_group_they_ran_in(tmp_path):
    torch_dist.init_process_group(
        backend='gloo',
        init_method=f'file://{tmp_path / "store"}',
        rank=0,
        world_size=1)
    assert torch_dist.is_initialized()

    end_distributed()

    assert not torch_dist.is_initialized()
    end_distributed()  # without a group: nothing to end
