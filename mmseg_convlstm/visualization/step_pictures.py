"""One picture of how the canvas sharpens: the image, the prediction after
each chosen recurrent step and the ground truth, side by side."""
import math
from typing import Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch
from PIL import Image

IGNORE_COLOUR = (255, 255, 255)


def colorize(labels: np.ndarray,
             palette: Sequence[Sequence[int]],
             ignore_colour: Sequence[int] = IGNORE_COLOUR) -> np.ndarray:
    """RGB image (H, W, 3 uint8) of a label map (H, W) in the dataset's
    ``palette`` (one RGB triple per class); labels outside the palette (the
    ignore index) get ``ignore_colour``."""
    colours = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    labels = np.asarray(labels)
    known = (labels >= 0) & (labels < len(colours))
    image = np.empty((*labels.shape, 3), np.uint8)
    image[:] = ignore_colour
    image[known] = colours[labels[known]]
    return image


def render_step_grid(
        image: np.ndarray,
        step_labels: np.ndarray,
        steps: Optional[Sequence[int]],
        palette: Sequence[Sequence[int]],
        gt: Optional[np.ndarray] = None,
        class_names: Optional[Sequence[str]] = None) -> np.ndarray:
    """The grid of :func:`save_step_grid` as an RGB array (h, w, 3 uint8)."""
    figure = step_grid_figure(image, step_labels, steps, palette, gt,
                              class_names)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def step_grid_figure(image: np.ndarray,
                     step_labels: np.ndarray,
                     steps: Optional[Sequence[int]],
                     palette: Sequence[Sequence[int]],
                     gt: Optional[np.ndarray] = None,
                     class_names: Optional[Sequence[str]] = None,
                     panel_inches: float = 2.4) -> Figure:
    """The matplotlib figure of :func:`save_step_grid` (arguments as there),
    with a legend of the class colours drawn when ``class_names`` is given."""
    step_labels = np.asarray(step_labels)
    steps = list(steps) if steps else list(range(1, len(step_labels) + 1))
    _check_inputs(np.asarray(image), step_labels, steps, gt)
    panels = [('image', np.asarray(image))]
    panels += [(f'step {step}', colorize(step_labels[step - 1], palette))
               for step in steps]
    if gt is not None:
        panels.append(('ground truth', colorize(gt, palette)))
    height, width = step_labels.shape[1:]
    legend_inches = 0.45 if class_names else 0.0
    figure_height = panel_inches * height / width + 0.35 + legend_inches
    figure = Figure(
        figsize=(panel_inches * len(panels), figure_height), dpi=100)
    FigureCanvasAgg(figure)
    for index, (title, picture) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), index + 1)
        axes.imshow(picture, interpolation='nearest')
        axes.set_title(title, fontsize=10)
        axes.set_axis_off()
    figure.subplots_adjust(
        left=0.01,
        right=0.99,
        bottom=0.01 + legend_inches / figure_height,
        top=1 - 0.3 / figure_height,
        wspace=0.04)
    if class_names:
        shown = [step_labels[step - 1] for step in steps]
        add_class_legend(figure, shown + ([gt] if gt is not None else []),
                         palette, class_names)
    return figure


def _check_inputs(image: np.ndarray, step_labels: np.ndarray,
                  steps: Sequence[int], gt: Optional[np.ndarray]) -> None:
    if step_labels.ndim != 3:
        raise ValueError('step_labels must be (T, H, W): the labels after '
                         f'each step; got shape {step_labels.shape}')
    size = step_labels.shape[1:]
    if image.shape[:2] != size:
        raise ValueError(
            f'image of size {image.shape[:2]} for labels of size {size}')
    if gt is not None and np.shape(gt) != size:
        raise ValueError(
            f'ground truth of size {np.shape(gt)} for labels of size {size}')
    for step in steps:
        if not 1 <= step <= len(step_labels):
            raise ValueError(f'step {step} is not among the '
                             f'{len(step_labels)} steps given')


def add_class_legend(figure: Figure,
                     label_maps: Sequence[np.ndarray],
                     palette: Sequence[Sequence[int]],
                     class_names: Sequence[str],
                     max_columns: int = 8) -> Legend:
    """Adds, centred at the bottom of ``figure``, a legend of the classes
    that appear in ``label_maps``, and of the ignored pixels (labels that
    are no class) when there are any.

    Args:
        figure (Figure): The figure to draw the legend in.
        label_maps (Sequence[np.ndarray]): The label maps drawn.
        palette (Sequence[Sequence[int]]): RGB colour of every class.
        class_names (Sequence[str]): Name of every class.
        max_columns (int): Most entries side by side; more go on further
            rows, as full as one another. Default: 8.

    Returns:
        Legend: The legend added.
    """
    values = np.unique(np.concatenate([np.ravel(m) for m in label_maps]))
    present = [int(c) for c in values if 0 <= c < len(class_names)]
    handles = [
        Patch(color=np.asarray(palette[c]) / 255, label=class_names[c])
        for c in present
    ]
    if len(present) < len(values):
        handles.append(
            Patch(
                facecolor=np.asarray(IGNORE_COLOUR) / 255,
                edgecolor='grey',
                label='ignored'))
    num_rows = math.ceil(len(handles) / max_columns)
    return figure.legend(
        handles=handles,
        loc='lower center',
        ncol=math.ceil(len(handles) / num_rows),
        fontsize=9,
        frameon=False)


def save_step_grid(path: str,
                   image: np.ndarray,
                   step_labels: np.ndarray,
                   steps: Optional[Sequence[int]],
                   palette: Sequence[Sequence[int]],
                   gt: Optional[np.ndarray] = None,
                   class_names: Optional[Sequence[str]] = None) -> None:
    """Saves one PNG row: the image, the prediction after each of ``steps``
    and, when given, the ground truth, coloured with the dataset's palette.

    Args:
        path (str): The PNG file to write.
        image (np.ndarray): The input image (H, W, 3), RGB uint8.
        step_labels (np.ndarray): Labels (T, H, W); ``step_labels[t - 1]`` is
            the prediction after step ``t`` (``pred_sem_seg_steps``).
        steps (Sequence[int], optional): The steps to draw, counted from 1;
            None or empty draws all T.
        palette (Sequence[Sequence[int]]): RGB colour of every class, e.g.
            ``dataset_meta['palette']``.
        gt (np.ndarray, optional): Ground-truth labels (H, W); ignored
            pixels (outside the palette) are drawn white.
        class_names (Sequence[str], optional): Names of the classes; when
            given, a legend names the classes drawn.
    """
    grid = render_step_grid(image, step_labels, steps, palette, gt,
                            class_names)
    Image.fromarray(grid).save(path)
