"""RecurrentVideoInferencer carries the recurrent state across frames
exactly, and its options (canvas decay, scene cuts) do what they say."""
import glob
import os.path as osp

import mmcv
import pytest
import torch
from torch.testing import assert_close

from mmseg_convlstm.apis import RecurrentVideoInferencer


def sequence_frames(root: str, sequence: int = 0):
    """The frame files of one generated clip, oldest first."""
    return sorted(
        glob.glob(
            osp.join(root, 'leftImg8bit_sequence', 'val', 'synthcity',
                     f'synthcity_{sequence:06d}_*_leftImg8bit.png')))


@torch.no_grad()
def batched_unrolled_canvases(model, frames, steps_per_frame):
    """Reference: all the frames through the backbone as one batch, then the
    head unrolled over them with its state handed from frame to frame."""
    inputs = [
        torch.from_numpy(mmcv.imread(path)).permute(2, 0, 1) for path in frames
    ]
    batch = model.data_preprocessor(dict(inputs=inputs), False)['inputs']
    features = model.decode_head._transform_inputs(model.extract_feat(batch))
    state, canvases = None, []
    for index in range(len(frames)):
        steps, state = model.decode_head.run_steps(features[index:index + 1],
                                                   steps_per_frame, state)
        canvases.append(steps[-1][0])
    return canvases, features


@pytest.mark.parametrize('steps_per_frame', [1, 2])
def test_streaming_frames_equals_a_batched_unrolled_run(
        model, video_root, steps_per_frame):
    frames = sequence_frames(video_root)
    inferencer = RecurrentVideoInferencer(
        model, steps_per_frame=steps_per_frame)
    reference, _ = batched_unrolled_canvases(model, frames, steps_per_frame)
    for index, path in enumerate(frames):
        prediction = inferencer(mmcv.imread(path))
        assert prediction.state_reset == (index == 0)
        assert_close(prediction.canvas, reference[index])
        expected_labels = inferencer.labels(reference[index][None],
                                            inferencer.preprocess(path)[1])
        assert torch.equal(prediction.labels, expected_labels)
        assert prediction.labels.shape == mmcv.imread(path).shape[:2]


def test_a_still_frame_streamed_equals_the_steps_of_a_cold_start(
        model, video_root):
    """The state carried over F frames of one still image is that of F * s
    uninterrupted steps on it."""
    frame = mmcv.imread(sequence_frames(video_root)[-1])
    inferencer = RecurrentVideoInferencer(model, steps_per_frame=2)
    features = inferencer.extract_features(inferencer.preprocess(frame)[0])
    with torch.no_grad():
        cold_canvases, _ = model.decode_head.run_steps(features, 6)
    streamed = [inferencer(frame).canvas for _ in range(3)]
    for index, canvas in enumerate(streamed):
        assert_close(canvas, cold_canvases[2 * index + 1][0])


@pytest.mark.parametrize('canvas_decay', [0.0, 0.5])
def test_canvas_decay_scales_the_carried_canvas(model, video_root,
                                                canvas_decay):
    frame = mmcv.imread(sequence_frames(video_root)[-1])
    inferencer = RecurrentVideoInferencer(
        model, steps_per_frame=1, canvas_decay=canvas_decay)
    features = inferencer.extract_features(inferencer.preprocess(frame)[0])
    with torch.no_grad():
        cold_canvases, _ = model.decode_head.run_steps(features, 2)
    first, second = inferencer(frame).canvas, inferencer(frame).canvas
    step_two_output = cold_canvases[1] - cold_canvases[0]
    assert_close(first, cold_canvases[0][0])
    assert_close(second,
                 (canvas_decay * cold_canvases[0] + step_two_output)[0])


def test_reset_and_scene_cuts_start_from_zeros(model, video_root):
    frames = [mmcv.imread(path) for path in sequence_frames(video_root)]
    cold = RecurrentVideoInferencer(model)
    every_change_cuts = RecurrentVideoInferencer(model, scene_cut_threshold=0)
    never_cuts = RecurrentVideoInferencer(model, scene_cut_threshold=1e9)
    carried = RecurrentVideoInferencer(model)
    for index, frame in enumerate(frames):
        cold.reset()
        expected = cold(frame).canvas
        cut = every_change_cuts(frame)
        assert cut.state_reset
        assert_close(cut.canvas, expected)
        kept = never_cuts(frame)
        assert kept.state_reset == (index == 0)
        assert_close(kept.canvas, carried(frame).canvas)
    carried.reset()
    assert carried(frames[0]).state_reset
    # An unchanged frame is no scene cut, even with a threshold of zero.
    assert not every_change_cuts(frames[-1]).state_reset


def test_feature_change_is_relative_and_zero_for_equal_features():
    previous = torch.tensor([1.0, -1.0, 2.0, -2.0])
    assert RecurrentVideoInferencer.feature_change(previous, previous) == 0
    assert RecurrentVideoInferencer.feature_change(
        previous, 2 * previous) == pytest.approx(1.0)


def test_a_frame_of_another_size_asks_for_a_reset(model, video_root):
    frame = mmcv.imread(sequence_frames(video_root)[0])
    inferencer = RecurrentVideoInferencer(model)
    inferencer(frame)
    with pytest.raises(ValueError, match='reset'):
        inferencer(mmcv.imresize(frame, (130, 66)))
    inferencer.reset()
    assert inferencer(mmcv.imresize(frame, (130, 66))).state_reset


def test_options_come_from_video_cfg_and_unknown_ones_are_named(model):
    model.cfg.video_cfg = dict(steps_per_frame=3, canvas_decay=0.25)
    try:
        inferencer = RecurrentVideoInferencer(model, canvas_decay=0.5)
        assert (inferencer.steps_per_frame, inferencer.canvas_decay) == (3,
                                                                         0.5)
        with pytest.raises(KeyError, match='steps_per_fram'):
            RecurrentVideoInferencer(model, steps_per_fram=2)
    finally:
        model.cfg.video_cfg = dict(
            steps_per_frame=1, canvas_decay=1.0, scene_cut_threshold=None)


def test_an_unreadable_frame_file_is_named(model, tmp_path):
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='broken.png'):
        RecurrentVideoInferencer(model)(str(broken))
