"""Convert the original CamVid release (701_StillsRaw_full/ frames,
LabeledApproved_full/ colour labels of 32 classes, 960x720) into SegNet's
11-class layout that CamVidDataset reads (train/ + trainannot/, val/ +
valannot/, test/ + testannot/, mode-L labels 0-10 and 11 void, 480x360).
The grouping of the 32 classes into 11 is the table CAMVID_32_CLASSES of
mmseg_convlstm/datasets/camvid_conversion.py (docs/en/user_guides/camvid.md).
"""
import argparse
import sys

from mmseg_convlstm.datasets.camvid_conversion import (SEGNET_SIZE,
                                                       convert_camvid)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'source_root',
        help='the original release: the folder holding 701_StillsRaw_full '
        'and LabeledApproved_full')
    parser.add_argument(
        'out_root',
        help='the SegNet-layout folder to write (e.g. data/CamVid)')
    parser.add_argument(
        '--split-lists',
        nargs='+',
        metavar='LIST',
        help='split lists named after their split (train.txt val.txt '
        'test.txt), in SegNet\'s format "/SegNet/CamVid/train/X.png '
        '/SegNet/CamVid/trainannot/X.png" or one image name per line; '
        'default: SegNet\'s split (367 train, 101 val, 233 test)')
    parser.add_argument(
        '--size',
        nargs=2,
        type=int,
        default=SEGNET_SIZE,
        metavar=('WIDTH', 'HEIGHT'),
        help='size of the written images and labels (default: 480 360)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='processes converting frames')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        counts = convert_camvid(args.source_root, args.out_root,
                                args.split_lists, tuple(args.size),
                                args.nproc)
    except (OSError, ValueError) as error:  # missing, existing or bad files
        print(f'error: {error}', file=sys.stderr)
        return 1
    print()
    for split, count in counts.items():
        print(f'{split}: {count} frames in {args.out_root}/{split}, '
              f'{split}annot')
    return 0


if __name__ == '__main__':
    sys.exit(main())
