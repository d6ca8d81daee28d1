"""The budget curve's figure keeps its axis labels with units (GMACs per
image, mIoU in percent)."""
from mmseg_convlstm.benchmarks.budget_curve import (BudgetCurve, BudgetPoint,
                                                    plot_budget_curve)
from tests.conftest import axis_labels


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
