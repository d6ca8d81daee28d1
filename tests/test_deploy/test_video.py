"""Video on the deployed model carries the state as the PyTorch
inferencer does: the same canvases, labels, resets and exit steps."""
import numpy as np
import pytest
import torch
from torch.testing import assert_close

from mmseg_convlstm.apis import RecurrentVideoInferencer
from mmseg_convlstm.deploy import DeployedVideoInferencer
from .conftest import BACKENDS, deployed

VIDEO_CFGS = [
    dict(steps_per_frame=2, canvas_decay=0.5, backbone_interval=2),
    dict(steps_per_frame=1, scene_cut_threshold=0.15),
    dict(
        steps_per_frame=3, position_exit=dict(settle_steps=1,
                                              skip_change=0.4)),
]


def frames(count=5, shape=(48, 80, 3)):
    """Frames of a still scene with small changes, then a cut to
    another."""
    generator = np.random.default_rng(0)
    scene = generator.integers(0, 256, shape)
    video = [
        np.clip(scene + generator.integers(-12, 13, shape), 0, 255)
        for _ in range(count - 1)
    ]
    return [frame.astype(np.uint8) for frame in video
            ] + [generator.integers(0, 256, shape, dtype=np.uint8)]


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('video_cfg', VIDEO_CFGS)
def test_the_state_is_carried_as_pytorch_carries_it(deployment, backend,
                                                    video_cfg):
    expected = RecurrentVideoInferencer(deployment.model, **video_cfg)
    inferencer = DeployedVideoInferencer(
        deployed(deployment, backend), **video_cfg)
    resets, skipped = [], []
    for frame in frames():
        with torch.no_grad():
            reference = expected(frame)
        prediction = inferencer(frame)
        assert prediction.state_reset == reference.state_reset
        resets.append(reference.state_reset)
        assert_close(prediction.canvas, reference.canvas, rtol=1e-3, atol=1e-5)
        assert (prediction.labels == reference.labels).float().mean() >= 0.999
        assert inferencer.steps_used == expected.steps_used
        if 'position_exit' in video_cfg:
            assert torch.equal(inferencer.exit_steps, expected.exit_steps)
            skipped.append(float((expected.exit_steps == 0).float().mean()))
    assert resets[0]
    if skipped:
        assert any(0 < fraction < 1 for fraction in skipped)
    if video_cfg.get('scene_cut_threshold') is not None:
        assert resets[1:] == [False, False, False, True]
