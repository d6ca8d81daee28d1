"""Train a segmentor, as MMSeg's tools/train.py does."""
import argparse
import logging

from mmengine.logging import print_log

from mmseg_convlstm.cli import (add_common_args, build_runner,
                                check_data_roots, end_distributed,
                                init_cpu_distributed, load_config)
from mmseg_convlstm.engine.mixed_precision import (check_amp_available,
                                                   optim_wrapper_in_precision)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from CHECKPOINT, or with no value from the newest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        nargs='?',
        const='fp16',
        choices=['fp16', 'bf16'],
        help='enable automatic-mixed-precision training, in fp16 (the '
        'default) or bf16')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.amp:
        check_amp_available('--amp')
    cfg = load_config(args)
    init_cpu_distributed(cfg)
    check_data_roots(cfg, 'train_dataloader', 'val_dataloader')
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            cfg.optim_wrapper = optim_wrapper_in_precision(
                cfg.optim_wrapper, args.amp)
    if args.resume == 'auto':
        cfg.resume = True
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    runner = build_runner(cfg)
    runner.train()
    end_distributed()


if __name__ == '__main__':
    main()
