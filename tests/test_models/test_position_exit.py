"""Per-position adaptive exit: every feature position stops stepping once
its label settles or is confident, and keeps the canvas of a dense run
after its exit step."""
import pytest
import torch
from mmengine.config import ConfigDict

from mmseg_convlstm.models import ConvLSTMCanvasHead
from mmseg_convlstm.models.exits.position_exit import (
    PositionExitRule, advance_positions, run_until_positions_settle)
from mmseg_convlstm.models.exits.step_policies import (FixedSteps, ImageExit,
                                                       PositionExit,
                                                       TimeBudgetSteps,
                                                       build_step_policy)
from mmseg_convlstm.models.segmentors import recurrent_encoder_decoder
from mmseg_convlstm.utils.complexity import (input_projection_cache,
                                             position_macs, recurrent_macs)
from mmseg_convlstm.benchmarks.video_macs import recurrent_step_macs
from tests.tiny_head import tiny_head

NUM_CLASSES = 5
MAX_STEPS = 6


def make_head(cache_input_projection: bool = True,
              kernel_size: int = 1) -> ConvLSTMCanvasHead:
    return tiny_head(
        NUM_CLASSES,
        MAX_STEPS,
        kernel_size=kernel_size,
        cache_input_projection=cache_input_projection)


def images_of_different_difficulty() -> torch.Tensor:
    """Four images whose features grow in scale, so that their positions
    settle at different steps."""
    torch.manual_seed(4)
    scales = torch.tensor([0.5, 2.0, 5.0, 10.0]).view(4, 1, 1, 1)
    return torch.randn(4, 8, 7, 9) * scales


def between_observed(values: torch.Tensor) -> float:
    """A threshold between two observed values near their median, so that
    some positions pass it and others not, and none sits on it."""
    unique = values.flatten().unique()
    middle = len(unique) // 2
    return float(unique[middle - 1:middle + 1].mean())


def expected_exit_steps(canvases: torch.Tensor, min_steps: int, settle_steps,
                        confidence) -> torch.Tensor:
    """The exit step of every position (N, h, w) judged on the canvases of
    a dense run (T, N, K, h, w): the first step from ``min_steps`` at which
    the label has not changed for ``settle_steps`` steps or the top
    probability reaches ``confidence``; else the last step."""
    labels = canvases.argmax(dim=2)
    top_probability = canvases.softmax(dim=2).amax(dim=2)
    num_steps = canvases.shape[0]
    exit_steps = torch.full(labels.shape[1:], num_steps)
    stopped = torch.zeros(labels.shape[1:], dtype=torch.bool)
    unchanged = torch.zeros_like(labels[0])
    for step in range(1, num_steps):
        if step > 1:
            same = labels[step - 1] == labels[step - 2]
            unchanged = (unchanged + 1) * same
        stops = torch.zeros_like(stopped)
        if step >= min_steps:
            if settle_steps is not None:
                stops |= unchanged >= settle_steps
            if confidence is not None:
                stops |= top_probability[step - 1] >= confidence
        exit_steps[stops & ~stopped] = step
        stopped |= stops
    return exit_steps


@pytest.mark.parametrize('cache', [True, False])
@pytest.mark.parametrize('min_steps, settle_steps, use_confidence', [
    (1, 1, False),
    (2, 2, False),
    (1, None, True),
    (2, 1, True),
])
def test_each_position_keeps_the_dense_canvas_of_its_exit_step(
        cache, min_steps, settle_steps, use_confidence):
    head = make_head(cache)
    features = images_of_different_difficulty()
    with torch.no_grad():
        dense, _ = head.run_steps(features, MAX_STEPS)
    dense = torch.stack(dense)
    confidence = None
    if use_confidence:
        confidence = between_observed(dense.softmax(dim=2).amax(dim=2))
    rule = PositionExitRule(min_steps, settle_steps, confidence)

    with torch.no_grad():
        canvas, exit_steps = run_until_positions_settle(
            head, features, MAX_STEPS, rule)

    expected = expected_exit_steps(dense, min_steps, settle_steps, confidence)
    assert torch.equal(exit_steps, expected)
    at_exit = dense.gather(0, (exit_steps - 1)[None, :, None].expand(
        1, -1, NUM_CLASSES, -1, -1))[0]
    torch.testing.assert_close(canvas, at_exit, rtol=0, atol=1e-5)
    # The batch mixes exit steps within and across images.
    assert len(exit_steps.unique()) > 1
    assert len(exit_steps.float().mean(dim=(1, 2)).unique()) >= 3


