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
from typing import Dict, List, Sequence

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


def kill_when_file_appears(args: Sequence[str],
                           path: str,
                           timeout: float = 300) -> None:
    """Runs ``python args`` from the repository and kills it with SIGKILL
    as soon as ``path`` exists."""
    process = subprocess.Popen([sys.executable, *args],
                               cwd=REPO,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env=dict(os.environ, OMP_NUM_THREADS='1'))
    deadline = time.monotonic() + timeout
    try:
        while not osp.exists(path):
            if process.poll() is not None:
                raise AssertionError(
                    f'{args} ended ({process.returncode}) before {path} '
                    'appeared')
            if time.monotonic() > deadline:
                raise AssertionError(f'{path} did not appear in {timeout} s')
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
