"""Draw consecutive video frames with the labels each model carried to them.

One column per frame: the frames, the ground truth (--gt-dir) and one row per
--model. Every model starts from a reset state --context frames before the
first shown frame and streams every frame up to the last shown one, with its
config's video_cfg: --cfg-options video_cfg.canvas_decay=0.5 (or any
video_cfg key) applies to every model."""
import argparse
import os
import os.path as osp
from typing import Dict, List

import mmcv
import numpy as np
from mmengine.config import Config

from mmseg_convlstm.analysis.prediction_sources import read_label_map
from mmseg_convlstm.apis.recurrent_video_inferencer import \
    RecurrentVideoInferencer
from mmseg_convlstm.apis.step_inference import dataset_meta
from mmseg_convlstm.apis.video_demo import carried_labels
from mmseg_convlstm.apis.video_frame_reader import VideoFrameReader
from mmseg_convlstm.cli import add_inference_args, load_config
from mmseg_convlstm.visualization.video_strip import save_video_strip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'frames',
        metavar='FRAMES',
        help='folder of the video frames, in the order of their names')
    parser.add_argument(
        '--model',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
        help='a model to draw a row of, titled NAME (repeat for more)')
    parser.add_argument(
        '--start',
        type=int,
        default=10,
        metavar='I',
        help='index of the first frame shown, in name order from 0 '
        '(default: 10)')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=6,
        metavar='N',
        help='frames shown (default: 6)')
    parser.add_argument(
        '--stride',
        type=int,
        default=1,
        metavar='N',
        help='show every N-th frame; the models still stream every frame '
        '(default: 1)')
    parser.add_argument(
        '--context',
        type=int,
        default=4,
        metavar='K',
        help='frames streamed before the first shown one, fewer when the '
        'video starts sooner (default: 4)')
    parser.add_argument(
        '--gt-dir',
        metavar='DIR',
        help='folder of ground-truth label PNGs named as the frames: adds a '
        'ground-truth row')
    parser.add_argument(
        '--out',
        metavar='PNG',
        help='PNG to write (default: <work dir of the first model>/'
        'video_strip.png)')
    add_inference_args(parser)
    return parser.parse_args()


def frame_paths(folder: str) -> List[str]:
    """The image files of a folder of frames, in the order of their
    names."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'FRAMES {folder} is not a folder of frames')
    return VideoFrameReader(folder).image_paths


def shown_indices(args: argparse.Namespace, num_frames: int) -> List[int]:
    """The indices of the frames that ``--start``, ``--num-frames`` and
    ``--stride`` show, checked against the ``num_frames`` there are."""
    if args.num_frames < 1 or args.stride < 1 or args.context < 0:
        raise ValueError('--num-frames and --stride must be at least 1, '
                         '--context at least 0')
    if not 0 <= args.start < num_frames:
        raise ValueError(f'--start {args.start} is beyond the {num_frames} '
                         f'frames of {args.frames} (indices 0 to '
                         f'{num_frames - 1})')
    last = args.start + (args.num_frames - 1) * args.stride
    if last >= num_frames:
        raise ValueError(
            f'--start {args.start} --num-frames {args.num_frames} --stride '
            f'{args.stride} ends at frame {last}, beyond the {num_frames} '
            f'frames of {args.frames}')
    return list(range(args.start, last + 1, args.stride))


def read_rgb_frame(path: str) -> np.ndarray:
    """A frame file as an RGB uint8 image, for drawing."""
    frame = mmcv.imread(path)
    if frame is None:
        raise ValueError(f'frame {path} cannot be read as an image')
    return mmcv.bgr2rgb(frame)


def read_ground_truth(gt_dir: str, paths: List[str],
                      frames: List[np.ndarray]) -> List[np.ndarray]:
    """The label PNG in ``gt_dir`` named as each frame, checked to be of
    the frame's size."""
    labels = []
    for frame_path, frame in zip(paths, frames):
        name = osp.splitext(osp.basename(frame_path))[0] + '.png'
        path = osp.join(gt_dir, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'--gt-dir: {path}, the labels of the '
                                    f'shown frame {frame_path}, is missing')
        labels.append(read_label_map(path))
        if labels[-1].shape != frame.shape[:2]:
            raise ValueError(f'--gt-dir: {path} is {labels[-1].shape} '
                             f'(HxW), the frame {frame_path} '
                             f'{frame.shape[:2]}')
    return labels


def model_config(args: argparse.Namespace, config: str) -> Config:
    """One model's config with ``--cfg-options`` and ``--work-dir``."""
    return load_config(
        argparse.Namespace(
            config=config,
            cfg_options=args.cfg_options,
            work_dir=args.work_dir))


def load_inferencers(
        args: argparse.Namespace,
        configs: List[Config]) -> Dict[str, RecurrentVideoInferencer]:
    """The streaming model of every ``--model``, by name."""
    names = [name for name, _, _ in args.model]
    if len(set(names)) < len(names):
        raise ValueError(f'--model names must differ, got {names}')
    return {
        name: RecurrentVideoInferencer(cfg, checkpoint, args.device)
        for (name, _, checkpoint), cfg in zip(args.model, configs)
    }


def shared_meta(
        inferencers: Dict[str, RecurrentVideoInferencer]) -> Dict[str, list]:
    """The classes and palette of the models, which must have the same
    classes for one legend to name them."""
    metas = {
        name: dataset_meta(inferencer.model)
        for name, inferencer in inferencers.items()
    }
    (first, first_meta), *others = metas.items()
    for name, meta in others:
        if list(meta['classes']) != list(first_meta['classes']):
            raise ValueError(f'--model {name} has other classes than --model '
                             f'{first}: {meta["classes"]} and '
                             f'{first_meta["classes"]}')
    return first_meta


def main() -> None:
    args = parse_args()
    paths = frame_paths(args.frames)
    shown = shown_indices(args, len(paths))
    shown_paths = [paths[index] for index in shown]
    frames = [read_rgb_frame(path) for path in shown_paths]
    gt = read_ground_truth(args.gt_dir, shown_paths,
                           frames) if args.gt_dir else None
    configs = [model_config(args, config) for _, config, _ in args.model]
    out = args.out or osp.join(configs[0].work_dir, 'video_strip.png')
    inferencers = load_inferencers(args, configs)
    meta = shared_meta(inferencers)
    rows = {}
    for name, inferencer in inferencers.items():
        print(f'\nstreaming {name}')
        rows[name] = carried_labels(inferencer, paths, shown, args.context)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    save_video_strip(out, frames, rows, meta['palette'], meta['classes'], gt,
                     [osp.splitext(osp.basename(p))[0] for p in shown_paths])
    print(f'\nwrote {out}')


if __name__ == '__main__':
    main()
