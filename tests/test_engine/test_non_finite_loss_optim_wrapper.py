"""A NaN or infinite loss stops training naming the iteration, or is
skipped, before it reaches the weights or the optimizer state; in mixed
precision too (NonFiniteLossAmpOptimWrapper)."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.registry import OPTIM_WRAPPERS

from mmseg_convlstm.engine import (NonFiniteLossAmpOptimWrapper,
                                   NonFiniteLossError,
                                   NonFiniteLossOptimWrapper)


def _model_and_wrapper(wrapper_type=NonFiniteLossOptimWrapper, **kwargs):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, wrapper_type(optimizer=optimizer, **kwargs)


def _loss(model, scale=1.0):
    return model(torch.ones(1, 3)).sum() * scale


def _state(model, wrapper):
    """The weights and the momentum buffers."""
    return ([param.detach().clone() for param in model.parameters()], [
        state['momentum_buffer'].clone()
        for state in wrapper.optimizer.state.values()
    ])


def _assert_same(state, other):
    for tensors, other_tensors in zip(state, other):
        assert len(tensors) == len(other_tensors)
        for tensor, other_tensor in zip(tensors, other_tensors):
            assert torch.equal(tensor, other_tensor)


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_stop_names_the_iteration_and_leaves_the_weights(bad):
    model, wrapper = _model_and_wrapper()
    wrapper.update_params(_loss(model))
    before = _state(model, wrapper)
    MessageHub.get_current_instance().update_info('iter', 41)

    with pytest.raises(NonFiniteLossError, match='at iteration 42'):
        wrapper.update_params(_loss(model, bad))

    _assert_same(before, _state(model, wrapper))
    assert all(param.grad is None for param in model.parameters())


def test_skip_drops_the_iteration_and_training_goes_on_unharmed():
    model, wrapper = _model_and_wrapper(non_finite_loss='skip')
    reference, reference_wrapper = _model_and_wrapper(OptimWrapper)
    for scale in (1.0, float('nan'), 2.0):
        wrapper.update_params(_loss(model, scale))
        if scale == scale:  # the reference never sees the NaN
            reference_wrapper.update_params(_loss(reference, scale))

    _assert_same(_state(reference, reference_wrapper), _state(model, wrapper))
    assert all(torch.isfinite(param).all() for param in model.parameters())


def test_skip_with_accumulation_drops_the_window_it_ends():
    model, wrapper = _model_and_wrapper(
        non_finite_loss='skip', accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 4)
    before = _state(model, wrapper)
    wrapper.update_params(_loss(model))
    wrapper.update_params(_loss(model, float('nan')))

    _assert_same(before, _state(model, wrapper))
    assert all(param.grad is None for param in model.parameters())
    wrapper.update_params(_loss(model))
    wrapper.update_params(_loss(model))
    assert not torch.equal(before[0][0], model.weight)


def test_skip_restores_the_batchnorm_statistics_of_the_bad_batch():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    wrapper = NonFiniteLossOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        non_finite_loss='skip')
    statistics = [buffer.clone() for buffer in model.buffers()]

    with wrapper.optim_context(model):
        loss = model(torch.full((2, 3), float('inf'))).sum()
    assert not torch.isfinite(model[1].running_mean).all()
    wrapper.update_params(loss)

    for buffer, saved in zip(model.buffers(), statistics):
        assert torch.equal(buffer, saved)


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="'stop', 'skip'"):
        _model_and_wrapper(non_finite_loss='ignore')


@pytest.fixture
def amp_on_cpu(monkeypatch):
    """AmpOptimWrapper on the CPU: it refuses to start without a GPU, and
    its loss scaler disables itself without CUDA (bf16 needs none)."""
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_the_amp_wrapper_stops_before_the_weights_too(amp_on_cpu, bad):
    model, wrapper = _model_and_wrapper(
        NonFiniteLossAmpOptimWrapper, dtype='bfloat16')
    assert isinstance(wrapper, AmpOptimWrapper)
    with wrapper.optim_context(model):
        wrapper.update_params(_loss(model))
    before = _state(model, wrapper)
    MessageHub.get_current_instance().update_info('iter', 6)

    with pytest.raises(NonFiniteLossError, match='at iteration 7'):
        with wrapper.optim_context(model):
            wrapper.update_params(_loss(model, bad))

    _assert_same(before, _state(model, wrapper))


def test_the_amp_wrapper_skips_under_autocast_and_restores_buffers(
        amp_on_cpu):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    wrapper = NonFiniteLossAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        non_finite_loss='skip',
        dtype='bfloat16')
    statistics = [buffer.clone() for buffer in model.buffers()]
    weights = [param.detach().clone() for param in model.parameters()]

    with wrapper.optim_context(model):
        outputs = model(torch.full((2, 3), float('inf')))
        assert outputs.dtype == torch.bfloat16  # under autocast
    wrapper.update_params(outputs.float().sum())

    for buffer, saved in zip(model.buffers(), statistics):
        assert torch.equal(buffer, saved)
    for param, saved in zip(model.parameters(), weights):
        assert torch.equal(param, saved)
        assert param.grad is None


def test_the_amp_wrapper_is_registered():
    assert OPTIM_WRAPPERS.get('NonFiniteLossAmpOptimWrapper') is \
        NonFiniteLossAmpOptimWrapper
