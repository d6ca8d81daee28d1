"""PreemptionHook in a small in-process run: a signal stops training after
the current iteration with a complete checkpoint and exit code 75, also when
a second signal arrives while the checkpoint is written."""
import os
import signal
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import CheckpointHook, Hook

from mmseg_convlstm.engine import (PREEMPTION_EXIT_CODE, GuardedRunner,
                                   PreemptionHook, atomic_local_backend,
                                   load_checkpoint_safely)
from .toy_runner import build_runner, dataloader


class SignalBefore(Hook):
    """Sends ``number`` to this process before iteration ``iteration``
    (counted from 1)."""

    def __init__(self, iteration, number):
        self.iteration, self.number = iteration, number

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), self.number)


def _checkpoint_files(directory):
    """Checkpoints and unfinished writes (``.tmp``) in ``directory``."""
    return sorted(name for name in os.listdir(directory)
                  if name.endswith(('.pth', '.tmp')))


@pytest.fixture
def restored_handlers():
    """Puts this process's SIGTERM and SIGUSR1 handlers back after a
    test, whatever happens in it."""
    handlers = {
        number: signal.getsignal(number)
        for number in (signal.SIGTERM, signal.SIGUSR1)
    }
    yield handlers
    for number, handler in handlers.items():
        signal.signal(number, handler)


@pytest.mark.parametrize('number', [signal.SIGTERM, signal.SIGUSR1])
def test_a_signal_saves_the_current_iteration_and_exits_75(
        tmp_path, restored_handlers, number):
    runner = build_runner(tmp_path, SignalBefore(3, number))
    with pytest.raises(SystemExit) as stopped:
        runner.train()

    assert stopped.value.code == PREEMPTION_EXIT_CODE
    assert runner.iter == 3
    assert _checkpoint_files(tmp_path) == ['iter_3.pth']
    checkpoint = load_checkpoint_safely(str(tmp_path / 'iter_3.pth'))
    assert checkpoint['meta']['iter'] == 3
    for name, value in runner.model.state_dict().items():
        assert torch.equal(checkpoint['state_dict'][name], value)
    # Until the process has exited, no signal can replace the exit code.
    for number in restored_handlers:
        assert signal.getsignal(number) == signal.SIG_IGN


def test_a_second_signal_during_the_save_is_ignored(tmp_path, monkeypatch,
                                                    restored_handlers):
    real_fsync, signalled = os.fsync, []

    def signal_while_writing(descriptor):
        # The first fsync is the checkpoint's, between write and rename.
        if not signalled:
            signalled.append(descriptor)
            os.kill(os.getpid(), signal.SIGTERM)
        real_fsync(descriptor)

    monkeypatch.setattr(atomic_local_backend.os, 'fsync',
                        signal_while_writing)
    runner = build_runner(tmp_path, SignalBefore(2, signal.SIGTERM))
    with pytest.raises(SystemExit) as stopped:
        runner.train()

    assert stopped.value.code == PREEMPTION_EXIT_CODE
    assert signalled, 'the checkpoint was not written'
    hook = next(h for h in runner.hooks if isinstance(h, PreemptionHook))
    assert hook.received == [signal.SIGTERM] * 2
    assert _checkpoint_files(tmp_path) == ['iter_2.pth']
    checkpoint = load_checkpoint_safely(str(tmp_path / 'iter_2.pth'))
    for name, value in runner.model.state_dict().items():
        assert torch.equal(checkpoint['state_dict'][name], value)


def test_without_a_signal_training_ends_normally(tmp_path,
                                                 restored_handlers):
    runner = build_runner(tmp_path, max_iters=3)
    runner.train()
    assert runner.iter == 3
    for number, handler in restored_handlers.items():
        assert signal.getsignal(number) == handler


def test_a_signal_during_the_last_iteration_lets_the_run_end(
        tmp_path, restored_handlers):
    runner = build_runner(tmp_path, SignalBefore(3, signal.SIGTERM),
                          max_iters=3)
    runner.train()
    assert runner.iter == 3
    assert _checkpoint_files(tmp_path) == ['iter_3.pth']


def test_dataloader_workers_survive_the_preemption_signals():
    loader = GuardedRunner.build_dataloader(dataloader(num_workers=1), seed=0)
    batches = iter(loader)
    worker = next(batches)['pid'][0]
    assert worker != os.getpid()
    os.kill(worker, signal.SIGTERM)
    os.kill(worker, signal.SIGUSR1)
    time.sleep(0.5)

    assert [next(batches)['pid'][0] for _ in range(3)] == [worker] * 3
    os.kill(worker, 0)  # still alive


def test_an_unknown_signal_is_named():
    with pytest.raises(ValueError, match='SIGNOPE'):
        PreemptionHook(signals=['SIGNOPE'])


def test_a_run_without_an_iteration_checkpoint_hook_is_refused():
    runner = SimpleNamespace(hooks=[CheckpointHook(by_epoch=True)])
    with pytest.raises(ValueError, match='default_hooks.checkpoint'):
        PreemptionHook().before_train(runner)
