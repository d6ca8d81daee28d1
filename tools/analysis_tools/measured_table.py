"""The measured table of several trained models on their config's val split:
val mIoU and per-class IoU of every model, ours after every step, with
adaptive exit, with a time budget and with per-position exit; parameters,
GMACs and latency at one input size in the same run; the val mIoU during
training. With --train, trains every config that has no checkpoint yet
(tools/train.py, seeds from the configs) first, --train-jobs of them at once
(side by side on one GPU), each stopped cleanly after --train-timeout
seconds if given (the preemption hook checkpoints it; the table shows the
iterations it reached). Writes measured_table.md, .json and .png."""
import argparse
import json
import os
import os.path as osp
import sys
from dataclasses import asdict
from typing import List, Optional

from mmengine.config import Config, DictAction

from mmseg_convlstm.benchmarks.measured_table import (
    dataset_classes, evaluate_row, markdown_tables, measure_costs,
    plot_accuracy_against_macs, target_findings)
from mmseg_convlstm.benchmarks.side_by_side import run_side_by_side
from mmseg_convlstm.cli import add_inference_args

TRAIN_TOOL = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'train.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--work-root',
        default='work_dirs',
        help='each config trains in and is read from WORK_ROOT/<config name>')
    parser.add_argument(
        '--train',
        action='store_true',
        help='train the configs whose work dir has no last_checkpoint')
    parser.add_argument(
        '--train-jobs',
        type=int,
        default=1,
        help='trainings run at once with --train (default: 1)')
    parser.add_argument(
        '--train-timeout',
        type=float,
        help='seconds after which a training still running is sent SIGTERM '
        '(it saves a checkpoint and stops)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=(360, 480),
        metavar=('H', 'W'),
        help='input size of the cost measurements (default: 360 480)')
    parser.add_argument(
        '--latency-steps',
        type=int,
        nargs='+',
        default=[1, 10],
        help='steps at which our models are timed (default: 1 10)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs per latency, whose median is reported (0: none)')
    parser.add_argument(
        '--adaptive-exit',
        nargs='+',
        action=DictAction,
        help='evaluate ours also with model.test_cfg.adaptive_exit=dict(...),'
        ' e.g. min_steps=2 change_fraction=0.005')
    parser.add_argument(
        '--position-exit',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='evaluate ours also with per-position exit, once per rule, e.g. '
        'confidence=0.6 confidence=0.7 settle_steps=2')
    parser.add_argument(
        '--time-budget-ms',
        type=float,
        help='evaluate ours also with model.test_cfg.time_budget_ms')
    parser.add_argument(
        '--out-dir',
        help='where to write the table (default: WORK_ROOT/measured_table)')
    add_inference_args(parser)
    return parser.parse_args()


def work_dir_of(args: argparse.Namespace, config: str) -> str:
    return osp.join(args.work_root, osp.splitext(osp.basename(config))[0])


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint that MMEngine's ``last_checkpoint`` file names, if
    any."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as file:
        return file.read().strip()


def training_command(args: argparse.Namespace, config: str,
                     work_dir: str) -> List[str]:
    command = [sys.executable, TRAIN_TOOL, config, '--work-dir', work_dir]
    if args.cfg_options:
        command += ['--cfg-options'] + [
            f'{key}={value}' for key, value in args.cfg_options.items()
        ]
    return command


def train_untrained(args: argparse.Namespace) -> None:
    """Trains every config without a checkpoint, ``--train-jobs`` at once,
    each logging to WORK_ROOT/<config name>.log."""
    jobs = []
    for config in args.configs:
        work_dir = work_dir_of(args, config)
        if last_checkpoint(work_dir) is None:
            os.makedirs(work_dir, exist_ok=True)
            jobs.append((config, training_command(args, config, work_dir),
                         f'{work_dir}.log'))
    run_side_by_side(jobs, args.train_jobs, args.train_timeout)


def main() -> None:
    args = parse_args()
    if args.train:
        train_untrained(args)
    rows, models = [], []
    for config in args.configs:
        work_dir = work_dir_of(args, config)
        cfg = Config.fromfile(config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        checkpoint = last_checkpoint(work_dir)
        print(f'evaluating {config}' if checkpoint else
              f'{config}: no checkpoint in {work_dir}, its accuracy is read '
              'from its training log')
        row, model = evaluate_row(
            osp.splitext(osp.basename(config))[0],
            cfg,
            checkpoint,
            work_dir,
            adaptive_exit=args.adaptive_exit,
            time_budget_ms=args.time_budget_ms,
            device=args.device,
            position_exits=args.position_exit)
        rows.append(row)
        models.append(model)
        classes = dataset_classes(cfg)
    print('\nmeasuring costs')
    device = measure_costs(rows, models, tuple(args.shape),
                           args.latency_steps, args.repeats, args.device)
    out_dir = args.out_dir or osp.join(args.work_root, 'measured_table')
    os.makedirs(out_dir, exist_ok=True)
    findings = target_findings(rows)
    table = markdown_tables(rows, classes, tuple(args.shape), device)
    table += ''.join(f'\n- {finding}' for finding in findings) + '\n'
    stem = osp.join(out_dir, 'measured_table')
    with open(f'{stem}.md', 'w') as file:
        file.write(table)
    with open(f'{stem}.json', 'w') as file:
        json.dump(
            dict(device=device, rows=[asdict(row) for row in rows]),
            file,
            indent=2)
    plot_accuracy_against_macs(rows, f'{stem}.png', tuple(args.shape))
    print(f'\n{table}\nwritten: {stem}.md, .json and .png')


if __name__ == '__main__':
    main()
