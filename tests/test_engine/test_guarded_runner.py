"""Auto resume picks the newest checkpoint that loads, warning about each
truncated, corrupt or unsafe one it skips; deterministic runs set what CUDA
determinism needs and refuse, on CUDA, a loss that cannot be deterministic
there."""
import os

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from torch import nn

from mmseg_convlstm.engine import (UnreadableCheckpointError,
                                   checkpoint_candidates,
                                   newest_loadable_checkpoint)
from .toy_runner import LinearModel, build_runner


class WritesMarker:
    """Pickles into a call that creates ``path`` when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


def _save(path, value=0.0):
    torch.save(dict(state_dict=dict(w=torch.full((100, ), value))), path)
    return str(path)


def _record(work_dir, path):
    (work_dir / 'last_checkpoint').write_text(str(path))


def _logger(tmp_path):
    """A fresh current logger whose records land in a file."""
    log_file = tmp_path / 'log.txt'
    MMLogger.get_instance(f'resume-{tmp_path.name}', log_file=str(log_file))
    return log_file


def test_candidates_are_ordered_by_iteration_newest_first(tmp_path):
    for step in (2, 10, 4):
        _save(tmp_path / f'iter_{step}.pth')
    (tmp_path / '.iter_12.pth.0123.tmp').write_bytes(b'half')
    _record(tmp_path, tmp_path / 'iter_4.pth')

    assert checkpoint_candidates(str(tmp_path)) == [
        str(tmp_path / f'iter_{step}.pth') for step in (10, 4, 2)
    ]


def test_candidates_include_the_hook_out_dir_and_unnumbered_names(tmp_path):
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    _save(tmp_path / 'iter_2.pth')
    _save(out_dir / 'iter_4.pth')
    _record(tmp_path, out_dir / 'iter_4.pth')
    assert checkpoint_candidates(str(tmp_path)) == [
        str(out_dir / 'iter_4.pth'),
        str(tmp_path / 'iter_2.pth')
    ]

    _record(tmp_path, out_dir / 'latest.pth')
    assert checkpoint_candidates(str(tmp_path))[0] == str(out_dir /
                                                          'latest.pth')


def test_an_empty_last_checkpoint_is_not_trusted(tmp_path):
    good = _save(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text('')
    assert newest_loadable_checkpoint(str(tmp_path)) == good


@pytest.mark.parametrize('damage', ['truncate', 'corrupt', 'unsafe'])
def test_a_bad_newest_checkpoint_is_skipped_with_a_warning_naming_it(
        tmp_path, damage):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    good = _save(work_dir / 'iter_2.pth')
    newest = work_dir / 'iter_4.pth'
    marker = tmp_path / 'code_ran'
    if damage == 'unsafe':
        torch.save(
            dict(state_dict={}, extra=WritesMarker(str(marker))), newest)
    else:
        _save(newest, 1.0)
        data = newest.read_bytes()
        newest.write_bytes(data[:len(data) //
                                2] if damage == 'truncate' else data[:100] +
                           b'\0' * 500 + data[600:])
    _record(work_dir, newest)
    log_file = _logger(tmp_path)

    assert newest_loadable_checkpoint(str(work_dir)) == good

    log = log_file.read_text()
    assert f'auto resume skips checkpoint {newest}' in log
    assert f'auto resume uses {good}' in log
    assert not marker.exists()


def test_no_checkpoint_means_a_fresh_start(tmp_path):
    assert newest_loadable_checkpoint(str(tmp_path)) is None


def test_checkpoints_of_which_none_loads_are_an_error_naming_them(tmp_path):
    for step in (2, 4):
        (tmp_path / f'iter_{step}.pth').write_bytes(b'not a checkpoint')
    _logger(tmp_path)
    with pytest.raises(UnreadableCheckpointError) as error:
        newest_loadable_checkpoint(str(tmp_path))
    for step in (2, 4):
        assert str(tmp_path / f'iter_{step}.pth') in str(error.value)


@pytest.mark.parametrize('preset', [None, ':16:8'])
def test_deterministic_runs_set_the_cublas_workspace(tmp_path, monkeypatch,
                                                     preset):
    if preset is None:
        monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    else:
        monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', preset)
    try:
        build_runner(tmp_path, randomness=dict(seed=0, deterministic=True))
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == (preset or ':4096:8')


class IterationCounter(Hook):
    """Counts the training iterations run."""

    def __init__(self):
        self.iterations = 0

    def after_train_iter(self, *args, **kwargs):
        self.iterations += 1


@pytest.fixture
def deterministic_reset():
    yield
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False


@pytest.mark.parametrize('device, deterministic, refused',
                         [('cuda', True, True), ('cpu', True, False),
                          ('cuda', False, False)])
def test_deterministic_cuda_training_with_loss_by_feat_stops_before_training(
        tmp_path, monkeypatch, deterministic_reset, device, deterministic,
        refused):
    """The device is the runner's training_device (the model's), replaced
    here by CUDA, on which nothing runs before the refusal."""
    model = LinearModel()
    model.decode_head = nn.Identity()  # a head without fast step losses
    counter = IterationCounter()
    runner = build_runner(
        tmp_path,
        counter,
        max_iters=2,
        model=model,
        randomness=dict(seed=0, deterministic=deterministic))
    monkeypatch.setattr(runner, 'training_device',
                        lambda: torch.device(device))
    if refused:
        with pytest.raises(ValueError,
                           match=r'randomness.deterministic=True.*'
                           r'model.decode_head \(Identity\)'):
            runner.train()
    else:
        runner.train()
    assert counter.iterations == (0 if refused else 2)


def test_the_training_device_is_the_models(tmp_path):
    runner = build_runner(tmp_path)
    assert runner.training_device() == torch.device('cpu')
