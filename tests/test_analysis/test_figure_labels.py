"""The figures people read keep their axis labels with units: the budget
curve (GMACs per image, mIoU in percent) and the spectral comparison
(spatial frequency in cycles per pixel)."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from mmseg_convlstm.analysis.budget import (BudgetCurve, BudgetPoint,
                                            plot_budget_curve)
from mmseg_convlstm.analysis.spectral_report import (SpectralComparison,
                                                     plot_comparison)
from mmseg_convlstm.analysis.spectrum import frequency_bin_edges


@pytest.fixture
def saved_figures(monkeypatch):
    """The figures the plotting functions save, instead of their files."""
    figures = []
    monkeypatch.setattr(Figure, 'savefig',
                        lambda figure, *args, **kwargs: figures.append(figure))
    return figures


def axis_labels(figure):
    return [(axes.get_xlabel(), axes.get_ylabel()) for axes in figure.axes]


def test_budget_curve_labels_gmacs_per_image_and_miou_percent(saved_figures):
    ours = [
        BudgetPoint('ours', steps, 1e9 + steps * 1e8, 10, miou=50.0 + steps)
        for steps in (1, 2)
    ]
    baseline = BudgetPoint('PSPNet R-101-D8', None, 5e9, 20, miou=78.5)
    curve = BudgetCurve('config.py', (97, 129), 'CPU', 0, (1, 2), ours,
                        [baseline])
    plot_budget_curve(curve, 'unused.png')
    (figure, ) = saved_figures
    assert axis_labels(figure) == [('GMACs per 97x129 image', 'mIoU (%)')]


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