def test_every_position_stops_at_max_steps():
    head = make_head()
    features = images_of_different_difficulty()
    never = PositionExitRule(1, None, 1.0)
    with torch.no_grad():
        canvas, exit_steps = run_until_positions_settle(
            head, features, 4, never)
        dense, _ = head.run_steps(features, 4)
    assert (exit_steps == 4).all()
    torch.testing.assert_close(canvas, dense[-1], rtol=0, atol=1e-5)


def test_stopped_positions_are_not_computed_again():
    """Each step runs only the positions still running: the rule sees as
    many rows as have not stopped."""
    head = make_head()
    features = images_of_different_difficulty()
    seen = []
    rule = PositionExitRule(1, 1, None)

    def recording_rule(step, canvas):
        seen.append(canvas.shape[0])
        return rule(step, canvas)

    with torch.no_grad():
        _, exit_steps = run_until_positions_settle(head, features, MAX_STEPS,
                                                   recording_rule)
    running = [int((exit_steps >= step).sum()) for step in range(1, MAX_STEPS)]
    assert seen == running[:len(seen)]
    assert seen[-1] < seen[0]


def test_a_head_that_couples_positions_is_refused():
    head = make_head(kernel_size=3)
    with pytest.raises(ValueError) as error:
        run_until_positions_settle(head, torch.randn(1, 8, 5, 5), 3,
                                   PositionExitRule(1, 1, None))
    assert 'model.decode_head.kernel_size=3' in str(error.value)
    assert 'adaptive_exit.per_position' in str(error.value)


def carried_state(head, features, steps=2):
    """The state a frame leaves after ``steps`` dense steps."""
    with torch.no_grad():
        return head.run_steps(features, steps)[1]


@pytest.mark.parametrize('cache', [True, False])
def test_positions_stepped_from_a_carried_state_equal_dense_steps(cache):
    head = make_head(cache)
    features = images_of_different_difficulty()
    state = carried_state(head, features)
    next_features = features.flip(-1)
    with torch.no_grad():
        dense = head.run_steps(next_features, 3, state)[1]
        stepped, exit_steps = advance_positions(
            head, next_features, 3, PositionExitRule(1, None, None), state)
    assert (exit_steps == 3).all()
    for got, expected in zip(stepped.tensors(), dense.tensors()):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_positions_that_do_not_run_keep_their_state_exactly():
    head = make_head()
    features = images_of_different_difficulty()
    state = carried_state(head, features)
    runs = torch.rand(features.shape[0], *features.shape[2:]) < 0.4
    given = [tensor.clone() for tensor in state.tensors()]
    with torch.no_grad():
        dense = head.run_steps(features, 2, state)[1]
        stepped, exit_steps = advance_positions(
            head, features, 2, PositionExitRule(1, None, None), state, runs)
    assert torch.equal(exit_steps, runs.long() * 2)
    ran = runs[:, None]
    for got, before, after in zip(stepped.tensors(), state.tensors(),
                                  dense.tensors()):
        assert torch.equal(got.masked_select(~ran), before.masked_select(~ran))
        torch.testing.assert_close(
            got.masked_select(ran),
            after.masked_select(ran),
            rtol=0,
            atol=1e-5)
    # The state given is left as it was: the caller may hold it.
    assert all(map(torch.equal, state.tensors(), given))


def test_no_position_running_returns_the_state_unchanged():
    head = make_head()
    features = images_of_different_difficulty()
    state = carried_state(head, features)
    runs = torch.zeros(features.shape[0], *features.shape[2:], dtype=bool)
    with torch.no_grad():
        stepped, exit_steps = advance_positions(head, features, 3,
                                                PositionExitRule(1, 1, None),
                                                state, runs)
    assert (exit_steps == 0).all()
    for got, before in zip(stepped.tensors(), state.tensors()):
        assert torch.equal(got, before)


