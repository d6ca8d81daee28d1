"""The budget curve: GMACs, parameters and latency of the recurrent model at
T = 1..N steps, and of MMSeg's PSPNet R-101-D8, DeepLabV3 R-101-D8 and
DeepLabV3 R-101-D16-MG124 at the same input size in the same run, as a
Markdown table and a PNG plot of mIoU against GMACs.

Our mIoU at every step comes from the JSON that ``AnytimeIoUMetric`` writes
(``--anytime-json``), the adaptive-exit point from the JSON of
``AdaptiveExitIoUMetric`` (``--adaptive-json``), the baselines' mIoU from
MMSeg's model-zoo metafiles.
"""
import argparse
import json
import os
import os.path as osp
from dataclasses import asdict

from mmseg_convlstm.benchmarks.baselines import BASELINE_CONFIGS
from mmseg_convlstm.benchmarks.budget_curve import (measure_budget_curve,
                                                    plot_budget_curve)
from mmseg_convlstm.apis.step_inference import configured_steps
from mmseg_convlstm.cli import (add_inference_args, add_shape_arg, input_shape,
                                load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cost and accuracy of the recurrent model at every '
        'number of steps, against PSPNet and DeepLabV3')
    parser.add_argument('config', help='config file of the recurrent model')
    parser.add_argument(
        '--checkpoint', help='its weights (they change no cost)')
    parser.add_argument(
        '--anytime-json',
        help='JSON written by AnytimeIoUMetric (tools/test.py): our mIoU '
        'after every step')
    parser.add_argument(
        '--adaptive-json',
        help='JSON written by AdaptiveExitIoUMetric (tools/test.py with an '
        'adaptive-exit config): the adaptive-exit point')
    parser.add_argument(
        '--max-steps',
        type=int,
        help='measure T = 1..N steps (default: model.test_cfg.num_steps)')
    add_shape_arg(parser)
    parser.add_argument(
        '--baselines',
        nargs='*',
        default=list(BASELINE_CONFIGS),
        metavar='CONFIG',
        help='baseline configs, files or mmseg::algorithm/name.py (default: '
        'PSPNet R-101-D8, DeepLabV3 R-101-D8, DeepLabV3 R-101-D16-MG124)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs per latency, whose median is reported')
    parser.add_argument(
        '--skip-latency',
        action='store_true',
        help='count GMACs and parameters only')
    parser.add_argument(
        '--out-dir',
        help='where to write budget_curve_HxW.md/.json/.png (default: '
        '<work dir>/budget_curve)')
    add_inference_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    shape = input_shape(args, cfg)
    max_steps = args.max_steps or configured_steps(cfg)
    curve = measure_budget_curve(
        cfg,
        shape,
        max_steps,
        checkpoint=args.checkpoint,
        anytime_json=args.anytime_json,
        adaptive_json=args.adaptive_json,
        baselines=args.baselines,
        repeats=0 if args.skip_latency else args.repeats,
        device=args.device)
    out_dir = args.out_dir or osp.join(cfg.work_dir, 'budget_curve')
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.join(out_dir, f'budget_curve_{shape[0]}x{shape[1]}')
    table = curve.markdown()
    with open(f'{stem}.md', 'w') as file:
        file.write(table)
    with open(f'{stem}.json', 'w') as file:
        json.dump(asdict(curve), file, indent=2)
    plot_budget_curve(curve, f'{stem}.png')
    print(f'\n{table}\nwritten: {stem}.md, .json and .png')


if __name__ == '__main__':
    main()
