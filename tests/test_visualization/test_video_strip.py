"""The video strip: one column per frame; the frames, the ground truth and
one row per model in the palette's colours, with a legend of the classes."""
import numpy as np
import pytest
from PIL import Image

from mmseg_convlstm.visualization.video_strip import (save_video_strip,
                                                      video_strip_figure)

PALETTE = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
NAMES = ['background', 'bicycle', 'car', 'person']
SIZE = (30, 40)
NUM_FRAMES = 3
WHITE = (255, 255, 255)


@pytest.fixture
def strip():
    """Grey frames 0, 60 and 120; model 'halves' labels the left half 1 and
    the right half 2, model 'person' everything 3; the ground truth is 0
    below and ignored (255) in the upper half."""
    frames = [
        np.full((*SIZE, 3), 60 * index, np.uint8)
        for index in range(NUM_FRAMES)
    ]
    halves = np.ones(SIZE, np.int64)
    halves[:, SIZE[1] // 2:] = 2
    rows = {
        'halves': [halves] * NUM_FRAMES,
        'person': np.full((NUM_FRAMES, *SIZE), 3)
    }
    gt = np.zeros(SIZE, np.uint8)
    gt[:SIZE[0] // 2] = 255
    return frames, rows, [gt] * NUM_FRAMES


def rendered(figure):
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3]


def colour_in(picture, axes, x_fraction, y_fraction):
    """The colour at a point of a panel, as fractions of its width from the
    left and of its height from the top."""
    box = axes.get_window_extent()
    column = int(box.x0 + x_fraction * box.width)
    row = picture.shape[0] - int(box.y1 - y_fraction * box.height)
    return tuple(picture[row, column])


def test_one_column_per_frame_and_one_row_per_model_with_titles(strip):
    frames, rows, gt = strip
    figure = video_strip_figure(
        frames, rows, PALETTE, gt=gt, frame_titles=['a', 'b', 'c'])
    assert len(figure.axes) == 4 * NUM_FRAMES
    first_column = figure.axes[::NUM_FRAMES]
    assert [axes.get_ylabel() for axes in first_column
            ] == ['frame', 'ground truth', 'halves', 'person']
    assert [axes.get_title()
            for axes in figure.axes[:NUM_FRAMES]] == ['a', 'b', 'c']
    assert not any(axes.get_title() for axes in figure.axes[NUM_FRAMES:])
    untitled = video_strip_figure(frames, rows, PALETTE)
    assert len(untitled.axes) == 3 * NUM_FRAMES
    assert [axes.get_title()
            for axes in untitled.axes[:NUM_FRAMES]] == ['0', '1', '2']


def test_panels_keep_the_frames_shape_and_the_legend_stays_below(strip):
    frames, rows, gt = strip
    figure = video_strip_figure(
        frames, rows, PALETTE, NAMES, gt, panel_inches=2.0)
    rendered(figure)
    boxes = [axes.get_window_extent() for axes in figure.axes]
    for box in boxes:
        assert box.width == pytest.approx(2.0 * figure.dpi, abs=1)
        assert box.height == pytest.approx(
            box.width * SIZE[0] / SIZE[1], abs=1)
    assert figure.bbox.width == pytest.approx(
        NUM_FRAMES * boxes[0].width, rel=0.15)
    (legend, ) = figure.legends
    assert legend.get_window_extent().y1 <= min(box.y0 for box in boxes)
    assert legend.get_window_extent().y0 >= 0


def test_labelled_pixels_have_their_class_colour(strip):
    frames, rows, gt = strip
    figure = video_strip_figure(frames, rows, PALETTE, gt=gt)
    picture = rendered(figure)
    for column in range(NUM_FRAMES):
        frame, truth, halves, person = figure.axes[column::NUM_FRAMES]
        assert colour_in(picture, frame, 0.5, 0.5) == (60 * column, ) * 3
        assert colour_in(picture, truth, 0.5, 0.25) == WHITE
        assert colour_in(picture, truth, 0.5, 0.75) == tuple(PALETTE[0])
        assert colour_in(picture, halves, 0.25, 0.5) == tuple(PALETTE[1])
        assert colour_in(picture, halves, 0.75, 0.5) == tuple(PALETTE[2])
        assert colour_in(picture, person, 0.5, 0.5) == tuple(PALETTE[3])


def test_legend_names_the_classes_of_every_row(strip):
    frames, rows, gt = strip
    with_gt = video_strip_figure(frames, rows, PALETTE, NAMES, gt)
    assert [text.get_text()
            for text in with_gt.legends[0].get_texts()] == NAMES + ['ignored']
    person = video_strip_figure(frames, {'person': rows['person']}, PALETTE,
                                NAMES)
    assert [text.get_text()
            for text in person.legends[0].get_texts()] == ['person']
    assert not video_strip_figure(frames, rows, PALETTE).legends


def test_save_writes_the_figure_as_png(strip, tmp_path):
    frames, rows, gt = strip
    path = tmp_path / 'strip.png'
    save_video_strip(str(path), frames, rows, PALETTE, NAMES, gt)
    expected = rendered(video_strip_figure(frames, rows, PALETTE, NAMES, gt))
    np.testing.assert_array_equal(
        np.asarray(Image.open(path).convert('RGB')), expected)


@pytest.mark.parametrize(
    'change, message',
    [(dict(frames=[]), 'no frames to draw'),
     (dict(rows={}, gt=None), 'no labels to draw'),
     (dict(frame_titles=['a', 'b']), '2 frame titles for 3 frames'),
     (dict(rows={'halves': [np.zeros(SIZE)] * 2}),
      "row 'halves' has 2 label maps for 3 frames"),
     (dict(gt=[np.zeros(SIZE)] * 4), "row 'ground truth' has 4 label maps"),
     (dict(rows={'halves': [np.zeros(SIZE)] * 2 + [np.zeros((30, 41))]}),
      r"row 'halves': the labels of frame 2 are of size \(30, 41\)")])
def test_mismatched_counts_and_sizes_are_errors(strip, change, message):
    frames, rows, gt = strip
    arguments = {**dict(frames=frames, rows=rows, gt=gt), **change}
    with pytest.raises(ValueError, match=message):
        video_strip_figure(palette=PALETTE, **arguments)


def test_frames_of_another_size_are_errors(strip):
    frames, rows, _ = strip
    with pytest.raises(ValueError, match=r'frame 2 is of shape \(30, 41, 3\)'):
        video_strip_figure(frames[:2] + [np.zeros((30, 41, 3), np.uint8)],
                           rows, PALETTE)
