"""Wall time of per-position exit, in one interleaved run on one machine:
the head's median time per image for the dense T steps and for
per-position exit with each rule (with the mean steps per position), as
ratios to dense; and the time of one step from a carried state on a
fraction of the positions (a video frame with per-position steps) against
that fraction, against a dense step.
The backbone features of the config's test (or val) images are computed
once. Writes the tables as Markdown and JSON and prints them."""
import argparse

import torch

from mmseg_convlstm.benchmarks.exit_rules import parse_rule
from mmseg_convlstm.benchmarks.position_exit_benchmark import (
    DEFAULT_FRACTIONS, backbone_features, benchmark_position_exit,
    check_fractions, check_model, dataset_images, random_features)
from mmseg_convlstm.benchmarks.workload import load_model
from mmseg_convlstm.cli import (add_inference_args, check_data_roots,
                                input_shape, load_config, write_report)

NAME = 'benchmark_position_exit'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Wall time of per-position exit against the dense '
        'steps, and of one step against the running fraction')
    parser.add_argument('config', help='config file of the recurrent model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--images', type=int, default=30, help='images to measure')
    parser.add_argument(
        '--steps',
        type=int,
        default=10,
        help='steps of the dense run and most steps per position')
    parser.add_argument(
        '--rules',
        nargs='+',
        default=['confidence=0.7'],
        help='per-position exit rules, key=value[,key=value] with keys '
        'confidence, settle_steps, min_steps')
    parser.add_argument(
        '--fractions',
        type=float,
        nargs='+',
        default=list(DEFAULT_FRACTIONS),
        help='fractions of the positions running in the one-step table')
    parser.add_argument(
        '--repeats',
        type=int,
        default=3,
        help='timed rounds, whose median is reported')
    parser.add_argument(
        '--random-images',
        action='store_true',
        help="random images of the data preprocessor's size instead of the "
        "config's dataset")
    parser.add_argument(
        '--out-dir',
        help=f'where to write {NAME}_HxW.md/.json (default: <work dir>/'
        f'{NAME})')
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for rule in args.rules:
        parse_rule(rule)
    check_fractions(args.fractions)
    cfg = load_config(args)
    model = load_model(cfg, args.checkpoint, args.device)
    check_model(model)
    if args.random_images:
        shape = input_shape(
            argparse.Namespace(shape=None, config=args.config), cfg)
        features = random_features(model, args.images, shape)
    else:
        check_data_roots(cfg, 'test_dataloader')
        batches = dataset_images(cfg, args.images)
        features = backbone_features(model, batches)
        shape = tuple(batches[0]['inputs'][0].shape[1:])
    report = benchmark_position_exit(
        model.decode_head,
        features,
        args.steps,
        args.rules,
        fractions=args.fractions,
        repeats=args.repeats,
        device=torch.device(args.device))
    write_report(args, cfg, NAME, shape, report)


if __name__ == '__main__':
    main()
