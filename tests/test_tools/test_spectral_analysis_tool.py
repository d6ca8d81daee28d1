"""tools/analysis_tools/spectral_analysis.py on a generated VOC tree, from
a checkpoint and from saved prediction PNGs."""
import csv
import glob
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmseg_convlstm.analysis.prediction_sources import (build_dataset,
                                                        saved_predictions)
from tests.checkpoints import save_random_checkpoint
from tests.synthetic_predictions import coarse_prediction
from tests.tools_runner import DEMO_CONFIG, run_tool

BICYCLE = 2
TOOL = 'tools/analysis_tools/spectral_analysis.py'


def read_series(csv_path):
    series = {}
    with open(csv_path) as file:
        for row in csv.DictReader(file):
            columns = series.setdefault(row['series'], {})
            for key, value in row.items():
                columns.setdefault(key, []).append(value)
    return series


def val_labels(voc_root):
    paths = sorted(glob.glob(osp.join(voc_root, 'SegmentationClass', '*val*')))
    return {
        osp.splitext(osp.basename(path))[0]: np.asarray(Image.open(path))
        for path in paths
    }


def test_from_a_checkpoint_at_chosen_steps(voc_root, tmp_path):
    checkpoint = save_random_checkpoint(DEMO_CONFIG,
                                        str(tmp_path / 'random.pth'))
    out_dir = tmp_path / 'spectra'
    result = run_tool([
        TOOL, DEMO_CONFIG, checkpoint, '--steps', '1', '3', '--images-with',
        'bicycle', '--out-dir',
        str(out_dir), '--cfg-options',
        f'test_dataloader.dataset.data_root={voc_root}'
    ])
    with_bicycle = sum(
        BICYCLE in labels for labels in val_labels(voc_root).values())
    assert f'{with_bicycle} images analysed' in result.stdout
    series = read_series(out_dir / 'spectral_analysis.csv')
    assert set(series) == {
        'ground truth', 'prediction step 1', 'prediction step 3'
    }
    assert set(series['ground truth']['num_images']) == {str(with_bicycle)}
    for columns in series.values():
        cumulative = np.asarray(columns['cumulative'], float)
        assert np.all(np.diff(cumulative) >= 0)
        assert cumulative[-1] == pytest.approx(1.0)
    assert Image.open(out_dir / 'spectral_analysis.png').size == (1100, 420)


def test_from_saved_predictions(voc_root, tmp_path):
    pred_dir = tmp_path / 'pred'
    pred_dir.mkdir()
    for name, labels in val_labels(voc_root).items():
        # The generated images are 160 x 200 pixels: multiples of 8.
        prediction = coarse_prediction(labels, 8, num_classes=21)
        Image.fromarray(prediction).save(pred_dir / f'{name}.png')
    work_dir = tmp_path / 'work'
    result = run_tool([
        TOOL, DEMO_CONFIG, '--pred-dir',
        str(pred_dir), '--classes', 'bicycle', '--images-with', 'bicycle',
        '--work-dir',
        str(work_dir), '--cfg-options',
        f'test_dataloader.dataset.data_root={voc_root}'
    ])
    assert 'power > 0.1' in result.stdout
    series = read_series(work_dir / 'spectral_analysis' /
                         'spectral_analysis.csv')
    assert set(series) == {'ground truth', 'prediction'}
    gap = np.asarray(series['prediction']['cumulative_minus_ground_truth'],
                     float)
    # The coarse bicycles keep their power at lower frequencies.
    assert gap.max() > 0.05


def test_missing_prediction_png_is_named(voc_root, tmp_path):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.test_dataloader.dataset.data_root = voc_root
    dataset = build_dataset(cfg, 'test', [dict(type='LoadAnnotations')])
    with pytest.raises(
            FileNotFoundError, match=str(tmp_path / '2007_val_000000.png')):
        next(saved_predictions(str(tmp_path), dataset))


def test_checkpoint_or_pred_dir_is_required(tmp_path):
    result = run_tool([TOOL, DEMO_CONFIG], check=False)
    assert result.returncode != 0
    assert 'give either a checkpoint or --pred-dir' in result.stderr
