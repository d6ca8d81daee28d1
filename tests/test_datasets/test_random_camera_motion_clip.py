"""RandomCameraMotionClip makes a pseudo-clip from one labelled still: the
labels move exactly with the image, the uncovered border is ignored, the
still is the unchanged last frame, and MMEngine's seed fixes the motion."""
import numpy as np
import pytest
from mmengine.runner import set_random_seed

from mmseg_convlstm.datasets import RandomCameraMotionClip
from mmseg_convlstm.datasets.transforms.random_camera_motion_clip import \
    camera_motion_matrix

HEIGHT, WIDTH, CONTEXT = 48, 64, 3
# Colours in general position: no blend of two is a third.
PALETTE = np.array([[200, 30, 40], [20, 180, 60], [40, 50, 210],
                    [230, 220, 20], [120, 240, 250], [250, 90, 170]],
                   dtype=np.uint8)
STRONG = dict(
    scaling_ratio_range=(0.93, 1.07),
    max_translate_ratio=0.05,
    max_rotate_degree=4.0)


def still():
    """Constant-colour regions: a label map of rectangles and discs and its
    image coloured by ``PALETTE``."""
    y, x = np.mgrid[:HEIGHT, :WIDTH]
    labels = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels[y > 30] = 1
    labels[(x > 40) & (y < 20)] = 2
    labels[(x - 20)**2 + (y - 22)**2 < 64] = 3
    labels[(x - 50)**2 + (y - 36)**2 < 30] = 4
    labels[5:12, 5:30] = 5
    return PALETTE[labels], labels


def results_of(img, labels):
    return dict(
        img=img.copy(),
        gt_seg_map=labels.copy(),
        seg_fields=['gt_seg_map'],
        img_shape=img.shape[:2])


def make_clip(seed=0, image=None, **kwargs):
    img, labels = image or still()
    set_random_seed(seed)
    transform = RandomCameraMotionClip(
        context_frames=kwargs.pop('context_frames', CONTEXT), **kwargs)
    return transform(results_of(img, labels))


def frames(results):
    img = results['img']
    return (img.reshape(*img.shape[:2], -1, 3).transpose(2, 0, 1, 3),
            results['gt_seg_map'].transpose(2, 0, 1))


def with_motion(monkeypatch, **motion):
    monkeypatch.setattr(RandomCameraMotionClip, '_sample_motion',
                        lambda self, height, width: motion)


def test_the_output_is_a_stacked_clip_with_every_frame_labelled():
    results = make_clip(**STRONG)
    assert results['img'].shape == (HEIGHT, WIDTH, 3 * (CONTEXT + 1))
    assert results['gt_seg_map'].shape == (HEIGHT, WIDTH, CONTEXT + 1)
    assert results['img'].dtype == np.uint8
    assert results['gt_seg_map'].dtype == np.uint8
    assert results['num_clip_frames'] == CONTEXT + 1
    assert set(
        results['clip_motion']) == {'scale', 'rotate_degree', 'translation'}


