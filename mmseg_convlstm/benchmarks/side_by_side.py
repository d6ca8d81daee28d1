"""Runs several commands side by side (trainings sharing one GPU), a few at
a time, each stopped with SIGTERM once a time limit has passed."""
import signal
import subprocess
import time
from typing import Dict, List, Optional, Sequence, Tuple

Job = Tuple[str, List[str], str]
"""A name, its command and the file its output goes to."""


def run_side_by_side(jobs: Sequence[Job],
                     max_running: int = 1,
                     timeout_s: Optional[float] = None,
                     poll_s: float = 1.0) -> Dict[str, int]:
    """Runs ``jobs``, at most ``max_running`` at once, in their order.

    Args:
        jobs (Sequence[Job]): (name, command, log file) of each job; its
            standard output and error go to the log file.
        max_running (int): Jobs running at once, at least 1. Default: 1.
        timeout_s (float, optional): Seconds from the start after which
            every job still running is sent SIGTERM (a training's
            preemption hook then saves a checkpoint and stops); jobs not
            started by then are not started. None: no limit.
        poll_s (float): Seconds between looks at the jobs. Default: 1.

    Returns:
        dict[str, int]: Each started job's exit code (negative: killed by
        that signal), by name.
    """
    if max_running < 1:
        raise ValueError(f'max_running must be at least 1, got {max_running}')
    waiting = list(jobs)
    running: Dict[str, subprocess.Popen] = {}
    exit_codes: Dict[str, int] = {}
    started = time.monotonic()
    while waiting or running:
        timed_out = (timeout_s is not None
                     and time.monotonic() - started > timeout_s)
        if timed_out:
            waiting.clear()
            for process in running.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
        while waiting and len(running) < max_running:
            name, command, log_path = waiting.pop(0)
            with open(log_path, 'w') as log:
                running[name] = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT)
            print(f'started {name} (log: {log_path})', flush=True)
        time.sleep(poll_s)
        for name, process in list(running.items()):
            if process.poll() is not None:
                exit_codes[name] = process.returncode
                del running[name]
                print(f'{name} ended with exit code {process.returncode}',
                      flush=True)
    return exit_codes
