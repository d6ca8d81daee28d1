"""test_cfg.time_budget_ms: steps run while the next one fits in what is
left of the budget, timed by an injected clock on which every part of the
model costs a known time: the backbone, the bottom cell's input projection,
a first step dearer than the later ones, and a first image of each shape
dearer still (autotuning, a capture), which the budget must not count."""
import pytest
import torch
from mmengine.config import Config, ConfigDict

from mmseg.registry import MODELS
from mmseg_convlstm.models.exits import time_budget
from mmseg_convlstm.models.acceleration.cuda_graph_steps import CUDAGraphSteps
from mmseg_convlstm.models.exits.exit_settings import check_time_budget
from mmseg_convlstm.models.exits.step_loop import (StepRunner, StopRule,
                                                   run_until)
from mmseg_convlstm.models.exits.time_budget import (BudgetRule, TimeBudget,
                                                     device_time_ms)
from mmseg_convlstm.models.layers import RecurrentState
from tests.conftest import DEMO_CONFIG
from tests.step_clock import StepCostClock
from tests.test_models.recorded_graphs import RecordingGraphBackend

BACKBONE_MS = 10.0
PROJECTION_MS = 7.0
STEP_MS = (6.0, 4.0)  # the first step, then every later one
NEW_SHAPE_MS = 50.0
# Spent after step n: 17 + 6 + 4 (n - 1); step n + 1 runs when that plus
# the last step's time fits: 29 after step 1, 31 after step 2, 35, 39.
EXPECTED_STEPS = {1.0: 1, 28.9: 1, 29.0: 2, 31.0: 3, 34.9: 3, 1000.0: 5}


@pytest.fixture
def model():
    segmentor = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    segmentor.init_weights()
    segmentor.eval()
    return segmentor


@pytest.fixture
def clock(model):
    step_clock = StepCostClock(model, BACKBONE_MS, STEP_MS, PROJECTION_MS,
                               NEW_SHAPE_MS)
    model.clock = step_clock
    yield step_clock
    del model.clock
    step_clock.remove()


@pytest.fixture
def graphs_on_cpu(monkeypatch, clock):
    """Steps replayed from stand-in graphs, whose replays advance the clock
    as the eager steps do."""
    monkeypatch.setattr(CUDAGraphSteps, 'backend',
                        RecordingGraphBackend(clock.replayed_op))


def predict(model, inputs, **test_cfg):
    model.test_cfg = ConfigDict(mode='whole', **test_cfg)
    with torch.no_grad():
        return model.predict(inputs)


def timed_ms(steps: int) -> float:
    """What the budget counts of a run of ``steps`` steps."""
    later_steps = STEP_MS[1] * (steps - 1)
    return BACKBONE_MS + PROJECTION_MS + STEP_MS[0] + later_steps


def check_budget_runs_the_steps_that_fit(model, budget_ms, **options):
    inputs = torch.randn(2, 3, 33, 41)
    results = predict(
        model, inputs, num_steps=5, time_budget_ms=budget_ms, **options)

    steps = EXPECTED_STEPS[budget_ms]
    assert [result.num_steps_used for result in results] == [steps, steps]
    fixed = predict(model, inputs, num_steps=steps)
    for result, reference in zip(results, fixed):
        assert torch.equal(result.pred_sem_seg.data,
                           reference.pred_sem_seg.data)
        torch.testing.assert_close(result.seg_logits.data,
                                   reference.seg_logits.data)


@pytest.mark.parametrize('budget_ms', sorted(EXPECTED_STEPS))
def test_budget_runs_the_steps_that_fit_with_the_labels_of_that_many(
        model, clock, budget_ms):
    check_budget_runs_the_steps_that_fit(model, budget_ms)


@pytest.mark.parametrize('capture_after', [1, 2])
@pytest.mark.parametrize('budget_ms', sorted(EXPECTED_STEPS))
def test_budget_with_cuda_graphs_runs_the_steps_that_fit(
        model, graphs_on_cpu, budget_ms, capture_after):
    """Replayed (captured at the first use) or eager (not yet captured)."""
    check_budget_runs_the_steps_that_fit(
        model,
        budget_ms,
        cuda_graph=True,
        cuda_graph_capture_after=capture_after)
    captured = len(model._cuda_graph_steps.captured_keys)
    assert captured == int(capture_after == 1)


def test_the_first_image_of_a_shape_is_warmed_up_before_the_clock(
        model, clock):
    """The first image of a shape runs one backbone pass and one step
    untimed (paying for the new shape), then the timed run; later images of
    that shape only the timed run. Every image runs the steps that fit."""
    steps = EXPECTED_STEPS[31.0]
    warm_up_ms = NEW_SHAPE_MS + timed_ms(1)
    for shape, cost in [((1, 3, 33, 33), warm_up_ms + timed_ms(steps)),
                        ((1, 3, 33, 33), timed_ms(steps)),
                        ((1, 3, 33, 41), warm_up_ms + timed_ms(steps))]:
        start = clock.now
        (result, ) = predict(
            model, torch.randn(*shape), num_steps=5, time_budget_ms=31.0)
        assert result.num_steps_used == steps
        assert clock.now - start == cost


