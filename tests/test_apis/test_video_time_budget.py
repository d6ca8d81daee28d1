"""RecurrentVideoInferencer(time_budget_ms=B): each frame runs the steps
that fit in B, timed by a clock on which every step costs a known time."""
import glob
import os.path as osp

import mmcv
import pytest
from torch.testing import assert_close

from mmseg_convlstm.apis import RecurrentVideoInferencer
from tests.step_clock import StepCostClock


@pytest.fixture
def clock(model):
    step_clock = StepCostClock(model, backbone_ms=10.0, step_ms=5.0)
    model.clock = step_clock
    yield step_clock
    del model.clock
    step_clock.remove()


def test_each_frame_runs_the_steps_that_fit(model, video_root, clock):
    frames = sorted(
        glob.glob(
            osp.join(video_root, 'leftImg8bit_sequence', 'val', '*',
                     '*_leftImg8bit.png')))[:2]
    # 10 ms backbone, then step 2 fits in 21 ms (15 + 5) and step 3 not.
    budgeted = RecurrentVideoInferencer(
        model, steps_per_frame=4, time_budget_ms=21.0)
    two_steps = RecurrentVideoInferencer(model, steps_per_frame=2)
    for path in frames:
        frame = mmcv.imread(path)
        prediction = budgeted(frame)
        assert budgeted.steps_used == 2
        assert_close(prediction.canvas, two_steps(frame).canvas)


def test_a_budget_that_is_not_positive_names_the_keyword(model):
    with pytest.raises(ValueError, match='time_budget_ms must be a positive'):
        RecurrentVideoInferencer(model, time_budget_ms=0)
