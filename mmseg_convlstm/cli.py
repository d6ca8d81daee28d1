"""What the command-line tools share: MMSeg's common flags and config
loading, so that every tool behaves like MMSeg's own ``tools/``."""
import argparse
import os
import os.path as osp
from typing import Iterator, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``, as MMSeg's tools take them."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, e.g. '
        'model.test_cfg.num_steps=4 (xxx=[a,b] for lists)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with the common flags applied.

    The work dir defaults to ``./work_dirs/<config name>``.
    """
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg



def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type`` (the configs use ``GuardedRunner``), or
    MMEngine's ``Runner`` when it names none, as MMSeg's tools build it."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def init_cpu_distributed(cfg: Config) -> None:
    """Starts the gloo process group of a ``--launcher pytorch`` run on
    machines without CUDA.

    MMEngine's pytorch launcher calls ``torch.cuda.set_device``, which a CPU
    build of torch lacks; the runner uses a process group that already
    exists, so torchrun and MMEngine then work on CPU as they do on GPUs.
    """
    if (cfg.launcher != 'pytorch' or torch.cuda.is_available()
            or torch_dist.is_initialized()):
        return
    torch_dist.init_process_group(backend='gloo')
    cfg.env_cfg.dist_cfg = dict(cfg.env_cfg.get('dist_cfg', {}),
                                backend='gloo')


def _dataset_roots(dataset: dict, key: str) -> Iterator[Tuple[str, str]]:
    if 'datasets' in dataset:
        for index, child in enumerate(dataset['datasets']):
            yield from _dataset_roots(child, f'{key}.datasets.{index}')
    elif 'dataset' in dataset:
        yield from _dataset_roots(dataset['dataset'], f'{key}.dataset')
    elif dataset.get('data_root'):
        yield f'{key}.data_root', dataset['data_root']


def check_data_roots(cfg: Config, *loaders: str) -> None:
    """Raises ``FileNotFoundError`` naming the config key and the path when a
    dataset's ``data_root`` of one of ``loaders`` does not exist."""
    for loader in loaders:
        if cfg.get(loader) is None:
            continue
        for key, root in _dataset_roots(cfg[loader]['dataset'],
                                        f'{loader}.dataset'):
            if not osp.isdir(root):
                raise FileNotFoundError(
                    f'{key} is {root!r}, which does not exist: put the '
                    'dataset there (see README, "Data") or override it with '
                    f'--cfg-options {key}=PATH')
