import csv

import numpy as np
import pytest
from PIL import Image

from mmseg_convlstm.analysis.spectral_report import (
    CSV_FIELDS, GROUND_TRUTH, SpectralComparison, class_indices,
    columns_by_series, plot_comparison, share_above, summary_table, write_csv)
from mmseg_convlstm.analysis.spectrum import frequency_bin_edges
from tests.synthetic_predictions import coarse_prediction

CLASSES = ('background', 'bicycle', 'car')


def scene(rng, height=96, width=128):
    """Labels with a thin ring (bicycle, 1) and a box (car, 2)."""
    rows, cols = np.indices((height, width))
    labels = np.zeros((height, width), np.uint8)
    cy, cx = rng.uniform(0.3, 0.7, 2) * (height, width)
    distance = np.hypot(rows - cy, cols - cx)
    labels[(distance < 20) & (distance > 16)] = 1
    top, left = rng.integers(5, 30, 2)
    labels[top:top + 20, left:left + 30] = 2
    return labels


def test_class_indices_by_name():
    assert class_indices(['car', 'bicycle'], CLASSES) == [2, 1]
    assert class_indices(['all'], CLASSES) == [0, 1, 2]
    with pytest.raises(KeyError, match="'boat'.*background, bicycle, car"):
        class_indices(['boat'], CLASSES)


def test_coarse_predictions_lack_high_frequencies():
    rng = np.random.default_rng(0)
    comparison = SpectralComparison([0, 1, 2], frequency_bin_edges(40))
    for _ in range(4):
        labels = scene(rng)
        comparison.add(labels, {
            'coarse': coarse_prediction(labels),
            'exact': labels
        })
    series = columns_by_series(comparison.rows())
    gap = np.asarray(series['coarse']['cumulative_minus_ground_truth'])
    upper = np.asarray(series['coarse']['upper_frequency'])
    # More of the coarse maps' power lies at low frequencies (the pixel
    # steps of the argmax put a trace of power back near Nyquist).
    assert np.all(gap[upper <= 0.4] > 0)
    assert gap.max() > 0.1
    np.testing.assert_allclose(series['exact']['cumulative'],
                               series[GROUND_TRUTH]['cumulative'])
    assert share_above(series['coarse'],
                       0.1) < share_above(series[GROUND_TRUTH], 0.1)


def test_images_are_selected_by_their_ground_truth():
    rng = np.random.default_rng(1)
    comparison = SpectralComparison([1],
                                    frequency_bin_edges(20),
                                    images_with=[1])
    with_bicycle = scene(rng)
    without_bicycle = np.where(with_bicycle == 1, 0, with_bicycle)
    assert comparison.selects(with_bicycle)
    assert not comparison.selects(without_bicycle)
    comparison.add(with_bicycle, {'no bicycle predicted': without_bicycle})
    assert comparison.empty_series() == ['no bicycle predicted']
    rows = comparison.rows()
    assert {row['series'] for row in rows} == {GROUND_TRUTH}
    assert {row['num_images'] for row in rows} == {1}


def test_nothing_to_compare_is_an_error():
    comparison = SpectralComparison([1], frequency_bin_edges(20))
    comparison.add(np.zeros((32, 32), np.uint8), {})
    with pytest.raises(ValueError, match='nothing to compare'):
        comparison.rows()


def test_prediction_of_another_size_is_an_error():
    comparison = SpectralComparison([1], frequency_bin_edges(20))
    with pytest.raises(ValueError, match='shape'):
        comparison.add(
            np.ones((8, 8), np.uint8), {'p': np.ones((8, 9), np.uint8)})


def test_csv_plot_and_summary(tmp_path):
    rng = np.random.default_rng(2)
    comparison = SpectralComparison([1, 2], frequency_bin_edges(25))
    for _ in range(2):
        labels = scene(rng)
        comparison.add(
            labels, {
                'prediction step 1': coarse_prediction(labels, 16),
                'prediction step 2': coarse_prediction(labels, 4)
            })
    rows = comparison.rows()
    write_csv(str(tmp_path / 'spectra.csv'), rows)
    with open(tmp_path / 'spectra.csv') as file:
        read = list(csv.DictReader(file))
    assert tuple(read[0]) == CSV_FIELDS
    assert len(read) == 3 * 25
    plot_comparison(str(tmp_path / 'spectra.png'), rows, 'a title')
    assert Image.open(tmp_path / 'spectra.png').size == (1100, 420)
    table = summary_table(rows)
    for name in (GROUND_TRUTH, 'prediction step 1', 'prediction step 2'):
        assert name in table