@pytest.mark.parametrize('state_given, runs_shape, message', [
    (False, (4, 7, 9), 'not from zeros'),
    (True, (4, 7, 8), 'one flag per feature position'),
])
def test_bad_running_positions_are_refused(state_given, runs_shape, message):
    head = make_head()
    features = images_of_different_difficulty()
    state = carried_state(head, features) if state_given else None
    with pytest.raises(ValueError, match=message):
        advance_positions(head, features, 2, PositionExitRule(1, 1, None),
                          state, torch.ones(runs_shape, dtype=bool))


@pytest.mark.parametrize('test_cfg, policy_type', [
    (dict(), FixedSteps),
    (dict(time_budget_ms=20.0), TimeBudgetSteps),
    (dict(adaptive_exit=dict(min_steps=2)), ImageExit),
    (dict(adaptive_exit=dict(per_position=False, min_steps=2)), ImageExit),
    (dict(adaptive_exit=dict(per_position=True, settle_steps=2)),
     PositionExit),
])
def test_the_policy_is_chosen_from_test_cfg(test_cfg, policy_type):
    policy = build_step_policy(ConfigDict(test_cfg), 5)
    assert type(policy) is policy_type


def test_position_exit_defaults_to_num_steps():
    policy = build_step_policy(
        ConfigDict(adaptive_exit=dict(per_position=True, confidence=0.9)), 7)
    assert (policy.max_steps, policy.min_steps, policy.settle_steps,
            policy.confidence) == (7, 1, None, 0.9)


@pytest.mark.parametrize('exit_cfg, message', [
    (dict(settle_steps=0), 'adaptive_exit.settle_steps must be an integer'),
    (dict(settle_steps=1.5), 'adaptive_exit.settle_steps must be an integer'),
    (dict(confidence=0.0), r'adaptive_exit.confidence must be a probability'),
    (dict(confidence=1.5), r'adaptive_exit.confidence must be a probability'),
    (dict(), 'needs settle_steps, confidence or both'),
    (dict(settle_steps=1,
          min_steps=0), 'adaptive_exit.min_steps must be an integer'),
    (dict(settle_steps=1, min_steps=6, max_steps=5),
     r'adaptive_exit.min_steps \(6\) must not exceed max_steps \(5\)'),
    (dict(settle_steps=1, change_fraction=0.1), 'unknown keys'),
    (dict(per_position='yes',
          settle_steps=1), 'adaptive_exit.per_position must be True or False'),
])
def test_bad_position_exit_settings_name_the_key(exit_cfg, message):
    exit_cfg = dict(dict(per_position=True), **exit_cfg)
    with pytest.raises(ValueError, match=message):
        build_step_policy(ConfigDict(adaptive_exit=exit_cfg), 5)


def predict(model, inputs, **test_cfg):
    saved = model.test_cfg
    model.test_cfg = ConfigDict({'mode': 'whole', **test_cfg})
    try:
        with torch.no_grad():
            return model.predict(inputs)
    finally:
        model.test_cfg = saved


def batch() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(3, 3, 65, 65) * torch.tensor([0.1, 1, 3]).view(
        3, 1, 1, 1)


def test_segmentor_stores_exit_steps_their_mean_and_the_macs(segmentor):
    inputs = batch()
    results = predict(
        segmentor,
        inputs,
        num_steps=4,
        adaptive_exit=dict(per_position=True, settle_steps=1))

    with torch.no_grad():
        features = segmentor.extract_feat(inputs)
    feature_shape = features[0].shape[2:]
    macs = recurrent_macs(segmentor, (65, 65), 1)
    head_macs = position_macs(segmentor.decode_head)
    for result in results:
        exit_steps = result.exit_steps.data
        assert exit_steps.shape == (1, *feature_shape)
        assert 1 <= exit_steps.min() and exit_steps.max() <= 4
        assert result.num_steps_used == int(exit_steps.max())
        assert result.mean_position_steps == pytest.approx(
            exit_steps.float().mean().item())
        assert result.head_macs == head_macs.head(exit_steps)
        assert result.macs == macs.backbone + result.head_macs
    assert len({result.mean_position_steps for result in results}) > 1


