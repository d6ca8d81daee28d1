"""Quick tools/train.py runs of a tiny, deterministic model for the
fault-injection tests."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

from tests.tools_runner import DEMO_CONFIG, REPO, voc_overrides


def tiny_options(data_root: str, iters: int, interval: int) -> List[str]:
    """--cfg-options for ``iters`` deterministic iterations of the demo
    config with a 16-channel ResNetV1c-18, a checkpoint every ``interval``
    iterations and every iteration's own loss in the log."""
    return voc_overrides(data_root, iters) + [
        'model.backbone.base_channels=16',
        'model.backbone.stem_channels=16',
        'model.decode_head.in_channels=128',
        'model.decode_head.hidden_channels=(16,16,21)',
        'model.decode_head.num_steps=2',
        'model.test_cfg.num_steps=2',
        f'default_hooks.checkpoint.interval={interval}',
        'log_processor.window_size=1',
        'randomness.seed=0',
        'randomness.deterministic=True',
        # The demo config replaces the base optim wrapper.
        'optim_wrapper.type=NonFiniteLossOptimWrapper',
    ]


def train_args(work_dir: str, options: Sequence[str],
               *flags: str) -> List[str]:
    """The arguments of tools/train.py on the demo config."""
    return [
        'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir, *flags,
        '--cfg-options', *options
    ]


def last_run_losses(work_dir: str) -> Dict[int, dict]:
    """The training records of the newest run in a work dir, by iteration."""
    runs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    with open(runs[-1]) as file:
        records = [json.loads(line) for line in file]
    return {record['iter']: record for record in records if 'loss' in record}


def start_tool(args: Sequence[str], log_file: str,
               command: str = sys.executable,
               **env: str) -> subprocess.Popen:
    """Starts ``command args`` from the repository, its output going to
    ``log_file``."""
    with open(log_file, 'w') as log:
        return subprocess.Popen([command, *args],
                                cwd=REPO,
                                stdout=log,
                                stderr=subprocess.STDOUT,
                                env=dict(
                                    os.environ,
                                    PYTHON=sys.executable,
                                    OMP_NUM_THREADS='1',
                                    **env))


def wait_until(process: subprocess.Popen,
               condition: Callable[[], bool],
               what: str,
               timeout: float = 300) -> None:
    """Polls ``condition`` until it holds while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(
                f'{process.args} ended ({process.returncode}) before {what}')
        if time.monotonic() > deadline:
            raise AssertionError(f'{what} did not happen in {timeout} s')
        time.sleep(0.05)


def logged_iterations(work_dir: str) -> List[int]:
    """The training iterations logged so far in a work dir (while the run
    writes its log)."""
    iterations = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as file:
            for line in file:
                if '"loss"' in line and line.endswith('\n'):
                    iterations.append(json.loads(line)['iter'])
    return iterations


def kill_when_file_appears(args: Sequence[str],
                           path: str,
                           timeout: float = 300,
                           **env: str) -> None:
    """Runs ``python args`` from the repository (with ``env`` added to its
    environment) and kills it with SIGKILL as soon as ``path`` exists."""
    process = start_tool(args, os.devnull, **env)
    try:
        wait_until(process, lambda: osp.exists(path), f'{path} appeared',
                   timeout)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def worker_pid(marker: str, local_rank: int) -> Optional[int]:
    """The pid of the torchrun worker with ``local_rank`` whose command
    line contains ``marker`` (e.g. its work dir), if it runs (Linux). Its
    dataloader workers, forked from it with the same command line and
    environment, are told apart by their parent, the worker."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as file:
                cmdline = file.read().decode(errors='replace')
            with open(f'/proc/{entry}/environ', 'rb') as file:
                environ = file.read().split(b'\0')
            with open(f'/proc/{entry}/stat') as file:
                # pid (comm) state ppid ...; comm may hold spaces.
                parent = int(file.read().rsplit(')', 1)[1].split()[1])
        except OSError:  # ended meanwhile, or not ours
            continue
        if (marker in cmdline and 'train.py' in cmdline
                and f'LOCAL_RANK={local_rank}'.encode() in environ):
            parents[int(entry)] = parent
    ranks = [pid for pid, parent in parents.items() if parent not in parents]
    return ranks[0] if len(ranks) == 1 else None
