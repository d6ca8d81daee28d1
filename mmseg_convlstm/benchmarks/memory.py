"""Peak memory of a training step, each measured in a fresh process so that
no earlier allocation is reused."""
import multiprocessing
from typing import Callable, Optional, Tuple, TypeVar

import torch
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper

from ..utils.complexity import build_segmentor
from .workload import random_batch

T = TypeVar('T')
MIB = 2**20


def memory_measure(device: str) -> str:
    """What :func:`peak_training_memory` measures on ``device``, in words.

    Args:
        device (str): The device.

    Returns:
        str: The measure, for the tables.
    """
    if torch.device(device).type == 'cuda':
        return ('peak of torch.cuda.max_memory_allocated during the step, '
                'less the memory allocated before it')
    return ('peak resident memory (VmHWM) of a fresh process during the step, '
            'less its resident memory before it (model and batch built)')


def peak_training_memory(model_cfg: dict,
                         crop: Tuple[int, int],
                         batch: int,
                         device: str,
                         optim_wrapper: Optional[dict] = None) -> int:
    """Bytes one training step of the model of ``model_cfg`` adds at its
    peak on a random batch, measured in a fresh process (see
    :func:`memory_measure`).

    Args:
        model_cfg (dict): The model's config.
        crop (tuple[int, int]): Training crop (H, W).
        batch (int): Images per step.
        device (str): Device.
        optim_wrapper (dict, optional): The optimizer wrapper's config: the
            step is then a whole iteration (``train_step``: preprocessing,
            forward, losses, backward and the update, in the wrapper's
            precision). None: the forward, losses and backward of a batch
            already on the device. Default: None.

    Returns:
        int: The bytes.
    """
    return in_fresh_process(
        _training_step_peak,
        ConfigDict(model_cfg).to_dict(), tuple(crop), batch, device,
        None if optim_wrapper is None else ConfigDict(optim_wrapper).to_dict())


def in_fresh_process(function: Callable[..., T], *args) -> T:
    """``function(*args)`` in a new (spawned) process with this process's
    number of torch threads and our models registered.

    Args:
        function (Callable): A module-level function (it is pickled).
        *args: Its arguments.

    Returns:
        What ``function`` returns.
    """
    context = multiprocessing.get_context('spawn')
    with context.Pool(1) as pool:
        return pool.apply(_call_in_child,
                          (function, torch.get_num_threads(), *args))


def _call_in_child(function: Callable[..., T], threads: int, *args) -> T:
    import mmseg_convlstm  # noqa: F401  registers our models in the child
    torch.set_num_threads(threads)
    return function(*args)


def _training_step_peak(model_cfg: dict, crop: Tuple[int, int], batch: int,
                        device: str, optim_wrapper: Optional[dict]) -> int:
    model = build_segmentor(model_cfg, device, training=True)
    data = random_batch(model, crop, batch, loaded=optim_wrapper is not None)
    if optim_wrapper is None:
        return measure_peak(lambda: _loss_backward(model, data), device)
    wrapper = build_optim_wrapper(model, ConfigDict(optim_wrapper))
    return measure_peak(lambda: model.train_step(data, wrapper), device)


def _loss_backward(model: torch.nn.Module, data: dict) -> None:
    loss, _ = model.parse_losses(model.loss(**data))
    loss.backward()


def measure_peak(run: Callable[[], object], device: str) -> int:
    """Bytes that ``run()`` adds at its peak to the memory of this process
    on ``device``, as :func:`memory_measure` says.

    Args:
        run (Callable): What to measure.
        device (str): Where it allocates.

    Returns:
        int: The bytes.
    """
    cuda = torch.device(device).type == 'cuda'
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        before = _resident_bytes('VmRSS')
        with open('/proc/self/clear_refs', 'w') as file:
            file.write('5')  # resets VmHWM to the current resident size
    run()
    peak = (
        torch.cuda.max_memory_allocated(device)
        if cuda else _resident_bytes('VmHWM'))
    return peak - before


def _resident_bytes(field: str) -> int:
    with open('/proc/self/status') as file:
        for line in file:
            if line.startswith(f'{field}:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'/proc/self/status has no {field} (not Linux?)')
