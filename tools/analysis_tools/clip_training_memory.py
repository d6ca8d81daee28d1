"""Memory of one training step through the frames of a clip against the
clip length K, for a config whose model is a ClipRecurrentEncoderDecoder:
the activations saved for the backward pass (any device) and the peak
memory allocated (CUDA). Random weights and inputs; no data needed. Prints
the table and writes it to <work dir>/clip_training_memory.md."""
import argparse

from mmseg_convlstm.benchmarks.clip_memory import (clip_memory_rows,
                                                   clip_memory_table)
from mmseg_convlstm.utils.complexity import build_segmentor
from mmseg_convlstm.cli import (add_inference_args, add_shape_arg, input_shape,
                                load_config, write_table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of a clip-trained model')
    parser.add_argument(
        '--clip-frames',
        type=int,
        nargs='+',
        default=[1, 2, 4, 7],
        help='clip lengths K to measure')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='clips per batch')
    add_shape_arg(parser)
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if cfg.model.type != 'ClipRecurrentEncoderDecoder':
        raise ValueError(f'{args.config}: model.type is {cfg.model.type}, '
                         'not ClipRecurrentEncoderDecoder')
    shape = input_shape(args, cfg)
    model = build_segmentor(cfg.model, args.device, training=True)
    rows = clip_memory_rows(model, args.clip_frames, shape, args.batch_size)
    table = (f'{args.config}, input {shape[0]}x{shape[1]}, batch '
             f'{args.batch_size}, train_cfg {dict(model.clip_train_cfg)}, '
             f'backbone with_cp={model.backbone.with_cp}, device '
             f'{args.device}\n\n' + clip_memory_table(rows))
    write_table(cfg.work_dir, 'clip_training_memory.md', table)


if __name__ == '__main__':
    main()
