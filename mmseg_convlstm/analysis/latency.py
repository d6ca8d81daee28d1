"""Wall-clock latency of forward passes, measured fairly between models."""
import time
from statistics import median
from typing import Callable, Dict, Hashable, Optional

import torch
from mmengine.utils import ProgressBar


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def median_latencies(runs: Dict[Hashable, Callable[[], object]],
                     device: torch.device,
                     repeats: int = 5,
                     warmup: int = 1,
                     progress: Optional[ProgressBar] = None
                     ) -> Dict[Hashable, float]:
    """Median seconds of every run in ``runs``, without gradients.

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

    Returns:
        dict[Hashable, float]: The median seconds of each run.
    """
    if repeats < 1:
        raise ValueError(f'repeats must be at least 1, got {repeats}')
    times = {name: [] for name in runs}
    with torch.no_grad():
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


def describe_device(device: torch.device) -> str:
    """The device in words, with the CPU threads torch uses."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f'CPU, {threads} thread' + ('s' if threads > 1 else '')