def test_a_new_shape_is_warmed_up_or_captured_before_the_clock(
        model, graphs_on_cpu):
    """A shape's first use runs eagerly, warmed up untimed; its second use
    captures, untimed; the third replays. Each runs the steps that fit."""
    for shape in [(1, 3, 33, 33), (1, 3, 33, 33), (1, 3, 33, 33),
                  (1, 3, 33, 41)]:
        (result, ) = predict(
            model,
            torch.randn(*shape),
            num_steps=5,
            time_budget_ms=31.0,
            cuda_graph=True)
        assert result.num_steps_used == EXPECTED_STEPS[31.0]
    captured = [key[0] for key in model._cuda_graph_steps.captured_keys]
    assert captured == [(1, 3, 33, 33)]


def test_budget_with_all_steps_stores_the_steps_it_ran(model, clock):
    inputs = torch.randn(1, 3, 33, 33)
    (result, ) = predict(
        model, inputs, num_steps=5, time_budget_ms=31.0, return_all_steps=True)

    assert result.num_steps_used == 3
    steps = result.pred_sem_seg_steps.data
    assert steps.shape == (3, 33, 33)
    (reference, ) = predict(model, inputs, num_steps=3, return_all_steps=True)
    assert torch.equal(steps, reference.pred_sem_seg_steps.data)


@pytest.mark.parametrize('budget', [0, -5.0, 'fast', True])
def test_a_budget_that_is_not_a_positive_number_names_the_key(model, budget):
    with pytest.raises(ValueError, match='model.test_cfg.time_budget_ms'):
        predict(model, torch.randn(1, 3, 33, 33), time_budget_ms=budget)


def test_a_budget_with_adaptive_exit_is_refused(model):
    with pytest.raises(
            ValueError, match='time_budget_ms and model.test_cfg.'
            'adaptive_exit'):
        predict(
            model,
            torch.randn(1, 3, 33, 33),
            time_budget_ms=50.0,
            return_all_steps=False,
            adaptive_exit=dict(min_steps=2))


class CountingSteps(StepRunner):
    """Steps whose canvas is the number of the step; ``ran`` lists them."""

    def __init__(self, ran=None):
        self.batch_size = 1
        self.ran = ran if ran is not None else []

    def step(self):
        self.ran.append(len(self.ran) + 1)
        return RecurrentState([], torch.tensor([len(self.ran)]))


def take_steps(runner, max_steps, budget=None, keep_all=False, key='steps'):
    """The canvases kept and the steps run by the one step loop."""
    rule = BudgetRule(budget) if budget is not None else StopRule()
    run = run_until(runner, max_steps, rule, keep_all=keep_all, key=key)
    canvases = run.canvases if keep_all else [run.state.canvas]
    return [int(canvas) for canvas in canvases], run.steps_run


def test_take_steps_runs_each_step_only_when_asked():
    times = iter([0.0, 4.0, 7.0, 10.0, 13.0])
    budget = TimeBudget(12.0, torch.device('cpu'), lambda _: next(times))
    ran = []

    # Backbone 4 ms, steps 3 ms: after step 2 (10 ms), 10 + 3 > 12.
    kept, steps_run = take_steps(CountingSteps(ran), 6, budget, keep_all=True)
    assert (kept, steps_run, ran) == ([1, 2], 2, [1, 2])
    assert take_steps(CountingSteps(), 3) == ([3], 3)


def test_the_next_step_is_expected_to_take_as_long_as_the_last():
    # Start 0, steps from 1: step 1 ends at 7 (6 ms), and 7 + 6 fits in 13;
    # step 2 ends at 9 (2 ms), and 9 + 2 fits (9 + 6, as long as the first
    # step, would not).
    times = iter([0.0, 1.0, 7.0, 9.0])
    budget = TimeBudget(13.0, torch.device('cpu'), lambda _: next(times))
    assert take_steps(CountingSteps(), 3, budget) == ([3], 3)


def test_device_time_ms_is_milliseconds_after_synchronising(monkeypatch):
    synchronised = []
    monkeypatch.setattr(time_budget.time, 'perf_counter', lambda: 2.5)
    monkeypatch.setattr(torch.cuda, 'synchronize', synchronised.append)
    assert device_time_ms(torch.device('cpu')) == 2500.0
    assert synchronised == []
    cuda = torch.device('cuda', 1)
    assert device_time_ms(cuda) == 2500.0
    assert synchronised == [cuda]


def test_take_steps_needs_a_step_and_names_the_key():
    with pytest.raises(
            ValueError, match='my.steps must be an integer of at '
            'least 1'):
        take_steps(CountingSteps(), 0, key='my.steps')


def test_check_time_budget_names_the_key():
    assert check_time_budget(20, 'time_budget_ms') == 20.0
    with pytest.raises(ValueError, match='my.key must be a positive'):
        check_time_budget(-1, 'my.key')
