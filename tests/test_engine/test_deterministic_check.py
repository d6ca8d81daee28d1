"""randomness.deterministic=True on CUDA refuses, before training, a loss
that upsamples with F.interpolate(mode='bilinear') (MMSeg's loss_by_feat,
whose CUDA backward has no deterministic implementation), naming the keys;
the CPU, non-deterministic runs and the fast step losses go on."""
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmseg.registry import MODELS
from mmseg_convlstm.engine import (check_deterministic_training,
                                   interpolated_losses)
from tests.conftest import DEMO_CONFIG

AUXILIARY_HEAD = dict(
    type='FCNHead',
    in_channels=512,
    in_index=0,
    channels=16,
    num_convs=1,
    concat_input=False,
    num_classes=21,
    norm_cfg=dict(type='BN', requires_grad=True))
# What leaves the fast step losses, and the key the refusal names.
INTERPOLATING = {
    'sampler': (dict(decode_head=dict(sampler=dict(
        type='OHEMPixelSampler', thresh=0.7, min_kept=20))),
                'model.decode_head.sampler'),
    'no fast path': (dict(decode_head=dict(step_loss_fast_path=False)),
                     'model.decode_head.step_loss_fast_path'),
    'auxiliary head': (dict(auxiliary_head=AUXILIARY_HEAD),
                       'model.auxiliary_head'),
}


def build_model(**changes):
    init_default_scope('mmseg')
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(dict(model=changes))
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('changes, key',
                         INTERPOLATING.values(),
                         ids=INTERPOLATING.keys())
@pytest.mark.parametrize('device', ['cuda', 'cuda:1'])
def test_deterministic_cuda_training_refuses_an_interpolated_loss(
        changes, key, device):
    model = build_model(**changes)
    assert len(interpolated_losses(model)) == 1
    with pytest.raises(ValueError) as error:
        check_deterministic_training(model, device, deterministic=True)
    assert 'randomness.deterministic=True' in str(error.value)
    assert key in str(error.value)


@pytest.mark.parametrize('changes, _', INTERPOLATING.values(),
                         ids=INTERPOLATING.keys())
@pytest.mark.parametrize('device, deterministic', [('cpu', True),
                                                   ('cuda', False)])
def test_the_cpu_and_nondeterministic_runs_go_on(changes, _, device,
                                                 deterministic):
    check_deterministic_training(
        build_model(**changes), device, deterministic=deterministic)


def test_the_fast_step_losses_train_deterministically_on_cuda():
    model = build_model()
    assert interpolated_losses(model) == []
    check_deterministic_training(model, 'cuda', deterministic=True)


def test_every_interpolated_loss_is_named():
    model = build_model(
        auxiliary_head=AUXILIARY_HEAD,
        decode_head=dict(step_loss_fast_path=False))
    with pytest.raises(ValueError) as error:
        check_deterministic_training(model, 'cuda', deterministic=True)
    for key in ('model.decode_head.step_loss_fast_path',
                'model.auxiliary_head'):
        assert key in str(error.value)


def test_another_decode_head_is_named():
    cfg = Config.fromfile(DEMO_CONFIG).model
    cfg.type = 'EncoderDecoder'
    cfg.decode_head = AUXILIARY_HEAD
    with pytest.raises(ValueError, match=r'model.decode_head \(FCNHead\)'):
        check_deterministic_training(
            MODELS.build(cfg), 'cuda', deterministic=True)
