"""A strip of consecutive video frames with, under each, the labels that one
or more models carried across the video to it (and optionally the ground
truth), in the dataset's palette."""
from typing import List, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .step_pictures import add_class_legend, colorize

FRAME_ROW_TITLE = 'frame'
GT_ROW_TITLE = 'ground truth'
TITLE_INCHES = 0.3  # room for the column titles above, the row titles left
GAP_INCHES = 0.06
LEGEND_ENTRY_INCHES = 1.15  # wide enough for most class names

TitledRows = List[Tuple[str, Sequence[np.ndarray]]]
"""Every row's title and its picture or label map of every frame."""


def video_strip_figure(frames: Sequence[np.ndarray],
                       rows: Mapping[str, Sequence[np.ndarray]],
                       palette: Sequence[Sequence[int]],
                       class_names: Optional[Sequence[str]] = None,
                       gt: Optional[Sequence[np.ndarray]] = None,
                       frame_titles: Optional[Sequence[str]] = None,
                       panel_inches: float = 2.8) -> Figure:
    """The matplotlib figure of :func:`save_video_strip`: one column per
    frame; the frames, the ground truth when given and one row per model,
    with a legend of the classes drawn when ``class_names`` is given.

    Args:
        frames, rows, palette, class_names, gt, frame_titles: As in
            :func:`save_video_strip`.
        panel_inches (float): Width of every panel, in inches at 100 dots
            per inch. Default: 2.8 (five 480x360 frames make a picture
            about 1460 pixels wide).

    Raises:
        ValueError: When there is no frame or no row of labels, or the
            frames, their titles and the label maps differ in number or
            size.
    """
    label_rows = ([(GT_ROW_TITLE, gt)] if gt is not None else []) + list(
        rows.items())
    titles = [str(index) for index in range(len(frames))
              ] if frame_titles is None else list(frame_titles)
    _check_frames(frames, titles)
    height, width = np.shape(frames[0])[:2]
    _check_label_rows(label_rows, len(frames), (height, width))
    figure = Figure(
        figsize=(_strip_width(len(frames), panel_inches), 1), dpi=100)
    FigureCanvasAgg(figure)
    legend_inches = _add_legend(figure, label_rows, palette,
                                class_names) if class_names else 0.0
    _draw_panels(figure,
                 [(FRAME_ROW_TITLE, frames)] + _coloured(label_rows, palette),
                 titles, (panel_inches, panel_inches * height / width),
                 legend_inches)
    return figure


def _coloured(label_rows: TitledRows,
              palette: Sequence[Sequence[int]]) -> TitledRows:
    return [(title, [colorize(labels, palette) for labels in label_maps])
            for title, label_maps in label_rows]


def _check_frames(frames: Sequence[np.ndarray], titles: Sequence[str]) -> None:
    if not len(frames):
        raise ValueError('no frames to draw')
    first_shape = np.shape(frames[0])
    for index, frame in enumerate(frames):
        if np.ndim(frame) != 3 or np.shape(frame) != first_shape:
            raise ValueError(
                f'frame {index} is of shape {np.shape(frame)} but frame 0 of '
                f'{first_shape}: the frames must be RGB images (H, W, 3) of '
                'one size')
    if len(titles) != len(frames):
        raise ValueError(
            f'{len(titles)} frame titles for {len(frames)} frames')


def _check_label_rows(label_rows: TitledRows, num_frames: int,
                      size: Tuple[int, int]) -> None:
    if not label_rows:
        raise ValueError(
            'no labels to draw: give those of a model or the ground truth')
    for title, label_maps in label_rows:
        if len(label_maps) != num_frames:
            raise ValueError(f'row {title!r} has {len(label_maps)} label '
                             f'maps for {num_frames} frames')
        for index, labels in enumerate(label_maps):
            if np.shape(labels) != size:
                raise ValueError(
                    f'row {title!r}: the labels of frame {index} are of '
                    f'size {np.shape(labels)}, the frames of size {size}')


def _strip_width(num_columns: int, panel_inches: float) -> float:
    return TITLE_INCHES + num_columns * (panel_inches + GAP_INCHES)


