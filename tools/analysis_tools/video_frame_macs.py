"""GMACs per video frame of a recurrent model: the still-image baseline
(cold start, 1..T steps) against streaming with the state carried across
frames (s steps per frame). Needs no data and no checkpoint; prints the
table and writes it to <work dir>/video_frame_macs.md."""
import argparse

from mmseg_convlstm.utils.complexity import build_segmentor
from mmseg_convlstm.benchmarks.video_benchmark import frame_macs_rows
from mmseg_convlstm.benchmarks.video_report import MACS_NOTE, macs_table
from mmseg_convlstm.apis.step_inference import configured_steps
from mmseg_convlstm.cli import (add_config_args, add_shape_arg,
                                add_work_dir_arg, input_shape, load_config,
                                write_table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file of the recurrent model')
    add_shape_arg(parser)
    parser.add_argument(
        '--steps-per-frame',
        type=int,
        nargs='+',
        default=[1, 2],
        help='steps per frame when the state is carried')
    parser.add_argument(
        '--backbone-intervals',
        type=int,
        nargs='+',
        default=[1],
        help='backbone on every N-th frame when the state is carried '
        '(video_cfg.backbone_interval)')
    parser.add_argument(
        '--static-steps',
        type=int,
        help='the static baseline is counted for 1..N steps (default: the '
        "config's model.test_cfg.num_steps)")
    add_config_args(parser)
    add_work_dir_arg(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    shape = input_shape(args, cfg)
    model = build_segmentor(cfg.model)
    static_steps = args.static_steps or configured_steps(cfg)
    rows = frame_macs_rows(model, shape, args.steps_per_frame, static_steps,
                           args.backbone_intervals)
    table = (f'{args.config}, input {shape[0]}x{shape[1]}\n\n' +
             macs_table(rows) + '\n' + MACS_NOTE + '\n')
    write_table(cfg.work_dir, 'video_frame_macs.md', table)


if __name__ == '__main__':
    main()
