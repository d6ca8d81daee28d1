"""Runs the repository's command-line tools as a user would."""
import glob
import json
import os
import os.path as osp
import runpy
import subprocess
import sys
from typing import List, Sequence

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO, 'configs', 'demo',
                       'convlstm_r18-d16-mg248_1xb4-400i_synthvoc-97x97.py')


def run_tool(args: Sequence[str], check: bool = True,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Runs ``python <args>`` (or ``bash`` for .sh) from the repository."""
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    command = (['bash'] if args[0].endswith('.sh') else [sys.executable])
    result = subprocess.run(
        command + list(args),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} failed ({result.returncode}):\n{result.stdout[-3000:]}'
            f'\n{result.stderr[-5000:]}')
    return result


def voc_overrides(data_root: str, iters: int) -> List[str]:
    """--cfg-options making the demo config a quick run on ``data_root``."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=2',
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.checkpoint.max_keep_ckpts=3',
        'default_hooks.logger.interval=1',
    ]


def scalars(work_dir: str) -> List[dict]:
    """The records of every run's ``vis_data/scalars.json`` in a work dir,
    oldest run first."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as file:
            records += [json.loads(line) for line in file]
    return records


def run_tool_in_process(path: str, *args: str) -> None:
    """Runs a Python tool of the repository in this process (faster than
    :func:`run_tool` when the test already imported what it imports), as
    ``python path args``."""
    argv = sys.argv
    sys.argv = [path, *args]
    try:
        runpy.run_path(osp.join(REPO, path), run_name='__main__')
    finally:
        sys.argv = argv
