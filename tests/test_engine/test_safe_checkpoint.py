from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader

from mmseg_convlstm.engine import (SafeCheckpointHook,
                                   UnreadableCheckpointError,
                                   UnsafeCheckpointError,
                                   load_checkpoint_safely)


def stock_checkpoint():
    """What MMEngine's runner puts in a checkpoint, numpy values included."""
    hub = MessageHub.get_instance('safe_checkpoint_test')
    for value in (1.0, 0.5, 0.25):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('val/mIoU', np.float64(41.5))
    hub.update_info('best_score', np.float64(41.5))
    return dict(
        meta=dict(
            iter=3, seed=np.int64(7), dataset_meta=dict(classes=('a', ))),
        state_dict=OrderedDict(weight=torch.arange(4.)),
        message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=0.1, params=[0])]))


def test_hooked_checkpoint_round_trips_through_weights_only(tmp_path):
    checkpoint = stock_checkpoint()
    SafeCheckpointHook().before_save_checkpoint(None, checkpoint)
    path = str(tmp_path / 'safe.pth')
    torch.save(checkpoint, path)

    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    loaded = load_checkpoint_safely(path)

    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    np.testing.assert_array_equal(buffer.data[0], [1.0, 0.5, 0.25])
    assert buffer.mean() == pytest.approx(1.75 / 3)
    assert loaded['meta']['seed'] == 7
    assert loaded['message_hub']['runtime_info']['best_score'] == 41.5
    torch.testing.assert_close(loaded['state_dict']['weight'],
                               torch.arange(4.))
    hub = MessageHub.get_instance('restored')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_scalar('train/loss').current() == 0.25


def test_stock_mmengine_checkpoint_is_refused_naming_its_globals(tmp_path):
    path = str(tmp_path / 'stock.pth')
    torch.save(stock_checkpoint(), path)

    with pytest.raises(UnsafeCheckpointError) as error:
        CheckpointLoader.load_checkpoint(path)
    message = str(error.value)
    assert path in message
    assert 'builtins.getattr' in message
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in message


def test_truncated_checkpoint_is_named(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(1000))), path)
    path.write_bytes(path.read_bytes()[:300])

    with pytest.raises(UnreadableCheckpointError, match=str(path)):
        CheckpointLoader.load_checkpoint(str(path))


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        load_checkpoint_safely(str(tmp_path / 'nothing.pth'))
