"""Evaluate a checkpoint on video clips with the recurrent state carried
across frames: mIoU of the annotated frames for a grid of (context frames K,
steps per frame, backbone interval N) and per-position steps, against the
still-image baseline, with GMACs per frame. Writes
video_results.{md,json,png} to the work dir."""
import argparse

from mmseg_convlstm.benchmarks.video_benchmark import (VIDEO_DATALOADER_KEY,
                                                       VIDEO_RULE_KEYS,
                                                       parse_video_rule,
                                                       run_video_benchmark)
from mmseg_convlstm.benchmarks.video_report import (markdown_table,
                                                    write_video_report)
from mmseg_convlstm.cli import (add_inference_args, check_data_roots,
                                load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'config', help='config file with a '
        f'{VIDEO_DATALOADER_KEY}')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--context-frames',
        type=int,
        nargs='+',
        default=[1, 2, 4],
        help='numbers K of frames streamed before the annotated one')
    parser.add_argument(
        '--steps-per-frame',
        type=int,
        nargs='+',
        default=[1, 2],
        help='recurrent steps per frame in the video grid')
    parser.add_argument(
        '--backbone-intervals',
        type=int,
        nargs='+',
        default=[1, 2, 4],
        help='the video grid runs the backbone on every N-th frame for each '
        'N (video_cfg.backbone_interval); GMACs per frame count 1/N of it')
    parser.add_argument(
        '--position-exit',
        nargs='+',
        default=[],
        metavar='RULE',
        help='per-position rules (video_cfg.position_exit) to stream with '
        'each K, as key=value pairs joined by commas, keys among '
        f"{', '.join(VIDEO_RULE_KEYS)}; e.g. skip_change=0.2 or "
        'skip_change=0.1,max_steps=2,confidence=0.8')
    parser.add_argument(
        '--static-steps',
        type=int,
        help='the static baseline is read after 1..N steps (default: the '
        "config's model.test_cfg.num_steps)")
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for rule in args.position_exit:
        parse_video_rule(rule)
    cfg = load_config(args)
    check_data_roots(cfg, VIDEO_DATALOADER_KEY)
    rows = run_video_benchmark(cfg, args.checkpoint, args.context_frames,
                               args.steps_per_frame, args.static_steps,
                               args.device, args.backbone_intervals,
                               args.position_exit)
    paths = write_video_report(
        rows, cfg.work_dir,
        dict(config=args.config, checkpoint=args.checkpoint))
    print('\n' + markdown_table(rows))
    for kind, path in paths.items():
        print(f'{kind} written to {path}')


if __name__ == '__main__':
    main()
