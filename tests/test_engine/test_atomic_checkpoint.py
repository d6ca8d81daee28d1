"""No checkpoint is ever half-written under its final name: a kill or a full
disk while saving leaves the previous checkpoint usable."""
import errno
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import save_checkpoint

from mmseg_convlstm.engine import (AtomicCheckpointHook,
                                   load_checkpoint_safely,
                                   newest_loadable_checkpoint,
                                   write_atomically)
from mmseg_convlstm.engine import atomic_local_backend

# A child process that writes a new version of a file atomically but stops
# (forever) right before the data reaches the disk.
KILLED_WRITER = '''
import os, sys, time
from mmseg_convlstm.engine import atomic_local_backend as backend
path, marker = sys.argv[1:]
def stall(descriptor):
    open(marker, 'w').close()
    time.sleep(600)
backend.os.fsync = stall
backend.write_atomically(path, b'new' * 1000000)
'''


def _no_temp_files(directory):
    return [name for name in os.listdir(directory) if name.endswith('.tmp')]


def test_atomic_local_backend_replaces_the_whole_file(tmp_path):
    path = tmp_path / 'sub' / 'file.bin'
    backend = get_file_backend(
        str(path), backend_args=dict(backend='atomic_local'))
    backend.put(b'old content', path)
    backend.put(b'new', path)
    backend.put_text('text', tmp_path / 'text.txt')

    assert path.read_bytes() == b'new'
    assert (tmp_path / 'text.txt').read_text() == 'text'
    assert _no_temp_files(path.parent) == []
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_kill_while_writing_leaves_the_previous_file(tmp_path):
    path = tmp_path / 'iter_2.pth'
    marker = tmp_path / 'writing'
    torch.save(dict(state_dict=dict(w=torch.ones(3))), path)
    previous = path.read_bytes()
    process = subprocess.Popen(
        [sys.executable, '-c', KILLED_WRITER,
         str(path), str(marker)])
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, 'the writer ended before writing'
        assert time.monotonic() < deadline, 'the writer did not start'
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert path.read_bytes() == previous
    assert torch.equal(
        load_checkpoint_safely(str(path))['state_dict']['w'], torch.ones(3))
    # The unfinished write is a hidden temporary file that resuming ignores.
    (temp, ) = _no_temp_files(tmp_path)
    assert temp.startswith('.iter_2.pth.')
    assert newest_loadable_checkpoint(str(tmp_path)) == str(path)


def test_a_full_disk_leaves_the_previous_file_and_no_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / 'iter_2.pth'
    write_atomically(path, b'previous')

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(atomic_local_backend.os, 'fsync', disk_full)
    with pytest.raises(OSError, match='No space left'):
        write_atomically(path, b'next')

    assert path.read_bytes() == b'previous'
    assert _no_temp_files(tmp_path) == []


class _Runner:
    """What CheckpointHook uses of a runner."""

    def __init__(self, work_dir):
        self.work_dir = str(work_dir)
        self.logger = MMLogger.get_current_instance()
        self.message_hub = MessageHub.get_instance(f'ckpt-{work_dir}')

    def save_checkpoint(self, out_dir, filename, *args, backend_args=None,
                        **kwargs):
        save_checkpoint(
            dict(state_dict=dict(w=torch.zeros(1000))),
            os.path.join(out_dir, filename),
            backend_args=backend_args)


@pytest.mark.parametrize('hook_type, keeps_previous',
                         [(CheckpointHook, False),
                          (AtomicCheckpointHook, True)])
def test_a_failed_save_keeps_the_previous_checkpoint_with_max_keep_one(
        tmp_path, monkeypatch, hook_type, keeps_previous):
    """MMEngine's hook deletes the previous checkpoint before writing the
    next one; ours deletes it once the next one is complete."""
    runner = _Runner(tmp_path)
    hook = hook_type(interval=2, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    hook._save_checkpoint_with_step(runner, 2, {})

    def kill_while_saving(*args, **kwargs):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(runner, 'save_checkpoint', kill_while_saving)
    with pytest.raises(KeyboardInterrupt):
        hook._save_checkpoint_with_step(runner, 4, {})

    assert (tmp_path / 'iter_2.pth').exists() == keeps_previous
    if keeps_previous:
        load_checkpoint_safely(str(tmp_path / 'iter_2.pth'))


def test_the_hook_still_keeps_only_max_keep_ckpts(tmp_path):
    runner = _Runner(tmp_path)
    hook = AtomicCheckpointHook(interval=2, by_epoch=False, max_keep_ckpts=2)
    hook.before_train(runner)
    for step in (2, 4, 6, 8):
        hook._save_checkpoint_with_step(runner, step, {})

    assert sorted(os.listdir(tmp_path)) == [
        'iter_6.pth', 'iter_8.pth', 'last_checkpoint'
    ]
    assert runner.message_hub.get_info('keep_ckpt_ids') == [6, 8]


def test_the_hook_writes_through_the_atomic_backend(tmp_path):
    hook = AtomicCheckpointHook(interval=1, by_epoch=False)
    hook.before_train(_Runner(tmp_path))
    assert isinstance(hook.file_backend,
                      atomic_local_backend.AtomicLocalBackend)
    assert AtomicCheckpointHook(
        interval=1, out_dir='s3://bucket/checkpoints').backend_args is None
