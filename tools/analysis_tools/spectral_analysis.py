"""Where in spatial frequency the predictions differ from the ground truth
(the paper's Figure 8): mean cumulative power spectra of predicted and
ground-truth class maps over a dataset, as a CSV and a PNG plot.

Predictions come from a checkpoint run on the config's test set (after each
of ``--steps``, from one forward pass) or from PNGs saved by
``tools/test.py --out DIR`` (``--pred-dir DIR``).
"""
import argparse
import os
import os.path as osp

from mmengine.registry import init_default_scope

from mmseg_convlstm.analysis.prediction_sources import (build_dataset,
                                                        compare_spectra,
                                                        model_predictions,
                                                        saved_predictions)
from mmseg_convlstm.analysis.spectral_report import (SpectralComparison,
                                                     class_indices,
                                                     plot_comparison,
                                                     summary_table, write_csv)
from mmseg_convlstm.analysis.spectrum import frequency_bin_edges
from mmseg_convlstm.apis.step_inference import init_step_model, request_steps
from mmseg_convlstm.cli import (add_inference_args, check_data_roots,
                                load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cumulative power spectra of predicted and ground-truth '
        'class maps')
    parser.add_argument('config', help='config file (model and dataset)')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint to run; leave out with --pred-dir')
    parser.add_argument(
        '--pred-dir',
        help='directory of saved prediction PNGs named after the images, '
        'as tools/test.py --out writes them, instead of running a model')
    parser.add_argument(
        '--steps',
        type=int,
        nargs='+',
        help='recurrent steps whose predictions to analyse (default: every '
        'step up to model.test_cfg.num_steps)')
    parser.add_argument(
        '--classes',
        nargs='+',
        default=['all'],
        help='class names whose maps are analysed, or "all" (default)')
    parser.add_argument(
        '--images-with',
        nargs='+',
        default=[],
        metavar='CLASS',
        help='only analyse images whose ground truth has these classes')
    parser.add_argument(
        '--split',
        choices=['test', 'val'],
        default='test',
        help='the dataloader whose dataset is analysed')
    parser.add_argument(
        '--num-bins',
        type=int,
        default=50,
        help='frequency bins between 0 and 0.5 cycles per pixel')
    parser.add_argument(
        '--max-images', type=int, help='stop after this many images')
    parser.add_argument(
        '--out-dir',
        help='where to write spectral_analysis.csv/.png (default: '
        '<work dir>/spectral_analysis)')
    add_inference_args(parser)
    args = parser.parse_args()
    if (args.checkpoint is None) == (args.pred_dir is None):
        parser.error('give either a checkpoint or --pred-dir')
    if args.pred_dir is not None and args.steps:
        parser.error('--steps needs a checkpoint: saved PNGs hold one step')
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    check_data_roots(cfg, f'{args.split}_dataloader')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if args.pred_dir is not None:
        if not osp.isdir(args.pred_dir):
            raise FileNotFoundError(
                f'--pred-dir {args.pred_dir} does not exist')
        dataset = build_dataset(cfg, args.split,
                                [dict(type='LoadAnnotations')])
        source = saved_predictions(args.pred_dir, dataset)
    else:
        steps = request_steps(cfg, args.steps)
        model = init_step_model(cfg, args.checkpoint, steps, args.device)
        dataset = build_dataset(cfg, args.split)
        source = model_predictions(model, dataset, steps)
    class_names = dataset.metainfo['classes']
    comparison = SpectralComparison(
        class_indices(args.classes, class_names),
        frequency_bin_edges(args.num_bins),
        images_with=class_indices(args.images_with, class_names)
        if args.images_with else ())
    analysed = compare_spectra(comparison, source, len(dataset),
                               args.max_images)
    rows = comparison.rows()
    for name in comparison.empty_series():
        print(f'{name}: the classes are constant (e.g. never predicted) in '
              'every analysed image; left out')
    out_dir = args.out_dir or osp.join(cfg.work_dir, 'spectral_analysis')
    os.makedirs(out_dir, exist_ok=True)
    csv_path = osp.join(out_dir, 'spectral_analysis.csv')
    plot_path = osp.join(out_dir, 'spectral_analysis.png')
    write_csv(csv_path, rows)
    selection = ' '.join(args.images_with) or 'any class'
    plot_comparison(
        plot_path, rows, f'classes: {" ".join(args.classes)}; '
        f'images with {selection}; {analysed} images')
    print(f'\n{analysed} images analysed\n{summary_table(rows)}')
    print(f'wrote {csv_path} and {plot_path}')


if __name__ == '__main__':
    main()
