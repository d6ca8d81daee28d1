"""Launches that cannot work on this machine, refused at start-up with the
numbers and the setting to change (instead of an ``IndexError`` or a CUDA
error in every worker)."""
import os
from typing import Optional, Tuple

import torch
import torch.distributed as torch_dist

# Per launcher: the variable holding the processes started on this node,
# and where the user sets it.
PROCESSES_PER_NODE = {
    'pytorch': ('LOCAL_WORLD_SIZE',
                'the GPUS argument of tools/dist_train.sh or '
                'tools/dist_test.sh (torchrun --nproc-per-node)'),
    'slurm': ('SLURM_NTASKS_PER_NODE',
              'GPUS_PER_NODE of tools/slurm_train.sh or tools/slurm_test.sh '
              '(srun --ntasks-per-node)'),
}


def _processes_per_node(launcher: str) -> Optional[Tuple[int, str, str]]:
    if launcher not in PROCESSES_PER_NODE:
        return None
    variable, setting = PROCESSES_PER_NODE[launcher]
    value = os.environ.get(variable, '')
    return (int(value), variable, setting) if value.isdigit() else None


def check_launch(launcher: str, dist_cfg: dict) -> None:
    """Raises ``RuntimeError`` before the process group starts when a
    distributed launch does not fit the machine.

    - More processes on this node than GPUs that torch sees: the error names
      both numbers, the variable (``LOCAL_WORLD_SIZE`` from torchrun,
      ``SLURM_NTASKS_PER_NODE`` from srun), the setting to lower and
      ``CUDA_VISIBLE_DEVICES``.
    - No GPU at all: MMEngine's launchers call ``torch.cuda.set_device``,
      and NCCL runs on GPUs only. The tools of this repository start a gloo
      process group themselves on such machines (``--launcher pytorch``),
      so this is only reached from other tools or launchers.

    Args:
        launcher (str): The runner's launcher (``'none'`` for one process).
        dist_cfg (dict): ``env_cfg.dist_cfg`` of the config.
    """
    if launcher == 'none' or torch_dist.is_initialized():
        return
    backend = dist_cfg.get('backend', 'nccl')
    if not torch.cuda.is_available():
        raise RuntimeError(
            f'--launcher {launcher} with env_cfg.dist_cfg.backend='
            f'{backend!r} needs CUDA GPUs, but torch sees none (a CPU-only '
            "machine or build): MMEngine's launcher calls "
            'torch.cuda.set_device and NCCL runs on GPUs only. On CPUs, '
            'start with tools/dist_train.sh / tools/dist_test.sh (or '
            'tools/train.py --launcher pytorch under torchrun) of this '
            'repository, which use the gloo backend.')
    processes = _processes_per_node(launcher)
    gpus = torch.cuda.device_count()
    if processes is not None and processes[0] > gpus:
        count, variable, setting = processes
        visible = os.environ.get('CUDA_VISIBLE_DEVICES', 'not set')
        raise RuntimeError(
            f'{count} processes per node ({variable}={count}) but torch '
            f'sees {gpus} GPU(s) on this node (CUDA_VISIBLE_DEVICES='
            f'{visible}): each process needs its own GPU. Start at most '
            f'{gpus} per node with {setting}, or make more GPUs visible '
            'with CUDA_VISIBLE_DEVICES.')
