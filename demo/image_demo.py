"""Segment one image and draw the prediction on it, as MMSeg's
demo/image_demo.py does, after ``--steps`` recurrent steps."""
from argparse import ArgumentParser

import torch
from mmengine.model import revert_sync_batchnorm

from mmseg.apis import inference_model, init_model, show_result_pyplot
from mmseg_convlstm.cli import (add_config_args, add_step_budget_args,
                                apply_step_budget_args, load_config)


def parse_args():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', help='Image file')
    parser.add_argument('config', help='Config file')
    parser.add_argument('checkpoint', help='Checkpoint file')
    parser.add_argument(
        '--steps',
        type=int,
        help='recurrent steps to run (sets model.test_cfg.num_steps; '
        'default: the config\'s)')
    parser.add_argument('--out-file', default=None, help='Path to output file')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='Device used for inference')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='Opacity of painted segmentation map. In (0, 1] range.')
    parser.add_argument(
        '--with-labels',
        action='store_true',
        default=False,
        help='Whether to display the class labels.')
    parser.add_argument(
        '--title', default='result', help='The image identifier.')
    add_step_budget_args(parser)
    add_config_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args)
    if args.steps is not None:
        cfg.model.setdefault('test_cfg', {})['num_steps'] = args.steps
    apply_step_budget_args(cfg, args)
    model = init_model(cfg, args.checkpoint, device=args.device)
    if args.device == 'cpu':
        model = revert_sync_batchnorm(model)
    result = inference_model(model, args.img)
    if args.time_budget_ms is not None:
        print(f'{result.num_steps_used} recurrent steps ran within '
              f'{args.time_budget_ms:g} ms')
    show_result_pyplot(
        model,
        args.img,
        result,
        title=args.title,
        opacity=args.opacity,
        with_labels=args.with_labels,
        draw_gt=False,
        show=False if args.out_file is not None else True,
        out_file=args.out_file)


if __name__ == '__main__':
    main()
