"""Test (and evaluate) a checkpoint, as MMSeg's tools/test.py does."""
import argparse

from mmseg_convlstm.cli import (add_checkpoint_check_arg, add_common_args,
                                add_step_budget_args, apply_step_budget_args,
                                build_runner, check_data_roots,
                                end_distributed, init_cpu_distributed,
                                load_config)
from mmseg_convlstm.engine import check_checkpoint_fits


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='directory to save the predicted label maps (last step) as PNG')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory to save images drawn with their predictions')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    add_step_budget_args(parser)
    add_checkpoint_check_arg(parser)
    add_common_args(parser)
    return parser.parse_args()


def trigger_visualization_hook(cfg, args: argparse.Namespace):
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks; refer to '
            'usage "visualization=dict(type=\'VisualizationHook\')"')
    hook = default_hooks['visualization']
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    apply_step_budget_args(cfg, args)
    init_cpu_distributed(cfg)
    check_data_roots(cfg, 'test_dataloader')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    runner = build_runner(cfg)
    check_checkpoint_fits(runner.model, args.checkpoint,
                          args.allow_partial_checkpoint)
    runner.test()
    end_distributed()


if __name__ == '__main__':
    main()
