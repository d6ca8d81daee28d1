"""Benchmark of the variable budget, in one run on one machine: latency of
the recurrent model at T = 1, 4, 10 steps with and without the cached input
projection, as ratios to DeepLabV3 R-101-D8 and PSPNet R-101-D8; the time of
predicting every step 1..T in one pass against predicting step T alone; and
the peak memory of a training step at each T against DeepLabV3 R-101-D8 at
the same crop and batch. Writes the tables as Markdown and prints them."""
import argparse
import json
import os
import os.path as osp
from dataclasses import asdict

from mmseg_convlstm.analysis.benchmark import (BENCHMARK_BASELINES,
                                               benchmark_budget)
from mmseg_convlstm.cli import (add_inference_args, add_shape_arg, input_shape,
                                load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Latency and memory of the recurrent model at several '
        'numbers of steps, against DeepLabV3 and PSPNet')
    parser.add_argument('config', help='config file of the recurrent model')
    add_shape_arg(parser)
    parser.add_argument(
        '--steps',
        type=int,
        nargs='+',
        default=[1, 4, 10],
        help='numbers of recurrent steps to measure')
    parser.add_argument(
        '--baselines',
        nargs='+',
        default=list(BENCHMARK_BASELINES),
        metavar='CONFIG',
        help='baseline configs, files or mmseg::algorithm/name.py; the '
        'first is the reference of the memory table (default: DeepLabV3 '
        'R-101-D8, PSPNet R-101-D8)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs per latency, whose median is reported')
    parser.add_argument(
        '--train-crop',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='crop of the training steps (default: --shape)')
    parser.add_argument(
        '--train-batch',
        type=int,
        default=2,
        help='batch of the training steps, at least 2')
    parser.add_argument(
        '--skip-memory',
        action='store_true',
        help='measure latency only')
    parser.add_argument(
        '--out-dir',
        help='where to write benchmark_budget_HxW.md/.json (default: '
        '<work dir>/benchmark_budget)')
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    shape = input_shape(args, cfg)
    report = benchmark_budget(
        cfg,
        shape,
        steps=args.steps,
        baselines=args.baselines,
        repeats=args.repeats,
        device=args.device,
        train_crop=args.train_crop,
        train_batch=args.train_batch,
        measure_memory=not args.skip_memory)
    out_dir = args.out_dir or osp.join(cfg.work_dir, 'benchmark_budget')
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.join(out_dir, f'benchmark_budget_{shape[0]}x{shape[1]}')
    tables = report.markdown()
    with open(f'{stem}.md', 'w') as file:
        file.write(tables)
    with open(f'{stem}.json', 'w') as file:
        json.dump(asdict(report), file, indent=2)
    print(f'\n{tables}\nwritten: {stem}.md and .json')


if __name__ == '__main__':
    main()
