"""Scan a PASCAL VOC 2012, Cityscapes or CamVid (SegNet layout) tree for
every problem that would stop (or silently spoil) a training run: empty
splits, missing or undecodable images and label maps, label maps of the
wrong size or with values that are neither a class id nor void (255; 11 in
CamVid). Grayscale and RGBA images are listed as notes (MMSeg reads them as
3-channel images). Exits with status 1 when it finds a problem."""
import argparse
import sys

from prettytable import PrettyTable

from mmseg_convlstm.datasets.dataset_check import scan_dataset, summarize


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'data_root',
        help='the VOC2012 directory (with ImageSets/Segmentation), the '
        'Cityscapes root (with leftImg8bit and gtFine) or the CamVid root '
        '(with train/ + trainannot/, val/ + valannot/, test/ + testannot/)')
    parser.add_argument(
        '--format',
        choices=['voc', 'cityscapes', 'camvid'],
        help='layout of the tree (default: detected from its folders)')
    parser.add_argument(
        '--split',
        nargs='+',
        help='splits to check: VOC split files (e.g. train val aug), '
        'Cityscapes folders (e.g. train val) or CamVid folder pairs (e.g. '
        'val for val/ + valannot/); default: all')
    parser.add_argument(
        '--max-listed',
        type=int,
        default=20,
        help='files listed per kind of problem (all are counted)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    findings = scan_dataset(args.data_root, args.format, args.split)
    groups = summarize(findings)
    print()
    table = PrettyTable(['issue', 'files', 'first file'])
    table.align = 'l'
    for issue, found in groups.items():
        for finding in found[:args.max_listed]:
            print(('problem: ' if issue.is_problem else 'note: ') +
                  str(finding))
        if len(found) > args.max_listed:
            print(f'... and {len(found) - args.max_listed} more '
                  f'"{issue.value}"')
        table.add_row(
            [issue.value, len(found), found[0].path if found else ''])
    print(table)
    problems = sum(len(found) for issue, found in groups.items()
                   if issue.is_problem)
    print(f'{problems} problems found in {args.data_root}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
