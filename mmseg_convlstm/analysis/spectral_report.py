"""Figure 8 of the paper for any set of predictions: the cumulative power
spectra of predicted and ground-truth class maps, averaged over images, and
their difference; written as a CSV and a PNG plot."""
import csv
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from prettytable import PrettyTable

from .spectrum import (SpectrumAccumulator, bin_centres, class_psd,
                       distribution_difference)

GROUND_TRUTH = 'ground truth'
# frequency: bin centre (of psd); upper_frequency: bin's upper edge (the
# cumulative share is that of the power at radii up to it).
CSV_FIELDS = ('series', 'frequency', 'upper_frequency', 'psd', 'cumulative',
              'cumulative_minus_ground_truth', 'num_images')


def class_indices(names: Sequence[str],
                  dataset_classes: Sequence[str]) -> List[int]:
    """Indices of class ``names`` in the dataset's classes; ``['all']``
    selects every class.

    Raises:
        KeyError: A name that is not a class of the dataset.
    """
    if list(names) == ['all']:
        return list(range(len(dataset_classes)))
    indices = []
    for name in names:
        if name not in dataset_classes:
            raise KeyError(f'class {name!r} is not a class of the dataset; '
                           f'its classes are {", ".join(dataset_classes)}')
        indices.append(list(dataset_classes).index(name))
    return indices


def step_series_name(step: int) -> str:
    """The name of the series of predictions after ``step`` steps."""
    return f'prediction step {step}'


class SpectralComparison:
    """Mean normalised PSDs of ground-truth and predicted class maps.

    An image whose maps of the classes are constant in a series (e.g. a
    prediction without the class) adds nothing to that series, so the
    series' ``num_images`` can differ.

    Args:
        classes (Sequence[int]): Classes whose maps are analysed (their
            spectra summed).
        edges (np.ndarray): Frequency bin edges (``frequency_bin_edges``).
        images_with (Sequence[int]): Only images whose ground truth holds
            all of these classes are analysed. Default: every image.
        ignore_index (int): Label of unannotated pixels. Default: 255.
    """

    def __init__(self,
                 classes: Sequence[int],
                 edges: np.ndarray,
                 images_with: Sequence[int] = (),
                 ignore_index: int = 255) -> None:
        self.classes = list(classes)
        self.edges = edges
        self.images_with = list(images_with)
        self.ignore_index = ignore_index
        self.series: Dict[str, SpectrumAccumulator] = {
            GROUND_TRUTH: SpectrumAccumulator(edges)
        }

    def selects(self, ground_truth: np.ndarray) -> bool:
        """Whether an image with this ground truth is analysed."""
        present = np.unique(ground_truth)
        return all(label in present for label in self.images_with)

    def add(self, ground_truth: np.ndarray,
            predictions: Dict[str, np.ndarray]) -> None:
        """Adds one image: its ground-truth labels (H, W) and its predicted
        labels (H, W) per series name."""
        self._accumulate(GROUND_TRUTH, ground_truth)
        for name, labels in predictions.items():
            if labels.shape != ground_truth.shape:
                raise ValueError(
                    f'{name}: prediction of shape {labels.shape} for ground '
                    f'truth of shape {ground_truth.shape}')
            self._accumulate(name, labels)

    def _accumulate(self, name: str, labels: np.ndarray) -> None:
        accumulator = self.series.setdefault(name,
                                             SpectrumAccumulator(self.edges))
        accumulator.add(
            class_psd(labels, self.classes, self.edges, self.ignore_index))

    def empty_series(self) -> List[str]:
        """Series without any image where the classes vary."""
        return [
            name for name, accumulator in self.series.items()
            if accumulator.count == 0
        ]

    def rows(self) -> List[dict]:
        """One CSV row per series and frequency bin (see ``CSV_FIELDS``);
        empty series are left out."""
        reference = self.series[GROUND_TRUTH]
        if reference.count == 0:
            raise ValueError('no analysed image has the selected classes in '
                             'its ground truth: nothing to compare')
        rows = []
        for name, accumulator in self.series.items():
            if accumulator.count == 0:
                continue
            cumulative = accumulator.cumulative()
            difference = distribution_difference(cumulative,
                                                 reference.cumulative())
            columns = zip(
                bin_centres(self.edges), self.edges[1:], accumulator.mean(),
                cumulative, difference)
            rows += [
                dict(
                    series=name,
                    frequency=float(centre),
                    upper_frequency=float(upper),
                    psd=float(psd),
                    cumulative=float(share),
                    cumulative_minus_ground_truth=float(gap),
                    num_images=accumulator.count)
                for centre, upper, psd, share, gap in columns
            ]
        return rows


