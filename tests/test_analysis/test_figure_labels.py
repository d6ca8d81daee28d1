"""The spectral comparison's figure keeps its axis labels with units
(spatial frequency in cycles per pixel)."""
import numpy as np

from mmseg_convlstm.analysis.spectral_report import (SpectralComparison,
                                                     plot_comparison)
from mmseg_convlstm.analysis.spectrum import frequency_bin_edges
from tests.conftest import axis_labels


def test_spectral_figure_labels_frequency_in_cycles_per_pixel(saved_figures):
    labels = np.zeros((32, 32), np.uint8)
    labels[8:24, 8:24] = 1
    comparison = SpectralComparison([1], frequency_bin_edges(10))
    comparison.add(labels, {'prediction step 1': labels})
    plot_comparison('unused.png', comparison.rows(), 'a title')
    (figure, ) = saved_figures
    xlabels = [xlabel for xlabel, _ in axis_labels(figure)]
    assert xlabels == ['spatial frequency (cycles per pixel)'] * 2
    assert all(ylabel for _, ylabel in axis_labels(figure))
