"""Benchmark of training cost, in one run on one machine: seconds per
iteration (SGD update included) of the recurrent model at chosen numbers of
steps against DeepLabV3 R-101-D8 and PSPNet R-101-D8 at the same crop and
batch, in fp32 and mixed precision, with the share of the head and its
losses in our iteration and the peak memory of each. Writes the table as
Markdown and JSON and prints it."""
import argparse

from mmseg_convlstm.benchmarks.train_benchmark import (PRECISIONS,
                                                       benchmark_train)
from mmseg_convlstm.cli import (add_benchmark_args, input_shape, load_config,
                                write_report)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Seconds per training iteration and peak memory of the '
        'recurrent model against DeepLabV3 and PSPNet')
    add_benchmark_args(parser, 'benchmark_train', default_steps=(10, ))
    parser.add_argument(
        '--precisions',
        nargs='+',
        default=['fp32'],
        choices=PRECISIONS,
        help='fp32, and fp16/bf16 mixed precision as tools/train.py --amp '
        'trains')
    parser.add_argument(
        '--batch', type=int, default=2, help='images per iteration, >= 2')
    parser.add_argument(
        '--skip-memory', action='store_true', help='measure time only')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    crop = input_shape(args, cfg)
    report = benchmark_train(
        cfg,
        crop,
        steps=args.steps,
        baselines=args.baselines,
        precisions=args.precisions,
        batch=args.batch,
        repeats=args.repeats,
        device=args.device,
        measure_memory=not args.skip_memory)
    write_report(args, cfg, 'benchmark_train', crop, report)


if __name__ == '__main__':
    main()