@pytest.mark.parametrize('img_border', ['constant', 'replicate'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_labels_are_those_of_the_warped_constant_colour_image(
        seed, img_border):
    results = make_clip(seed, img_border=img_border, **STRONG)
    images, labels = frames(results)
    _, still_labels = still()
    for image, frame_labels in zip(images[:-1], labels[:-1]):
        # Where a warped pixel has exactly a region's colour, every pixel
        # that its bilinear interpolation read is of that region, and its
        # nearest neighbour too: the label must be that region's.
        exact = (image[:, :, None] == PALETTE).all(axis=3)
        region = exact.argmax(axis=2)
        pure = exact.any(axis=2) & (frame_labels != 255)
        assert pure.mean() > 0.6
        np.testing.assert_array_equal(frame_labels[pure], region[pure])
        # Every labelled pixel is a blend of the still's colours only.
        labelled = frame_labels != 255
        if img_border == 'constant':
            assert (image[labelled] != 0).any(axis=1).all()
        assert not np.array_equal(frame_labels, still_labels)


@pytest.mark.parametrize('img_border', ['constant', 'replicate'])
def test_an_integer_shift_moves_image_and_labels_exactly(
        monkeypatch, img_border):
    with_motion(
        monkeypatch, scale=1.0, rotate_degree=0.0, translation=(3.0, -2.0))
    img, labels = still()
    images, clip_labels = frames(make_clip(img_border=img_border))
    for index in range(CONTEXT):
        steps = CONTEXT - index
        dx, dy = 3 * steps, -2 * steps
        # frame[y, x] shows still[y + dy, x + dx]: content moves by the
        # translation from each frame to the next.
        np.testing.assert_array_equal(images[index][-dy:, :WIDTH - dx],
                                      img[:HEIGHT + dy, dx:])
        np.testing.assert_array_equal(clip_labels[index][-dy:, :WIDTH - dx],
                                      labels[:HEIGHT + dy, dx:])
        uncovered = np.ones((HEIGHT, WIDTH), bool)
        uncovered[-dy:, :WIDTH - dx] = False
        assert (clip_labels[index][uncovered] == 255).all()
        if img_border == 'constant':
            assert (images[index][uncovered] == 0).all()
        else:
            # Each row repeats its last pixel of the still.
            edge = images[index][:, WIDTH - dx - 1:WIDTH - dx]
            np.testing.assert_array_equal(
                images[index][:, WIDTH - dx:],
                np.broadcast_to(edge, (HEIGHT, dx, 3)))


def test_uncovered_borders_are_ignored_where_the_motion_reads_outside(
        monkeypatch):
    motion = dict(scale=1.04, rotate_degree=2.0, translation=(1.5, 0.7))
    with_motion(monkeypatch, **motion)
    images, labels = frames(make_clip())
    _, still_labels = still()
    y, x = np.mgrid[:HEIGHT, :WIDTH]
    points = np.stack([x.ravel(), y.ravel(), np.ones(x.size)])
    uncovered_counts = []
    for index in range(CONTEXT):
        matrix = camera_motion_matrix(
            CONTEXT - index,
            center=((WIDTH - 1) / 2, (HEIGHT - 1) / 2),
            **motion)
        source_x, source_y = (matrix @ points).reshape(2, HEIGHT, WIDTH)
        inside = ((source_x > 0.05) & (source_x < WIDTH - 1.05)
                  & (source_y > 0.05) & (source_y < HEIGHT - 1.05))
        outside = ((source_x < -0.05) | (source_x > WIDTH - 0.95)
                   | (source_y < -0.05) | (source_y > HEIGHT - 0.95))
        # Bilinear reads no pixel of the still beyond one pixel outside.
        far_outside = ((source_x < -1.05) | (source_x > WIDTH + 0.05)
                       | (source_y < -1.05) | (source_y > HEIGHT + 0.05))
        assert far_outside.any() and inside.any()
        assert (labels[index][outside] == 255).all()
        assert (images[index][far_outside] == 0).all()
        assert (labels[index][inside] != 255).all()
        uncovered_counts.append((labels[index] == 255).sum())
        # The camera drives forward: the disc of class 3 is smaller in the
        # frames before the still.
        assert (labels[index] == 3).sum() < (still_labels == 3).sum()
    assert uncovered_counts == sorted(uncovered_counts, reverse=True)
    assert (labels[-1] != 255).all()


def test_zero_motion_gives_identical_frames():
    img, labels = still()
    images, clip_labels = frames(
        make_clip(
            scaling_ratio_range=(1.0, 1.0),
            max_translate_ratio=0.0,
            max_rotate_degree=0.0))
    for image, frame_labels in zip(images, clip_labels):
        np.testing.assert_array_equal(image, img)
        np.testing.assert_array_equal(frame_labels, labels)


@pytest.mark.parametrize('seed', [0, 5])
def test_the_still_is_the_unchanged_last_frame(seed):
    img, labels = still()
    images, clip_labels = frames(make_clip(seed, **STRONG))
    np.testing.assert_array_equal(images[-1], img)
    np.testing.assert_array_equal(clip_labels[-1], labels)
    assert not np.array_equal(images[0], img)


def test_float_images_and_other_label_fields_are_warped_alike():
    img, labels = still()
    results = results_of(img.astype(np.float32), labels)
    results['gt_edge_map'] = (labels == 3).astype(np.uint8)
    results['seg_fields'].append('gt_edge_map')
    set_random_seed(0)
    clip = RandomCameraMotionClip(context_frames=2, **STRONG)(results)
    assert clip['img'].dtype == np.float32
    assert clip['gt_edge_map'].shape == (HEIGHT, WIDTH, 3)
    labelled = clip['gt_seg_map'] != 255
    np.testing.assert_array_equal(clip['gt_edge_map'][labelled],
                                  clip['gt_seg_map'][labelled] == 3)


def test_the_seed_fixes_the_motion():
    first, again, other = make_clip(7, **STRONG), make_clip(
        7, **STRONG), make_clip(8, **STRONG)
    assert first['clip_motion'] == again['clip_motion']
    np.testing.assert_array_equal(first['img'], again['img'])
    np.testing.assert_array_equal(first['gt_seg_map'], again['gt_seg_map'])
    assert first['clip_motion'] != other['clip_motion']
    assert not np.array_equal(first['img'], other['img'])


def test_motion_is_drawn_within_the_ranges():
    transform = RandomCameraMotionClip(
        scaling_ratio_range=(1.01, 1.02),
        max_translate_ratio=(0.1, 0.0),
        max_rotate_degree=1.0)
    set_random_seed(0)
    motions = [transform._sample_motion(100, 200) for _ in range(200)]
    scales = [motion['scale'] for motion in motions]
    angles = [motion['rotate_degree'] for motion in motions]
    shifts = np.array([motion['translation'] for motion in motions])
    assert 1.01 <= min(scales) and max(scales) <= 1.02
    assert -1 <= min(angles) < -0.5 and 0.5 < max(angles) <= 1
    assert np.abs(shifts[:, 0]).max() <= 20 and shifts[:, 0].min() < -10
    assert (shifts[:, 1] == 0).all()


def test_context_frames_zero_gives_the_still_alone_as_a_clip():
    img, labels = still()
    results = make_clip(context_frames=0, **STRONG)
    np.testing.assert_array_equal(results['img'], img)
    assert results['gt_seg_map'].shape == (HEIGHT, WIDTH, 1)
    assert results['num_clip_frames'] == 1


@pytest.mark.parametrize('kwargs, key', [
    (dict(context_frames=-1), 'context_frames'),
    (dict(scaling_ratio_range=(1.1, 1.0)), 'scaling_ratio_range'),
    (dict(scaling_ratio_range=(0, 1.0)), 'scaling_ratio_range'),
    (dict(max_translate_ratio=-0.1), 'max_translate_ratio'),
    (dict(max_translate_ratio=(0.1, 0.1, 0.1)), 'max_translate_ratio'),
    (dict(max_rotate_degree=-1), 'max_rotate_degree'),
    (dict(img_border='reflect'), 'img_border'),
])
def test_bad_arguments_are_named(kwargs, key):
    with pytest.raises(ValueError, match=key):
        RandomCameraMotionClip(**kwargs)


def test_a_clip_is_refused():
    img, labels = still()
    results = results_of(np.concatenate([img, img], axis=2), labels)
    results['num_clip_frames'] = 2
    with pytest.raises(ValueError, match='num_clip_frames=2'):
        RandomCameraMotionClip()(results)


def test_the_motion_matrix_maps_a_frame_into_the_still():
    center = (10.0, 5.0)
    identity = camera_motion_matrix(0, 1.1, 3.0, (2.0, 1.0), center)
    np.testing.assert_allclose(identity, np.eye(2, 3))

    def where(steps, point, **motion):
        matrix = camera_motion_matrix(steps, center=center, **motion)
        return matrix @ np.array([*point, 1.0])

    still_motion = dict(scale=1.0, rotate_degree=0.0, translation=(0, 0))
    # Forward motion: a point right of the centre moves out, by the
    # magnification to the power of the steps.
    np.testing.assert_allclose(
        where(2, (14, 5), **dict(still_motion, scale=1.5)), (19, 5))
    # Counter-clockwise on the screen (y down): right of the centre goes up,
    # below it goes right.
    quarter_turn = dict(still_motion, rotate_degree=30.0)
    np.testing.assert_allclose(
        where(3, (14, 5), **quarter_turn), (10, 1), atol=1e-12)
    np.testing.assert_allclose(
        where(3, (10, 9), **quarter_turn), (14, 5), atol=1e-12)
    np.testing.assert_allclose(
        where(3, (14, 5), **dict(still_motion, translation=(2, -1))), (20, 2))
