"""Count what test_cfg.cuda_graph's cache of input shapes does with a
simulated stream of PASCAL VOC image sizes (batch 1, each image at its own
size): captures, replays (hit rate) and eager runs, under the former LRU
policy and with cuda_graph_capture_after. No model runs and nothing is
timed. Prints the table and writes it to <work dir>/graph_cache.md."""
import argparse

from mmseg_convlstm.benchmarks.graph_cache_benchmark import (
    VOC_COMMON_SHAPES, graph_cache_rows, graph_cache_table, voc_like_shapes)
from mmseg_convlstm.cli import (add_config_args, add_work_dir_arg,
                                load_config, write_table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'config', help='config whose model.test_cfg.cuda_graph_* to use')
    parser.add_argument(
        '--images',
        type=int,
        default=1449,
        help='images in the stream (default: as many as VOC 2012 val)')
    parser.add_argument(
        '--capture-after',
        type=int,
        nargs='+',
        default=[1, 2, 3],
        help='values of model.test_cfg.cuda_graph_capture_after to count')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the simulated sizes')
    add_work_dir_arg(parser)
    add_config_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    max_shapes = cfg.model.get('test_cfg', {}).get('cuda_graph_max_shapes',
                                                   4)
    shapes = voc_like_shapes(args.images, args.seed)
    rows = graph_cache_rows(shapes, max_shapes, args.capture_after)
    common = ', '.join(f'{h}x{w} {share:.0%}'
                       for (h, w), share in VOC_COMMON_SHAPES.items())
    table = (f'{args.images} simulated VOC-like sizes (H x W: {common}, the '
             f'rest a long tail; seed {args.seed}), batch 1, '
             f'cuda_graph_max_shapes={max_shapes} ({args.config}). Counts '
             'only: no latency is measured.\n\n' + graph_cache_table(rows))
    write_table(cfg.work_dir, 'graph_cache.md', table)


if __name__ == '__main__':
    main()
