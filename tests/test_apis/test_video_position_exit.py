"""RecurrentVideoInferencer with per-position steps: positions whose
features barely changed skip the frame and keep their state; the others
step from the carried state as a dense run would."""
import mmcv
import pytest
import torch
from torch.testing import assert_close

from mmseg_convlstm.apis import RecurrentVideoInferencer
from tests.test_apis.test_recurrent_video_inferencer import sequence_frames


@torch.no_grad()
def frame_features(inferencer, video_root):
    frames = [mmcv.imread(path) for path in sequence_frames(video_root)]
    return [
        inferencer.extract_features(inferencer.preprocess(frame)[0])
        for frame in frames
    ]


@pytest.mark.parametrize('steps_per_frame', [1, 2])
def test_every_position_running_equals_dense_streaming(
        model, video_root, steps_per_frame):
    dense = RecurrentVideoInferencer(model, steps_per_frame=steps_per_frame)
    per_position = RecurrentVideoInferencer(
        model,
        steps_per_frame=steps_per_frame,
        position_exit=dict(skip_change=0.0))
    for path in sequence_frames(video_root):
        expected = dense(mmcv.imread(path))
        got = per_position(mmcv.imread(path))
        assert_close(got.canvas, expected.canvas, rtol=0, atol=1e-5)
        assert torch.equal(got.labels, expected.labels)
        assert (per_position.exit_steps == steps_per_frame).all()


def test_only_the_positions_whose_features_changed_run(model, video_root):
    inferencer = RecurrentVideoInferencer(
        model, position_exit=dict(skip_change=0.5))
    features = frame_features(inferencer, video_root)[0]
    with torch.no_grad():
        first, _ = inferencer.advance(features)
        assert (inferencer.exit_steps == 1).all()
        still, _ = inferencer.advance(features)
        assert (inferencer.exit_steps == 0).all()
        assert torch.equal(still, first)

        changed = features.clone()
        changed[..., 0, :] *= 3  # the top row of positions changes by 2x
        canvas, _ = inferencer.advance(changed)
    ran = inferencer.exit_steps[0]
    assert ran[0].eq(1).all() and ran[1:].eq(0).all()
    assert torch.equal(canvas[..., 1:, :], first[..., 1:, :])
    assert not torch.equal(canvas[..., 0, :], first[..., 0, :])
    # The changed row now compares with the features it last ran on.
    with torch.no_grad():
        inferencer.advance(changed)
    assert (inferencer.exit_steps == 0).all()


def test_a_slow_drift_runs_once_it_adds_up(model, video_root):
    """A position compares its features with those of its last step, not
    of the last frame, so changes too small to run on their own add up."""
    inferencer = RecurrentVideoInferencer(
        model, position_exit=dict(skip_change=0.5))
    # Equal features everywhere: every position changes by the same share.
    features = torch.ones_like(frame_features(inferencer, video_root)[0])
    with torch.no_grad():
        inferencer.advance(features)
        inferencer.advance(features * 1.3)
        assert (inferencer.exit_steps == 0).all()
        inferencer.advance(features * 1.6)
    assert (inferencer.exit_steps == 1).all()


def test_a_skip_threshold_between_changes_runs_the_larger_ones(
        model, video_root):
    inferencer = RecurrentVideoInferencer(model)
    first, second = frame_features(inferencer, video_root)[:2]
    change = (second - first).abs().mean(dim=1) / first.abs().mean()
    threshold = float(change.flatten().median())
    inferencer = RecurrentVideoInferencer(
        model, position_exit=dict(skip_change=threshold))
    with torch.no_grad():
        inferencer.advance(first)
        inferencer.advance(second)
    assert torch.equal(inferencer.exit_steps, (change >= threshold).long())
    assert 0 < int(inferencer.exit_steps.sum()) < change.numel()


def test_confident_positions_skip_when_their_features_barely_changed(
        model, video_root):
    """A position skips when every skip criterion set holds."""
    features = frame_features(RecurrentVideoInferencer(model), video_root)[0]
    changed = features.clone()
    changed[..., 0, :] *= 3

    def steps_on_second_frame(**position_exit):
        inferencer = RecurrentVideoInferencer(
            model, position_exit=position_exit)
        with torch.no_grad():
            inferencer.advance(features)
            inferencer.advance(changed)
        return inferencer.exit_steps[0]

    confident = steps_on_second_frame(skip_confidence=1e-6)
    assert (confident == 0).all()
    both = steps_on_second_frame(skip_confidence=1e-6, skip_change=0.5)
    assert both[0].eq(1).all() and both[1:].eq(0).all()
    never_confident = steps_on_second_frame(
        skip_confidence=1.0, skip_change=1e9)
    assert (never_confident == 1).all()


def test_a_reset_runs_every_position(model, video_root):
    inferencer = RecurrentVideoInferencer(
        model, position_exit=dict(skip_change=10.0))
    features = frame_features(inferencer, video_root)[0]
    with torch.no_grad():
        inferencer.advance(features)
        inferencer.advance(features)
        assert (inferencer.exit_steps == 0).all()
        inferencer.reset()
        _, state_reset = inferencer.advance(features)
    assert state_reset and (inferencer.exit_steps == 1).all()


def test_confident_positions_stop_early_within_a_frame(model, video_root):
    inferencer = RecurrentVideoInferencer(
        model, steps_per_frame=3, position_exit=dict(confidence=1e-6))
    features = frame_features(inferencer, video_root)[0]
    with torch.no_grad():
        inferencer.advance(features)
    assert (inferencer.exit_steps == 1).all()


@pytest.mark.parametrize('options, message', [
    (dict(position_exit=dict(skip_changes=0.1)),
     'video_cfg.position_exit.*skip_changes'),
    (dict(position_exit=dict(skip_change=-1)),
     'video_cfg.position_exit.skip_change'),
    (dict(position_exit=dict(skip_confidence=1.5)),
     r'video_cfg.position_exit.skip_confidence must be a probability'),
    (dict(position_exit=dict(min_steps=3)),
     r'video_cfg.position_exit.min_steps \(3\) must not exceed'),
    (dict(position_exit=dict(skip_change=0.1), time_budget_ms=10.0),
     'time_budget_ms'),
])
def test_bad_position_exit_options_name_the_key(model, options, message):
    with pytest.raises(ValueError, match=message):
        RecurrentVideoInferencer(model, **options)
