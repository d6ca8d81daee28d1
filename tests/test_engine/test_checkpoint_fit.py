"""check_checkpoint_fits refuses weights that do not fit the model, naming
the first keys of each kind, unless a partial load is asked for."""
import pytest
import torch
from torch import nn

from mmseg_convlstm.engine import (CheckpointMismatchError,
                                   check_checkpoint_fits, checkpoint_fit,
                                   compare_weights)


def toy_model():
    return nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))


def save(tmp_path, weights, wrap=True):
    path = str(tmp_path / 'checkpoint.pth')
    torch.save(dict(state_dict=weights) if wrap else weights, path)
    return path


def test_a_fitting_checkpoint_passes_with_or_without_the_ddp_prefix(tmp_path):
    model = toy_model()
    check_checkpoint_fits(model, save(tmp_path, model.state_dict()))
    prefixed = {
        f'module.{key}': value
        for key, value in model.state_dict().items()
    }
    check_checkpoint_fits(model, save(tmp_path, prefixed, wrap=False))


def test_missing_unexpected_and_reshaped_keys_are_named(tmp_path):
    weights = toy_model().state_dict()
    del weights['1.running_var']
    weights['2.weight'] = torch.zeros(1)
    weights['0.weight'] = torch.zeros(5, 3, 1, 1)
    mismatch = compare_weights(toy_model(), weights)
    assert mismatch.missing == ['1.running_var']
    assert mismatch.unexpected == ['2.weight']
    assert mismatch.reshaped == ['0.weight: (5, 3, 1, 1) vs (4, 3, 1, 1)']
    path = save(tmp_path, weights)
    with pytest.raises(CheckpointMismatchError) as error:
        check_checkpoint_fits(toy_model(), path)
    for text in (path, '1.running_var', '2.weight', '0.weight',
                 '--allow-partial-checkpoint'):
        assert text in str(error.value)


def test_only_the_first_keys_are_listed(tmp_path):
    weights = {f'other.{index}': torch.zeros(1) for index in range(8)}
    described = compare_weights(toy_model(), weights).describe()
    assert '8 key(s) not in the model' in described
    assert 'other.4, ...' in described and 'other.5' not in described


def test_a_partial_load_asked_for_is_a_warning(tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(checkpoint_fit, 'print_log',
                        lambda message, **kwargs: messages.append(message))
    model = toy_model()
    weights = model.state_dict()
    del weights['0.bias']
    check_checkpoint_fits(model, save(tmp_path, weights), allow_partial=True)
    assert len(messages) == 1 and '0.bias' in messages[0]