def test_positions_that_all_run_t_steps_predict_as_t_fixed_steps(segmentor):
    inputs = batch()
    results = predict(
        segmentor,
        inputs,
        num_steps=3,
        adaptive_exit=dict(per_position=True, min_steps=3, settle_steps=1))
    fixed = predict(segmentor, inputs, num_steps=3)
    macs = recurrent_macs(segmentor, (65, 65), 3)
    for result, reference in zip(results, fixed):
        assert (result.exit_steps.data == 3).all()
        assert torch.equal(result.pred_sem_seg.data,
                           reference.pred_sem_seg.data)
        torch.testing.assert_close(
            result.seg_logits.data,
            reference.seg_logits.data,
            rtol=0,
            atol=1e-5)
        assert result.macs == macs.total(3)


@pytest.mark.parametrize('cached', [True, False])
def test_position_macs_add_up_to_the_counted_macs_of_a_dense_run(
        segmentor, cached):
    """MMEngine's counter on a dense run of T steps counts what every
    position spends in T steps, with and without the cached projection."""
    with input_projection_cache(segmentor, cached):
        counted = recurrent_macs(segmentor, (65, 65), 3)
        per_position = position_macs(segmentor.decode_head)
    with torch.no_grad():
        feature_shape = segmentor.extract_feat(torch.zeros(1, 3, 65,
                                                           65))[0].shape[2:]
    for steps in (1, 2, 3):
        exit_steps = torch.full(tuple(feature_shape), steps)
        assert per_position.head(exit_steps) == counted.head[steps - 1]
    assert (per_position.projection > 0) == cached


@pytest.mark.parametrize('cached', [True, False])
def test_position_macs_from_a_carried_state_match_the_counter(
        segmentor, cached):
    """From a video frame's carried state every step has its recurrent
    convolutions, and positions that skip the frame cost nothing."""
    head = segmentor.decode_head
    with torch.no_grad():
        features = head._transform_inputs(
            segmentor.extract_feat(torch.zeros(1, 3, 65, 65)))
    with input_projection_cache(segmentor, cached):
        per_position = position_macs(head)
        for steps in (1, 2):
            counted = recurrent_step_macs(
                head, features, steps, carried_state=True)
            exit_steps = torch.full(tuple(features.shape[2:]), steps)
            assert per_position.head(exit_steps, carried_state=True) == counted
    exit_steps[0] = 0
    running = exit_steps.numel() - exit_steps.shape[1]
    assert per_position.head(
        exit_steps, carried_state=True) == running * (
            per_position.projection + 2 * per_position.later_step)


def test_position_exit_cannot_return_all_steps(segmentor):
    with pytest.raises(ValueError, match='return_all_steps=False'):
        predict(
            segmentor,
            torch.randn(1, 3, 33, 33),
            return_all_steps=True,
            adaptive_exit=dict(per_position=True, settle_steps=1))


def test_position_exit_needs_whole_mode(segmentor):
    with pytest.raises(
            ValueError, match="adaptive_exit needs model.test_cfg."
            "mode='whole'"):
        predict(
            segmentor,
            torch.randn(1, 3, 33, 33),
            mode='slide',
            adaptive_exit=dict(per_position=True, settle_steps=1))


def test_position_exit_with_cuda_graph_runs_eagerly(segmentor, monkeypatch):
    messages = []
    monkeypatch.setattr(recurrent_encoder_decoder, 'print_log',
                        lambda message, **kwargs: messages.append(message))
    segmentor._eager_messages_logged.clear()
    (result, ) = predict(
        segmentor,
        batch()[:1],
        num_steps=3,
        cuda_graph=True,
        adaptive_exit=dict(per_position=True, settle_steps=1))
    assert 'exit_steps' in result
    assert len(messages) == 1
    assert 'cuda_graph=True with adaptive_exit' in messages[0]
    assert 'runs eagerly' in messages[0]
