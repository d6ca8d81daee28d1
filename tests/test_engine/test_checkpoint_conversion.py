"""A checkpoint of MMEngine's stock CheckpointHook is refused by our loaders,
converted into the safe form only when its pickled code is trusted, and then
loads with weights_only=True, with the same weights and training state."""
import os

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint

from mmseg_convlstm.engine.safe_checkpoint import (UnsafeCheckpointError,
                                                   convert_to_safe_checkpoint,
                                                   load_checkpoint_safely,
                                                   to_plain_data)
from .toy_runner import LinearModel, dataloader


@pytest.fixture(scope='module')
def stock_checkpoint(tmp_path_factory):
    """``iter_2.pth`` of a stock MMEngine runner: CheckpointHook, no
    SafeCheckpointHook."""
    work_dir = tmp_path_factory.mktemp('stock_run')
    runner = Runner(
        model=LinearModel(),
        work_dir=str(work_dir),
        train_dataloader=dataloader(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(
            checkpoint=CheckpointHook(by_epoch=False, interval=2)),
        experiment_name='stock-checkpoint-conversion')
    runner.train()
    return str(work_dir / 'iter_2.pth')


def trusted_load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_our_loader_refuses_the_stock_checkpoint(stock_checkpoint):
    with pytest.raises(UnsafeCheckpointError) as error:
        CheckpointLoader.load_checkpoint(stock_checkpoint)
    assert 'HistoryBuffer' in str(error.value)
    assert 'tools/model_converters/safe_checkpoint.py' in str(error.value)


def test_conversion_without_trust_is_refused_saying_why(
        stock_checkpoint, tmp_path):
    destination = tmp_path / 'safe.pth'
    with pytest.raises(UnsafeCheckpointError) as error:
        convert_to_safe_checkpoint(stock_checkpoint, str(destination))
    message = str(error.value)
    assert '--trust-pickled-code' in message
    assert 'weights_only=False, which runs the code' in message
    assert 'HistoryBuffer' in message
    assert not destination.exists()


def test_the_converted_checkpoint_loads_safely_with_equal_state(
        stock_checkpoint, tmp_path):
    destination = str(tmp_path / 'safe.pth')

    conversion = convert_to_safe_checkpoint(
        stock_checkpoint, destination, trust_pickled_code=True)

    assert any('HistoryBuffer' in name
               for name in conversion.pickled_globals)
    assert conversion.dropped == []
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        destination) == []
    original = trusted_load(stock_checkpoint)
    converted = torch.load(destination, weights_only=True)
    assert converted['state_dict'].keys() == original['state_dict'].keys()
    for name, weight in original['state_dict'].items():
        torch.testing.assert_close(converted['state_dict'][name], weight,
                                   rtol=0, atol=0)
    assert converted['meta']['iter'] == 2
    assert converted['meta']['cfg'] == original['meta']['cfg']
    momentum = original['optimizer']['state'][0]['momentum_buffer']
    torch.testing.assert_close(
        converted['optimizer']['state'][0]['momentum_buffer'], momentum)
    loss = load_checkpoint_safely(destination)['message_hub']['log_scalars'][
        'train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.data[0].tolist() == original['message_hub']['log_scalars'][
        'train/loss'].data[0].tolist()


def test_the_converted_weights_load_into_a_model(stock_checkpoint, tmp_path):
    destination = str(tmp_path / 'safe.pth')
    convert_to_safe_checkpoint(
        stock_checkpoint, destination, trust_pickled_code=True)
    model = LinearModel()
    load_checkpoint(model, destination, map_location='cpu', strict=True)
    torch.testing.assert_close(
        model.linear.weight,
        trusted_load(stock_checkpoint)['state_dict']['linear.weight'])


def test_entries_that_stay_unplain_are_dropped_and_named(tmp_path):
    source, destination = str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth')
    torch.save(
        dict(
            state_dict=dict(w=torch.ones(2)),
            meta=dict(iter=3, hook=os.getcwd, tags={'x'}),
            callback=len), source)

    conversion = convert_to_safe_checkpoint(
        source, destination, trust_pickled_code=True)

    assert sorted(conversion.dropped) == ['callback', 'meta.hook', 'meta.tags']
    converted = torch.load(destination, weights_only=True)
    assert converted['meta'] == dict(iter=3)
    torch.testing.assert_close(converted['state_dict']['w'], torch.ones(2))


def test_a_safe_checkpoint_converts_without_trust(tmp_path):
    source, destination = str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth')
    torch.save(
        to_plain_data(
            dict(state_dict=dict(w=torch.ones(2)), meta=dict(iter=1))),
        source)
    conversion = convert_to_safe_checkpoint(source, destination)
    assert conversion.pickled_globals == [] and conversion.dropped == []
    assert torch.load(destination, weights_only=True)['meta'] == dict(iter=1)
