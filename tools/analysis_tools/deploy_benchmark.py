"""Latency of the deployed recurrent model (tools/deploy.py) in ONNX Runtime
and OpenVINO against PyTorch eager and MMSeg's baselines exported the same
way (one graph each), in one interleaved run: the prologue, one step and the
whole image at T steps; time budgets on the deployed model (steps reached,
how often the budget is overrun); a plot of mIoU against milliseconds from
the per-step mIoU of AnytimeIoUMetric (--anytime-json)."""
import argparse
import os.path as osp
from typing import List

import torch

from mmseg_convlstm.benchmarks.budget_curve import read_anytime_json
from mmseg_convlstm.benchmarks.deploy_benchmark import (baseline_title,
                                                        benchmark_deployment,
                                                        plot_miou_against_ms)
from mmseg_convlstm.cli import (add_config_args, add_shape_arg,
                                add_work_dir_arg, input_shape, load_config,
                                write_report)

NAME = 'deploy_benchmark'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Latency of the deployed model against PyTorch and '
        'the baselines')
    parser.add_argument('config', help='config file of the recurrent model')
    parser.add_argument('deploy_dir', help='what tools/deploy.py wrote')
    parser.add_argument(
        '--checkpoint',
        help='weights of the PyTorch model (the label agreement); latency '
        'does not depend on them')
    add_shape_arg(parser)
    parser.add_argument(
        '--steps',
        type=int,
        nargs='+',
        default=[1, 4, 10],
        help='steps T of the whole-image measures')
    parser.add_argument(
        '--baselines',
        nargs='*',
        default=[],
        metavar='CONFIG',
        help='baseline configs (files or mmseg::algorithm/name.py), each '
        'exported as one graph')
    parser.add_argument(
        '--baseline-mious',
        type=float,
        nargs='*',
        default=[],
        metavar='MIOU',
        help='mIoU of each baseline, in the order of --baselines, for the '
        'plot (default: vertical lines at their milliseconds)')
    parser.add_argument(
        '--budgets-ms',
        type=float,
        nargs='*',
        default=[],
        metavar='MS',
        help='time budgets to run on the deployed model')
    parser.add_argument(
        '--budget-images',
        type=int,
        default=20,
        help='images of each time budget')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs of each measure, whose median is reported')
    parser.add_argument(
        '--threads',
        type=int,
        default=torch.get_num_threads(),
        help='threads of PyTorch and of the backends (default: '
        'torch.get_num_threads(), which OMP_NUM_THREADS sets)')
    parser.add_argument(
        '--anytime-json',
        help='JSON of AnytimeIoUMetric (tools/test.py or '
        'tools/test_deployed.py): plot mIoU against milliseconds')
    parser.add_argument(
        '--out-dir',
        help=f'where to write {NAME}_HxW.md/.json/.png and the baselines\' '
        f'graphs (default: <work dir>/{NAME})')
    add_work_dir_arg(parser)
    add_config_args(parser)
    return parser.parse_args()


def baseline_mious(configs: List[str], mious: List[float]) -> dict:
    """The ``--baseline-mious`` by baseline title."""
    if mious and len(mious) != len(configs):
        raise ValueError(
            f'--baseline-mious gives {len(mious)} mIoU for '
            f'{len(configs)} --baselines: give one per baseline, in order')
    return {
        baseline_title(config): miou
        for config, miou in zip(configs, mious)
    }


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    args.out_dir = args.out_dir or osp.join(cfg.work_dir, NAME)
    shape = input_shape(args, cfg)
    report = benchmark_deployment(
        cfg,
        args.config,
        args.deploy_dir,
        args.out_dir,
        shape,
        steps=args.steps,
        baselines=args.baselines,
        budgets_ms=args.budgets_ms,
        budget_images=args.budget_images,
        repeats=args.repeats,
        threads=args.threads,
        checkpoint=args.checkpoint)
    write_report(args, cfg, NAME, shape, report)
    if args.anytime_json:
        path = osp.join(args.out_dir, f'{NAME}_{shape[0]}x{shape[1]}.png')
        plot_miou_against_ms(
            report, read_anytime_json(args.anytime_json), path,
            baseline_mious(args.baselines, args.baseline_mious))
        print(f'plot written to {path}')


if __name__ == '__main__':
    main()
