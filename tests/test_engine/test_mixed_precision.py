import pytest

from mmseg_convlstm.engine.mixed_precision import optim_wrapper_in_precision

SGD = dict(type='SGD', lr=1e-3, momentum=0.95)


@pytest.mark.parametrize('precision, dtype', [('fp16', 'float16'),
                                              ('bf16', 'bfloat16')])
def test_mixed_precision_trains_with_amp_optim_wrapper(precision, dtype):
    amp = optim_wrapper_in_precision(dict(optimizer=SGD), precision)

    assert amp == dict(
        type='AmpOptimWrapper',
        optimizer=SGD,
        dtype=dtype,
        loss_scale='dynamic')


@pytest.mark.parametrize('precision', ['fp16', 'bf16'])
def test_mixed_precision_keeps_the_non_finite_loss_guard(precision):
    config = dict(
        type='NonFiniteLossOptimWrapper',
        optimizer=SGD,
        non_finite_loss='skip')

    amp = optim_wrapper_in_precision(config, precision)

    assert amp.type == 'NonFiniteLossAmpOptimWrapper'
    assert amp.non_finite_loss == 'skip'
    assert config['type'] == 'NonFiniteLossOptimWrapper'
    assert optim_wrapper_in_precision(amp, 'fp32') == config
    assert optim_wrapper_in_precision(amp, 'bf16').type == \
        'NonFiniteLossAmpOptimWrapper'


def test_fp32_drops_the_amp_settings_and_keeps_other_wrappers():
    amp = optim_wrapper_in_precision(dict(optimizer=SGD), 'bf16')
    guarded = dict(type='NonFiniteLossOptimWrapper', optimizer=SGD)

    assert optim_wrapper_in_precision(amp, 'fp32') == dict(
        type='OptimWrapper', optimizer=SGD)
    assert optim_wrapper_in_precision(guarded, 'fp32') == guarded


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        optim_wrapper_in_precision(dict(optimizer=SGD), 'fp8')


@pytest.mark.parametrize('cuda', [False, True])
def test_amp_is_refused_only_without_a_device_naming_the_option(
        monkeypatch, cuda):
    from mmseg_convlstm.engine import mixed_precision
    for name in ('is_cuda_available', 'is_npu_available', 'is_mlu_available',
                 'is_musa_available'):
        monkeypatch.setattr(mixed_precision, name, lambda: False)
    monkeypatch.setattr(mixed_precision, 'is_cuda_available', lambda: cuda)
    if cuda:
        mixed_precision.check_amp_available('--amp')
    else:
        with pytest.raises(RuntimeError, match='^--amp: .* needs a GPU'):
            mixed_precision.check_amp_available('--amp')
