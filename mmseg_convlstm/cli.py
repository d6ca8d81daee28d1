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


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, as every MMSeg tool that reads a config takes it."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, e.g. '
        'model.test_cfg.num_steps=4 (xxx=[a,b] for lists)')


def add_work_dir_arg(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, where a tool writes what it makes."""
    parser.add_argument(
        '--work-dir',
        help='the dir to save outputs (default: ./work_dirs/<config name>)')


def add_inference_args(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--cfg-options`` and ``--work-dir``, for the tools
    that run a trained model."""
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='device to run the model on')
    add_config_args(parser)
    add_work_dir_arg(parser)


def add_shape_arg(parser: argparse.ArgumentParser) -> None:
    """``--shape H W``, the input size of a tool that measures a model."""
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help="input size (default: the config's model.data_preprocessor.size)")


def input_shape(args: argparse.Namespace, cfg: Config) -> Tuple[int, int]:
    """``--shape``, or else the size the config's data preprocessor pads
    training crops to."""
    shape = args.shape or cfg.model.data_preprocessor.get('size')
    if shape is None:
        raise ValueError(f'{args.config} sets no model.data_preprocessor.size:'
                         ' give --shape H W')
    return tuple(shape)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``, as MMSeg's train and test tools take them."""
    add_work_dir_arg(parser)
    add_config_args(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with the flags of :func:`add_common_args`
    (those the parser has) applied.

    The work dir defaults to ``./work_dirs/<config name>``.
    """
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    os.environ.setdefault('LOCAL_RANK', str(getattr(args, 'local_rank', 0)))
    cfg = Config.fromfile(args.config)
    cfg.launcher = getattr(args, 'launcher', 'none')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if getattr(args, 'work_dir', None) is not None:
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
