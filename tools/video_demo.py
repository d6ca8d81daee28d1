"""Segment a video (a file OpenCV reads, or a folder of frames) with the
recurrent state carried across frames; write the coloured overlay as a
video (and optionally PNG frames) and print the frames per second achieved.
The streaming options are the config's video_cfg (override them with
--cfg-options video_cfg.steps_per_frame=2 ...)."""
import argparse
import os.path as osp

from mmseg_convlstm.apis.recurrent_video_inferencer import \
    RecurrentVideoInferencer
from mmseg_convlstm.apis.video_demo import segment_video
from mmseg_convlstm.apis.video_frame_reader import VideoFrameReader
from mmseg_convlstm.cli import add_inference_args, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument(
        '--out-file',
        help='overlay video to write (default: '
        '<work dir>/<input name>_overlay.mp4)')
    parser.add_argument(
        '--out-frames-dir', help='also write the overlays as PNGs here')
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='opacity of the colours')
    parser.add_argument(
        '--fps',
        type=float,
        default=17.0,
        help='frame rate of a folder of frames (Cityscapes: 17)')
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    reader = VideoFrameReader(args.input, folder_fps=args.fps)
    out_file = args.out_file or osp.join(
        cfg.work_dir,
        osp.splitext(osp.basename(osp.normpath(args.input)))[0] +
        '_overlay.mp4')
    inferencer = RecurrentVideoInferencer(cfg, args.checkpoint, args.device)
    stats = segment_video(inferencer, reader, out_file, args.out_frames_dir,
                          args.opacity)
    print(f"\n{stats['frames']} frames: {stats['segmentation_fps']:.2f} FPS "
          f"segmenting, {stats['overall_fps']:.2f} FPS with reading and "
          f'writing; overlay video written to {out_file}')
    if args.out_frames_dir:
        print(f'overlay frames written to {args.out_frames_dir}')


if __name__ == '__main__':
    main()
