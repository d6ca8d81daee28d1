"""One picture of how the prediction sharpens step by step: the image, the
prediction after each chosen recurrent step and, when given, the ground
truth, in the dataset's palette."""
import argparse
import os
import os.path as osp

import mmcv

from mmseg_convlstm.analysis.prediction_sources import read_label_map
from mmseg_convlstm.apis.step_inference import (dataset_meta, init_step_model,
                                                predict_step_labels,
                                                request_steps)
from mmseg_convlstm.visualization.step_pictures import save_step_grid
from mmseg_convlstm.cli import add_inference_args, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('image', help='image file')
    parser.add_argument(
        '--steps',
        type=int,
        nargs='+',
        help='steps to draw (default: every step up to '
        'model.test_cfg.num_steps)')
    parser.add_argument('--gt', help='ground-truth label PNG of the image')
    parser.add_argument(
        '--out',
        help='PNG to write (default: <work dir>/<image name>_steps.png)')
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if not osp.isfile(args.image):
        raise FileNotFoundError(f'image {args.image} does not exist')
    steps = request_steps(cfg, args.steps)
    model = init_step_model(cfg, args.checkpoint, steps, args.device)
    step_labels = predict_step_labels(model, args.image)
    gt = None
    if args.gt is not None:
        gt = read_label_map(args.gt)
        if gt.shape != step_labels.shape[1:]:
            raise ValueError(f'--gt {args.gt} is {gt.shape[::-1]} pixels, '
                             f'the image {step_labels.shape[:0:-1]}')
    out = args.out or osp.join(
        cfg.work_dir,
        osp.splitext(osp.basename(args.image))[0] + '_steps.png')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    meta = dataset_meta(model)
    save_step_grid(out, mmcv.imread(args.image, channel_order='rgb'),
                   step_labels, steps, meta['palette'], gt, meta['classes'])
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
