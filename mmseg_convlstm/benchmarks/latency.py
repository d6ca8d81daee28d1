"""Wall-clock latency of forward passes, measured fairly between models."""
import time
from statistics import median
from typing import Callable, Dict, Hashable, Optional

import torch
from mmengine.utils import ProgressBar

from ..models.acceleration.cuda_graph_steps import (capture_graph,
                                                    warm_up_for_capture)


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def median_latencies(runs: Dict[Hashable, Callable[[], object]],
                     device: torch.device,
                     repeats: int = 5,
                     warmup: int = 1,
                     progress: Optional[ProgressBar] = None,
                     with_grad: bool = False) -> Dict[Hashable, float]:
    """Median seconds of every run in ``runs``, without gradients unless
    ``with_grad``.

    The runs are interleaved (one of each per round), so that a change in
    the machine's load during the measurement affects every run alike and
    their ratios stay fair.

    Args:
        runs (dict[Hashable, Callable]): Named functions to time.
        device (torch.device): Where they run; CUDA is synchronized around
            every run.
        repeats (int): Timed runs of each. Default: 5.
        warmup (int): Untimed rounds first. Default: 1.
        progress (ProgressBar, optional): Updated after every timed run.
        with_grad (bool): Whether the runs record gradients (training
            iterations). Default: False.

    Returns:
        dict[Hashable, float]: The median seconds of each run.
    """
    if repeats < 1:
        raise ValueError(f'repeats must be at least 1, got {repeats}')
    times = {name: [] for name in runs}
    with torch.set_grad_enabled(with_grad):
        for round_index in range(warmup + repeats):
            for name, run in runs.items():
                _synchronize(device)
                start = time.perf_counter()
                run()
                _synchronize(device)
                if round_index >= warmup:
                    times[name].append(time.perf_counter() - start)
                    if progress is not None:
                        progress.update()
    return {name: median(values) for name, values in times.items()}


def forward_run(module: torch.nn.Module,
                inputs: torch.Tensor) -> Callable[[], object]:
    """The run that :func:`median_latencies` times for a forward pass.

    Args:
        module (torch.nn.Module): The model, or a part of it.
        inputs (torch.Tensor): Its inputs, the same tensor at every run.

    Returns:
        Callable: ``module(inputs)``, without arguments.
    """
    return lambda: module(inputs)


def describe_device(device: torch.device) -> str:
    """The device in words, with the CPU threads torch uses."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f'CPU, {threads} thread' + ('s' if threads > 1 else '')


AMP_DTYPES = {'fp16': torch.float16, 'bf16': torch.bfloat16}


def autocast_run(run: Callable[[], object], device: torch.device,
                 amp: Optional[str]) -> Callable[[], object]:
    """``run`` under ``torch.autocast`` to the dtype named by ``amp``
    ('fp16' or 'bf16'); ``run`` itself when ``amp`` is None. The autocast
    cache is off, as CUDA graph capture needs."""
    if amp is None:
        return run
    if amp not in AMP_DTYPES:
        raise ValueError(
            f'amp must be one of {sorted(AMP_DTYPES)} or None, got {amp!r}')

    def run_autocast():
        with torch.autocast(
                device.type, dtype=AMP_DTYPES[amp], cache_enabled=False):
            return run()

    return run_autocast


def graphed_run(run: Callable[[], object],
                warmup: int = 3) -> Callable[[], None]:
    """``run`` captured as a CUDA graph at its first call (after ``warmup``
    eager runs, in whatever autocast context the call has), then replayed:
    a whole forward pass without Python or launch overhead. Its inputs must
    stay the same tensors."""
    graph = None

    def replay():
        nonlocal graph
        if graph is None:
            with torch.no_grad():
                warm_up_for_capture(run, warmup)
                graph, _ = capture_graph(run)
        graph.replay()

    return replay