def _add_legend(figure: Figure, label_rows: TitledRows,
                palette: Sequence[Sequence[int]],
                class_names: Sequence[str]) -> float:
    """Adds the legend of the classes drawn at the bottom of ``figure`` and
    returns the height it takes, in inches."""
    label_maps = [labels for _, row in label_rows for labels in row]
    max_columns = max(1, int(figure.get_figwidth() / LEGEND_ENTRY_INCHES))
    legend = add_class_legend(figure, label_maps, palette, class_names,
                              max_columns)
    # Anchored to the bottom, the legend keeps its place when the figure
    # grows, so its top can be measured before the panels are laid out.
    return legend.get_window_extent(
        figure.canvas.get_renderer()).y1 / figure.dpi


def _draw_panels(figure: Figure, picture_rows: TitledRows,
                 column_titles: Sequence[str], panel_size: Tuple[float, float],
                 bottom_inches: float) -> None:
    """Sizes ``figure`` for a grid of panels of ``panel_size`` inches above
    ``bottom_inches`` and draws the pictures with their titles."""
    panel_width, panel_height = panel_size
    width = figure.get_figwidth()
    height = (
        TITLE_INCHES + len(picture_rows) * (panel_height + GAP_INCHES) +
        bottom_inches)
    figure.set_size_inches(width, height)
    axes_grid = figure.subplots(
        len(picture_rows), len(column_titles), squeeze=False)
    figure.subplots_adjust(
        left=TITLE_INCHES / width,
        right=1 - GAP_INCHES / width,
        top=1 - TITLE_INCHES / height,
        bottom=(bottom_inches + GAP_INCHES) / height,
        wspace=GAP_INCHES / panel_width,
        hspace=GAP_INCHES / panel_height)
    for (row_title, pictures), axes_row in zip(picture_rows, axes_grid):
        for picture, axes in zip(pictures, axes_row):
            _show_picture(axes, picture)
        axes_row[0].set_ylabel(row_title, fontsize=11)
    for title, axes in zip(column_titles, axes_grid[0]):
        axes.set_title(title, fontsize=10)


def _show_picture(axes: Axes, picture: np.ndarray) -> None:
    """Draws ``picture`` without ticks or frame, keeping room for a
    y label (which ``set_axis_off`` would hide)."""
    axes.imshow(picture, interpolation='nearest')
    axes.set(xticks=[], yticks=[])
    axes.spines[:].set_visible(False)


def save_video_strip(path: str,
                     frames: Sequence[np.ndarray],
                     rows: Mapping[str, Sequence[np.ndarray]],
                     palette: Sequence[Sequence[int]],
                     class_names: Optional[Sequence[str]] = None,
                     gt: Optional[Sequence[np.ndarray]] = None,
                     frame_titles: Optional[Sequence[str]] = None) -> None:
    """Saves a PNG of consecutive video frames (one per column) with, under
    them, the ground truth when given and the labels of every model,
    coloured with the dataset's palette.

    Args:
        path (str): The PNG file to write.
        frames (Sequence[np.ndarray]): The frames, RGB uint8 (H, W, 3).
        rows (Mapping[str, Sequence[np.ndarray]]): The labels (H, W) of
            every frame, per row title (e.g. the model's name), in the
            order of the rows.
        palette (Sequence[Sequence[int]]): RGB colour of every class, e.g.
            ``dataset_meta['palette']``.
        class_names (Sequence[str], optional): Names of the classes; when
            given, a legend names the classes drawn.
        gt (Sequence[np.ndarray], optional): Ground-truth labels (H, W) of
            every frame, drawn under the frames; ignored pixels (outside
            the palette) are drawn white.
        frame_titles (Sequence[str], optional): Column titles, e.g. the
            frames' names. Default: the frames' indices.

    Raises:
        ValueError: When the frames, their titles and the label maps differ
            in number or size.
    """
    figure = video_strip_figure(frames, rows, palette, class_names, gt,
                                frame_titles)
    figure.savefig(path, dpi=figure.dpi)
