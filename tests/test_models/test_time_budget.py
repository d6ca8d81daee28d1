"""test_cfg.time_budget_ms: steps run while the next one fits in what is
left of the budget, timed by an injected clock on which every step costs a
known time."""
import pytest
import torch
from mmengine.config import Config, ConfigDict

from mmseg.registry import MODELS
from mmseg_convlstm.models.time_budget import (TimeBudget, check_time_budget,
                                               take_steps)
from tests.conftest import DEMO_CONFIG
from tests.step_clock import StepCostClock

BACKBONE_MS = 10.0
STEP_MS = 5.0


@pytest.fixture(scope='module')
def model():
    segmentor = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    segmentor.init_weights()
    segmentor.eval()
    return segmentor


@pytest.fixture
def clock(model):
    step_clock = StepCostClock(model, BACKBONE_MS, STEP_MS)
    model.clock = step_clock
    yield step_clock
    del model.clock
    step_clock.remove()


def predict(model, inputs, **test_cfg):
    model.test_cfg = ConfigDict(mode='whole', **test_cfg)
    with torch.no_grad():
        return model.predict(inputs)


def expected_steps(budget_ms: float, max_steps: int) -> int:
    """Step n+1 runs when BACKBONE_MS + n * STEP_MS (the time spent) plus
    STEP_MS (the last step's time) fits in the budget."""
    fitting = int((budget_ms - BACKBONE_MS) // STEP_MS)
    return min(max(fitting, 1), max_steps)


@pytest.mark.parametrize('budget_ms', [1.0, 21.0, 32.0, 1000.0])
def test_budget_runs_the_steps_that_fit_with_the_labels_of_that_many(
        model, clock, budget_ms):
    inputs = torch.randn(2, 3, 33, 41)
    results = predict(model, inputs, num_steps=5, time_budget_ms=budget_ms)

    steps = expected_steps(budget_ms, 5)
    assert [result.num_steps_used for result in results] == [steps, steps]
    assert clock.now == BACKBONE_MS + steps * STEP_MS
    fixed = predict(model, inputs, num_steps=steps)
    for result, reference in zip(results, fixed):
        assert torch.equal(result.pred_sem_seg.data,
                           reference.pred_sem_seg.data)
        assert torch.equal(result.seg_logits.data, reference.seg_logits.data)


def test_budget_with_all_steps_stores_the_steps_it_ran(model, clock):
    inputs = torch.randn(1, 3, 33, 33)
    (result, ) = predict(
        model,
        inputs,
        num_steps=5,
        time_budget_ms=27.0,
        return_all_steps=True)

    assert result.num_steps_used == 3
    steps = result.pred_sem_seg_steps.data
    assert steps.shape == (3, 33, 33)
    (reference, ) = predict(
        model, inputs, num_steps=3, return_all_steps=True)
    assert torch.equal(steps, reference.pred_sem_seg_steps.data)


@pytest.mark.parametrize('budget', [0, -5.0, 'fast', True])
def test_a_budget_that_is_not_a_positive_number_names_the_key(model, budget):
    with pytest.raises(ValueError, match='model.test_cfg.time_budget_ms'):
        predict(model, torch.randn(1, 3, 33, 33), time_budget_ms=budget)


def test_a_budget_with_adaptive_exit_is_refused(model):
    with pytest.raises(ValueError, match='time_budget_ms and model.test_cfg.'
                       'adaptive_exit'):
        predict(
            model,
            torch.randn(1, 3, 33, 33),
            time_budget_ms=50.0,
            return_all_steps=False,
            adaptive_exit=dict(min_steps=2))


def test_take_steps_runs_each_step_only_when_asked():
    times = iter([0.0, 4.0, 7.0, 10.0, 13.0])
    budget = TimeBudget(12.0, torch.device('cpu'), lambda _: next(times))
    ran = []

    def steps():
        while True:
            ran.append(len(ran) + 1)
            yield len(ran)

    # Backbone 4 ms, steps 3 ms: after step 2 (10 ms), 10 + 3 > 12.
    kept, steps_run = take_steps(steps(), 6, budget, keep_all=True)
    assert (kept, steps_run, ran) == ([1, 2], 2, [1, 2])
    assert take_steps(iter(range(10)), 3) == ([2], 3)


def test_check_time_budget_names_the_key():
    assert check_time_budget(20, 'time_budget_ms') == 20.0
    with pytest.raises(ValueError, match='my.key must be a positive'):
        check_time_budget(-1, 'my.key')
