"""Benchmark of the variable budget, in one run on one machine: latency of
the recurrent model at T = 1, 4, 10 steps with and without the cached input
projection, as ratios to DeepLabV3 R-101-D8 and PSPNet R-101-D8; the time of
predicting every step 1..T in one pass against predicting step T alone; and
the peak memory of a training step at each T against DeepLabV3 R-101-D8 at
the same crop and batch. ``--cuda-graph`` adds ours and the baselines
replayed from CUDA graphs (on CUDA) and the per-step marginal latency of
both; ``--amp`` measures under autocast. Writes the tables as Markdown and
prints them."""
import argparse

from mmseg_convlstm.benchmarks.inference_benchmark import benchmark_budget
from mmseg_convlstm.cli import (add_benchmark_args, input_shape, load_config,
                                write_report)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Latency and memory of the recurrent model at several '
        'numbers of steps, against DeepLabV3 and PSPNet')
    add_benchmark_args(parser, 'benchmark_budget', default_steps=(1, 4, 10))
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
        '--cuda-graph',
        action='store_true',
        help='also measure ours step by step and the baselines\' whole '
        'forward replayed from CUDA graphs, and predict with '
        'model.test_cfg.cuda_graph (without CUDA: says so, runs eagerly)')
    parser.add_argument(
        '--amp',
        choices=['fp16', 'bf16'],
        help='measure latency under autocast to this dtype (default: fp32)')
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
        measure_memory=not args.skip_memory,
        cuda_graph=args.cuda_graph,
        amp=args.amp)
    write_report(args, cfg, 'benchmark_budget', shape, report)


if __name__ == '__main__':
    main()
