import numpy as np
import pytest
from PIL import Image

from mmseg_convlstm.visualization.step_pictures import (colorize,
                                                        render_step_grid,
                                                        save_step_grid,
                                                        step_grid_figure)

PALETTE = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
NAMES = ['background', 'bicycle', 'car', 'person']


def colour_pixels(picture, colour):
    return int(np.all(picture == colour, axis=-1).sum())


@pytest.fixture
def steps_and_image():
    """Three steps labelled all 1, all 2 and all 3, and an image."""
    step_labels = np.stack([np.full((40, 60), label) for label in (1, 2, 3)])
    image = np.full((40, 60, 3), 200, np.uint8)
    return image, step_labels


def test_colorize_uses_the_palette_and_marks_ignored_pixels():
    picture = colorize(np.array([[0, 1], [3, 255]]), PALETTE)
    np.testing.assert_array_equal(
        picture, [[[0, 0, 0], [128, 0, 0]], [[128, 128, 0], [255, 255, 255]]])


def test_grid_draws_only_the_chosen_steps(steps_and_image):
    image, step_labels = steps_and_image
    grid = render_step_grid(image, step_labels, [1, 3], PALETTE)
    assert colour_pixels(grid, PALETTE[1]) > 0.5 * 40 * 60 / 4
    assert colour_pixels(grid, PALETTE[3]) > 0.5 * 40 * 60 / 4
    assert colour_pixels(grid, PALETTE[2]) == 0


def test_grid_of_all_steps_with_ground_truth_is_wider(steps_and_image):
    image, step_labels = steps_and_image
    gt = np.zeros((40, 60), np.uint8)
    gt[:, 30:] = 255
    without_gt = render_step_grid(image, step_labels, None, PALETTE)
    with_gt = render_step_grid(image, step_labels, None, PALETTE, gt)
    assert colour_pixels(without_gt, PALETTE[2]) > 0
    assert with_gt.shape[1] > without_gt.shape[1]
    assert colour_pixels(with_gt,
                         PALETTE[0]) > colour_pixels(without_gt, PALETTE[0])


def test_class_legend_adds_a_row(steps_and_image):
    image, step_labels = steps_and_image
    plain = render_step_grid(image, step_labels, [1], PALETTE)
    named = render_step_grid(
        image, step_labels, [1], PALETTE, class_names=['a', 'b', 'c', 'd'])
    assert named.shape[0] > plain.shape[0]


def test_legend_names_the_classes_drawn_in_their_colours(steps_and_image):
    image, step_labels = steps_and_image
    gt = np.zeros((40, 60), np.uint8)
    gt[:, 30:] = 255
    figure = step_grid_figure(
        image, step_labels, [1, 3], PALETTE, gt, class_names=NAMES)
    (legend, ) = figure.legends
    entries = {
        text.get_text(): tuple(np.round(patch.get_facecolor()[:3], 3))
        for text, patch in zip(legend.get_texts(), legend.get_patches())
    }
    # Steps 1 and 3 and the ground truth hold classes 1, 3 and 0, and the
    # ignored 255 (drawn white); step 2's class 2 is not drawn.
    assert entries == {
        **{
            NAMES[c]: tuple(np.round(np.asarray(PALETTE[c]) / 255, 3))
            for c in (0, 1, 3)
        }, 'ignored': (1.0, 1.0, 1.0)
    }
    step_only = step_grid_figure(
        image, step_labels, [2], PALETTE, class_names=NAMES)
    assert [text.get_text()
            for text in step_only.legends[0].get_texts()] == [NAMES[2]]


def test_no_legend_without_class_names(steps_and_image):
    image, step_labels = steps_and_image
    assert not step_grid_figure(image, step_labels, [1], PALETTE).legends


def test_save_step_grid_writes_the_rendered_png(steps_and_image, tmp_path):
    image, step_labels = steps_and_image
    path = tmp_path / 'grid.png'
    save_step_grid(str(path), image, step_labels, [2], PALETTE)
    np.testing.assert_array_equal(
        np.asarray(Image.open(path).convert('RGB')),
        render_step_grid(image, step_labels, [2], PALETTE))


def test_bad_steps_and_sizes_are_errors(steps_and_image):
    image, step_labels = steps_and_image
    with pytest.raises(ValueError, match='step 4 is not among the 3'):
        render_step_grid(image, step_labels, [1, 4], PALETTE)
    with pytest.raises(ValueError, match=r'\(T, H, W\)'):
        render_step_grid(image, step_labels[0], [1], PALETTE)
    with pytest.raises(ValueError, match='image of size'):
        render_step_grid(image[:20], step_labels, [1], PALETTE)
    with pytest.raises(ValueError, match='ground truth of size'):
        render_step_grid(image, step_labels, [1], PALETTE, step_labels[0, 1:])
