"""With video_cfg.backbone_interval=N the backbone runs on every N-th frame
only (shifted by the phase given to reset), and the frames in between step
on the last features. That the benchmark counts 1/N of the backbone per
frame is checked in tests/test_benchmarks/test_video_benchmark.py."""
import glob
import os.path as osp

import mmcv
import pytest
import torch
from torch.testing import assert_close

from mmseg_convlstm.apis import RecurrentVideoInferencer


def clip_frames(root):
    return [
        mmcv.imread(path) for path in sorted(
            glob.glob(
                osp.join(root, 'leftImg8bit_sequence', 'val', 'synthcity',
                         'synthcity_000000_*_leftImg8bit.png')))
    ]


def test_frames_between_backbone_runs_step_on_the_last_features(
        model, video_root, monkeypatch):
    frames = clip_frames(video_root)
    inferencer = RecurrentVideoInferencer(model, backbone_interval=2)
    reference = RecurrentVideoInferencer(model)
    features = [
        reference.extract_features(reference.preprocess(frame)[0])
        for frame in frames
    ]
    calls = []
    extract = inferencer.extract_features
    monkeypatch.setattr(inferencer, 'extract_features',
                        lambda inputs: calls.append(1) or extract(inputs))
    for index, frame in enumerate(frames):
        expected, _ = reference.advance(features[index - index % 2])
        assert_close(inferencer(frame).canvas, expected[0])
    assert len(calls) == (len(frames) + 1) // 2


@pytest.mark.parametrize('interval, phase, expected', [
    (1, 0, [True] * 5),
    (2, 0, [True, False, True, False, True]),
    (2, 1, [True, True, False, True, False]),
    (4, 0, [True, False, False, False, True]),
])
def test_the_backbone_schedule_follows_interval_and_phase(
        model, interval, phase, expected):
    inferencer = RecurrentVideoInferencer(model, backbone_interval=interval)
    inferencer.reset(backbone_phase=phase)
    features = torch.zeros(1, model.decode_head.in_channels, 3, 5)
    schedule = []
    for _ in expected:
        schedule.append(inferencer.needs_backbone())
        with torch.no_grad():
            inferencer.advance(features if schedule[-1] else None)
    assert schedule == expected


@pytest.mark.parametrize('interval', [0, -1, 1.5])
def test_a_bad_backbone_interval_is_named(model, interval):
    with pytest.raises(ValueError, match='video_cfg.backbone_interval'):
        RecurrentVideoInferencer(model, backbone_interval=interval)


def test_advance_without_features_needs_features_first(model):
    with pytest.raises(ValueError, match='no frame has given features'):
        RecurrentVideoInferencer(model).advance(None)
