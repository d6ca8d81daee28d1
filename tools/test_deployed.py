"""Evaluate a deployed model (tools/deploy.py) on the config's test set with
the config's evaluator, as tools/test.py evaluates the PyTorch model."""
import argparse
import os.path as osp

from mmseg_convlstm.cli import (add_deploy_args, add_time_budget_arg,
                                apply_step_budget_args, check_data_roots,
                                load_config)
from mmseg_convlstm.deploy.deployed_test import evaluate_deployed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a deployed model')
    parser.add_argument(
        'config',
        help='config file the model was exported '
        'from (its test_cfg chooses the steps)')
    parser.add_argument('deploy_dir', help='what tools/deploy.py wrote')
    parser.add_argument(
        '--threads',
        type=int,
        help='intra-op threads (default: torch.get_num_threads())')
    add_time_budget_arg(parser)
    add_deploy_args(parser, None,
                    'the inference engine (default: the one exported for)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    work_dir = args.work_dir or osp.join(args.deploy_dir, 'test')
    cfg = load_config(args)
    apply_step_budget_args(cfg, args)
    check_data_roots(cfg, 'test_dataloader')
    evaluate_deployed(cfg, args.deploy_dir, work_dir, args.backend,
                      args.threads, args.config, args.allow_partial_checkpoint)


if __name__ == '__main__':
    main()
