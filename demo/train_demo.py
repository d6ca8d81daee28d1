"""The main job on a small generated dataset (`make demo`).

Generates a PASCAL VOC-layout dataset of textured shapes, trains the recurrent
canvas model (ResNetV1c-18 from scratch) on it on the CPU, evaluates it after
every recurrent step against the all-background baseline, and leaves the
checkpoint, the logs and a picture of the predictions of every step in the
work dir.
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_convlstm.analysis.demo_report import (all_background_miou,
                                                 save_prediction_pictures)
from mmseg_convlstm.datasets import make_voc_tree

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'demo',
    'convlstm_r18-d16-mg248_1xb4-400i_synthvoc-97x97.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument(
        '--iters',
        type=int,
        help="training iterations (default: the config's, 400)")
    parser.add_argument('--num-train', type=int, default=160)
    parser.add_argument('--num-val', type=int, default=40)
    parser.add_argument(
        '--num-pictures',
        type=int,
        default=4,
        help='validation images drawn after every step')
    return parser.parse_args()


def demo_config(args: argparse.Namespace, data_root: str) -> Config:
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = args.work_dir
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    if args.iters:
        cfg.train_cfg.max_iters = args.iters
        cfg.param_scheduler[0].end = args.iters
        cfg.default_hooks.checkpoint.interval = args.iters
    # main() validates once, after training.
    cfg.train_cfg.val_interval = cfg.train_cfg.max_iters + 1
    return cfg


def main() -> None:
    args = parse_args()
    data_root = make_voc_tree(
        osp.join(args.work_dir, 'data'),
        dict(train=args.num_train, val=args.num_val),
        seed=0)
    runner = Runner.from_cfg(demo_config(args, data_root))
    runner.train()
    metrics = runner.val_loop.run()
    baseline = all_background_miou(runner.val_dataloader.dataset)
    steps = runner.model.test_cfg.num_steps
    print('\nmIoU after every recurrent step (validation, '
          f'{args.num_val} images):')
    for step in range(1, steps + 1):
        print(f'  step {step}: {metrics[f"mIoU@{step}"]:.2f}')
    print(f'  all-background baseline: {baseline:.2f}')
    pictures = save_prediction_pictures(runner.model, runner.val_dataloader,
                                        args.num_pictures,
                                        osp.join(args.work_dir, 'pictures'))
    print(f'checkpoint: {osp.join(args.work_dir, f"iter_{runner.iter}.pth")}')
    print('pictures of every step: ' + ', '.join(pictures))


if __name__ == '__main__':
    main()
