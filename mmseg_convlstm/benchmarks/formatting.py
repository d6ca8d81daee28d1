"""How the benchmarks' tables write their numbers: multiply-accumulates in
units of 1e9 and ratios to a reference."""
from typing import Optional


def giga(value: float) -> str:
    """``value`` in units of 1e9: two decimals, three significant digits
    below 1.

    Args:
        value (float): The number, e.g. MACs.

    Returns:
        str: E.g. '14.32', '0.779' or '0.00597'.
    """
    value /= 1e9
    return f'{value:.3g}' if abs(value) < 1 else f'{value:.2f}'


def ratio(value: Optional[float], reference: Optional[float]) -> str:
    """``value / reference`` to three decimals; empty when either is
    unknown (None) or the reference is zero.

    Args:
        value (float, optional): The measure.
        reference (float, optional): The reference's measure.

    Returns:
        str: E.g. '0.485', or ''.
    """
    if value is None or not reference:
        return ''
    return f'{value / reference:.3f}'


def save_miou_plot(figure, axes, title: str, path: str) -> None:
    """Finishes a plot of mIoU against a cost (the y label, ``title``, a
    grid and the legend), saves ``figure`` as ``path`` and closes it.

    Args:
        figure (matplotlib.figure.Figure): The figure, from pyplot.
        axes (matplotlib.axes.Axes): Its axes.
        title (str): The title.
        path (str): The image file to write.
    """
    import matplotlib.pyplot as plt
    axes.set_ylabel('mIoU (%)')
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc='best')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
