"""Launches that do not fit the machine stop at start-up with the numbers
and the setting to change."""
import pytest
import torch

from mmseg_convlstm.engine import check_launch, launch_check
from .toy_runner import build_runner


@pytest.fixture
def gpus(monkeypatch):
    """Makes torch see the given number of GPUs."""

    def see(count):
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: count > 0)
        monkeypatch.setattr(torch.cuda, 'device_count', lambda: count)

    return see


@pytest.mark.parametrize('launcher, variable, setting', [
    ('pytorch', 'LOCAL_WORLD_SIZE', '--nproc-per-node'),
    ('slurm', 'SLURM_NTASKS_PER_NODE', 'GPUS_PER_NODE'),
])
def test_more_processes_than_gpus_are_refused_naming_both(
        gpus, monkeypatch, launcher, variable, setting):
    gpus(1)
    monkeypatch.setenv(variable, '2')
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '3')
    with pytest.raises(RuntimeError) as error:
        check_launch(launcher, dict(backend='nccl'))
    message = str(error.value)
    for text in ('2 processes per node', f'{variable}=2', 'sees 1 GPU',
                 'CUDA_VISIBLE_DEVICES=3', setting, 'at most 1'):
        assert text in message


def test_launches_that_fit_pass(gpus, monkeypatch):
    gpus(2)
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '2')
    check_launch('pytorch', dict(backend='nccl'))
    gpus(0)
    check_launch('none', dict(backend='nccl'))


def test_nccl_on_a_cpu_only_machine_is_refused(gpus):
    gpus(0)
    with pytest.raises(RuntimeError) as error:
        check_launch('slurm', dict(backend='nccl'))
    message = str(error.value)
    assert "env_cfg.dist_cfg.backend='nccl' needs CUDA GPUs" in message
    assert 'gloo' in message


def test_a_process_group_started_by_our_tools_is_accepted(gpus, monkeypatch):
    gpus(0)  # tools/train.py has started gloo on this CPU machine
    monkeypatch.setattr(launch_check.torch_dist, 'is_initialized',
                        lambda: True)
    check_launch('pytorch', dict(backend='gloo'))


def test_the_runner_checks_before_starting_the_process_group(
        gpus, tmp_path):
    gpus(0)
    with pytest.raises(RuntimeError, match='needs CUDA GPUs'):
        build_runner(tmp_path, launcher='pytorch')
