"""The deployed host loop runs the steps that the PyTorch model runs, with
the same test_cfg keys: fixed steps, time budget, per-image and
per-position exit."""
import pytest
import torch
from torch.testing import assert_close

from mmseg_convlstm.models.exits.step_loop import run_until
from .conftest import BACKENDS, NUM_STEPS, deployed, reference

SIZES = [(1, 64, 96), (3, 37, 53), (2, 97, 65)]


def agreement(first, second):
    return (first == second).float().mean().item()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def test_ten_chained_steps_follow_pytorch(deployment, backend):
    image = torch.randn(2, 3, 64, 96)
    model = reference(deployment, return_all_steps=True)
    segmentor = deployed(deployment, backend, return_all_steps=True)
    with torch.no_grad():
        expected, _ = model.decode_head.run_steps(
            model.head_features(image), NUM_STEPS)
        predictions = model.predict(image)
    run = run_until(segmentor.step_runner(image), NUM_STEPS, keep_all=True)
    assert_close(run.canvases, expected, rtol=1e-3, atol=1e-5)
    for prediction, output in zip(predictions, segmentor.predict(image)):
        steps = prediction.pred_sem_seg_steps.data
        assert output.pred_sem_seg_steps.data.shape == steps.shape
        for step in range(NUM_STEPS):
            assert agreement(output.pred_sem_seg_steps.data[step],
                             steps[step]) >= 0.999


def test_the_steps_reuse_two_sets_of_state_buffers(plain_deployment):
    runner = deployed(plain_deployment,
                      'onnxruntime').step_runner(torch.randn(1, 3, 64, 96))
    states = [runner.step() for _ in range(3)]
    pointers = [[tensor.data_ptr() for tensor in state.tensors()[:-1]]
                for state in states]
    assert pointers[0] == pointers[2]
    assert not set(pointers[0]) & set(pointers[1])
    canvases = {state.canvas.data_ptr() for state in states}
    assert len(canvases) == 3


@pytest.mark.parametrize('shape', SIZES)
def test_any_batch_and_size_gives_pytorchs_labels(deployment, shape):
    image = torch.randn(shape[0], 3, *shape[1:])
    with torch.no_grad():
        expected = reference(deployment).predict(image)
    for output, prediction in zip(
            deployed(deployment, 'onnxruntime').predict(image), expected):
        assert output.pred_sem_seg.data.shape == (1, *shape[1:])
        assert agreement(output.pred_sem_seg.data,
                         prediction.pred_sem_seg.data) >= 0.999


def test_adaptive_exit_stops_each_image_at_pytorchs_step(deployment, backend):
    exit_cfg = dict(adaptive_exit=dict(min_steps=2, change_fraction=0.05))
    image = torch.randn(4, 3, 64, 96)
    with torch.no_grad():
        expected = reference(deployment, **exit_cfg).predict(image)
    outputs = deployed(deployment, backend, **exit_cfg).predict(image)
    steps = [output.num_steps_used for output in outputs]
    assert steps == [prediction.num_steps_used for prediction in expected]
    assert len(set(steps)) > 1 or steps[0] < NUM_STEPS
    for output, prediction in zip(outputs, expected):
        assert agreement(output.pred_sem_seg.data,
                         prediction.pred_sem_seg.data) >= 0.999


def test_per_position_exit_equals_pytorchs(deployment, backend):
    exit_cfg = dict(
        adaptive_exit=dict(per_position=True, settle_steps=2, min_steps=1))
    image = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        expected = reference(deployment, **exit_cfg).predict(image)
    outputs = deployed(deployment, backend, **exit_cfg).predict(image)
    for output, prediction in zip(outputs, expected):
        exit_steps = prediction.exit_steps.data
        assert torch.equal(output.exit_steps.data, exit_steps)
        assert 1 < exit_steps.float().mean() < NUM_STEPS
        for key in ('num_steps_used', 'mean_position_steps', 'head_macs',
                    'macs'):
            assert output.metainfo[key] == prediction.metainfo[key], key
        assert agreement(output.pred_sem_seg.data,
                         prediction.pred_sem_seg.data) >= 0.999


@pytest.mark.parametrize('budget_ms, steps', [(1e-3, 1), (1e6, NUM_STEPS)])
def test_a_time_budget_runs_the_steps_that_fit(plain_deployment, backend,
                                               budget_ms, steps):
    segmentor = deployed(plain_deployment, backend, time_budget_ms=budget_ms)
    outputs = segmentor.predict(torch.randn(2, 3, 64, 96))
    assert [output.num_steps_used for output in outputs] == [steps] * 2