def write_csv(path: str, rows: Iterable[dict]) -> None:
    """Writes the rows of :meth:`SpectralComparison.rows` to ``path``."""
    with open(path, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def share_above(columns: dict, frequency: float) -> float:
    """The share of a series' power above ``frequency`` (linear between
    bin edges)."""
    edges = [0.0, *columns['upper_frequency']]
    cumulative = [0.0, *columns['cumulative']]
    return 1.0 - float(np.interp(frequency, edges, cumulative))


def summary_table(rows: Sequence[dict],
                  frequencies: Sequence[float] = (0.05, 0.1, 0.2)) -> str:
    """A text table: for every series, the number of images and the share
    of power above each of ``frequencies`` (cycles per pixel)."""
    table = PrettyTable()
    table.field_names = [
        'series', 'images', *(f'power > {f:g}' for f in frequencies)
    ]
    for name, columns in columns_by_series(rows).items():
        table.add_row([
            name, columns['num_images'][0],
            *(f'{share_above(columns, f):.4f}' for f in frequencies)
        ])
    return table.get_string()


def plot_comparison(path: str,
                    rows: Sequence[dict],
                    title: Optional[str] = None) -> None:
    """Saves the cumulative PSD of every series (left) and each
    prediction's difference to the ground truth (right) as a PNG."""
    series = columns_by_series(rows)
    figure = Figure(figsize=(11, 4.2), dpi=100, layout='constrained')
    cumulative_axes, difference_axes = figure.subplots(1, 2)
    predictions = [name for name in series if name != GROUND_TRUTH]
    for name, colour in zip(predictions, _colours(len(predictions))):
        _plot_from_zero(
            cumulative_axes,
            series[name],
            'cumulative',
            color=colour,
            label=name)
        _plot_from_zero(
            difference_axes,
            series[name],
            'cumulative_minus_ground_truth',
            color=colour,
            label=name)
    _plot_from_zero(
        cumulative_axes,
        series[GROUND_TRUTH],
        'cumulative',
        color='k',
        ls='--',
        lw=2,
        label=GROUND_TRUTH)
    difference_axes.axhline(0.0, color='k', lw=0.8, ls='--')
    cumulative_axes.set(
        ylabel='share of power up to the frequency',
        title='cumulative power spectral density',
        ylim=(0, 1.02))
    difference_axes.set(
        ylabel='prediction minus ground truth',
        title='difference to the ground truth')
    for axes in (cumulative_axes, difference_axes):
        axes.set(
            xlabel='spatial frequency (cycles per pixel)',
            xlim=(0, series[GROUND_TRUTH]['upper_frequency'][-1]))
        axes.grid(alpha=0.3)
    cumulative_axes.legend(fontsize='small', loc='lower right')
    if title:
        figure.suptitle(title)
    figure.savefig(path)


def _plot_from_zero(axes, columns: dict, key: str, **style) -> None:
    """Plots ``columns[key]`` against the bins' upper edges, starting at
    (0, 0): no power lies below frequency 0 (DC is left out)."""
    axes.plot([0.0, *columns['upper_frequency']], [0.0, *columns[key]],
              **style)


def columns_by_series(rows: Sequence[dict]) -> Dict[str, dict]:
    """The rows regrouped: series name -> column name -> values."""
    series: Dict[str, dict] = {}
    for row in rows:
        columns = series.setdefault(row['series'], {})
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
    return series


def _colours(count: int) -> List[tuple]:
    colormap = colormaps['viridis']
    return [colormap(value) for value in np.linspace(0.0, 0.85, count)]
