"""What the command-line tools share: MMSeg's common flags and config
loading, so that every tool behaves like MMSeg's own ``tools/``."""
import argparse
import dataclasses
import json
import logging
import os
import os.path as osp
from typing import Any, Iterator, Optional, Sequence, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .benchmarks.baselines import BENCHMARK_BASELINES
from .deploy.backends import BACKENDS


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


def add_time_budget_arg(parser: argparse.ArgumentParser) -> None:
    """``--time-budget-ms``, which :func:`apply_step_budget_args` maps to
    ``model.test_cfg.time_budget_ms``."""
    parser.add_argument(
        '--time-budget-ms',
        type=float,
        metavar='MS',
        help='run recurrent steps while the next one fits in this many '
        'milliseconds per batch, backbone included (at least one step, at '
        'most model.test_cfg.num_steps): sets model.test_cfg.time_budget_ms')


def add_step_budget_args(parser: argparse.ArgumentParser) -> None:
    """``--time-budget-ms`` and ``--cuda-graph``, which
    :func:`apply_step_budget_args` maps to ``model.test_cfg``."""
    add_time_budget_arg(parser)
    parser.add_argument(
        '--cuda-graph',
        action='store_true',
        help='replay the backbone and the recurrent step from CUDA graphs '
        '(sets model.test_cfg.cuda_graph=True; runs eagerly without CUDA)')


def apply_step_budget_args(cfg: Config, args: argparse.Namespace) -> None:
    """Sets ``model.test_cfg`` from the flags of
    :func:`add_step_budget_args`.

    With a time budget, images of different batches run different numbers
    of steps: ``return_all_steps`` is turned off, and an
    ``AnytimeIoUMetric`` test evaluator (which needs every step of every
    image) becomes an ``AdaptiveExitIoUMetric`` writing
    ``time_budget.json``: the mIoU and the mean steps used.
    """
    test_cfg = cfg.model.setdefault('test_cfg', ConfigDict())
    if getattr(args, 'cuda_graph', False):
        test_cfg['cuda_graph'] = True
    if args.time_budget_ms is None:
        return
    test_cfg.update(time_budget_ms=args.time_budget_ms, return_all_steps=False)
    evaluator = cfg.get('test_evaluator')
    if isinstance(evaluator, dict) and \
            evaluator.get('type') == 'AnytimeIoUMetric':
        evaluator.update(
            type='AdaptiveExitIoUMetric', json_file='time_budget.json')


def add_checkpoint_check_arg(parser: argparse.ArgumentParser) -> None:
    """``--allow-partial-checkpoint``: load a checkpoint that does not fit
    the config's model deliberately (see
    :func:`~mmseg_convlstm.engine.check_checkpoint_fits`)."""
    parser.add_argument(
        '--allow-partial-checkpoint',
        action='store_true',
        help='load a checkpoint whose keys or shapes do not all fit the '
        "config's model (what fits is loaded, the rest keeps its initial "
        'weights); without it such a checkpoint is refused')


def add_deploy_args(parser: argparse.ArgumentParser,
                    default_backend: Optional[str], backend_help: str) -> None:
    """``--backend`` (default ``default_backend``, described by
    ``backend_help``), :func:`add_checkpoint_check_arg`, ``--work-dir`` and
    ``--cfg-options``: what the deployment tools take."""
    parser.add_argument(
        '--backend',
        choices=BACKENDS,
        default=default_backend,
        help=backend_help)
    add_checkpoint_check_arg(parser)
    add_work_dir_arg(parser)
    add_config_args(parser)


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
    The config's ``env_cfg.dist_cfg.backend`` (MMSeg's default is NCCL,
    which runs on GPUs only) is replaced by gloo, with a warning. Launches
    that this does not cover (``--launcher slurm`` on CPUs, MMSeg's own
    tools) stop with an explaining error in ``GuardedRunner``
    (:func:`~mmseg_convlstm.engine.check_launch`).
    """
    if (cfg.launcher != 'pytorch' or torch.cuda.is_available()
            or torch_dist.is_initialized()):
        return
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend')
    if backend not in (None, 'gloo'):
        print_log(
            f'env_cfg.dist_cfg.backend={backend!r} needs CUDA GPUs, which '
            'this machine lacks: the processes use the gloo backend',
            logger='current',
            level=logging.WARNING)
    torch_dist.init_process_group(backend='gloo')
    cfg.env_cfg.dist_cfg = dict(
        cfg.env_cfg.get('dist_cfg', {}), backend='gloo')


def end_distributed() -> None:
    """Destroys the process group of a distributed run once its work is
    done. Left to the interpreter's exit, a gloo group's threads can be torn
    down while still running, and a rank then aborts ("terminate called
    without an active exception") after a finished training, failing the
    launch."""
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


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
                    'dataset there (see docs/en/get_started.md, "Data") or '
                    f'override it with --cfg-options {key}=PATH')


def write_table(work_dir: str, file_name: str, table: str) -> None:
    """Writes a tool's table to ``work_dir/file_name`` and prints it with
    the path."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, file_name)
    with open(path, 'w') as file:
        file.write(table)
    print(table + f'\nwritten to {path}')


def add_benchmark_args(parser: argparse.ArgumentParser, name: str,
                       default_steps: Sequence[int]) -> None:
    """The arguments the benchmark tools share: the config, ``--shape``,
    ``--steps``, ``--baselines``, ``--repeats``, ``--out-dir`` (for
    ``<name>_HxW.md/.json``) and :func:`add_inference_args`."""
    parser.add_argument('config', help='config file of the recurrent model')
    add_shape_arg(parser)
    parser.add_argument(
        '--steps',
        type=int,
        nargs='+',
        default=list(default_steps),
        help='numbers of recurrent steps to measure')
    parser.add_argument(
        '--baselines',
        nargs='+',
        default=list(BENCHMARK_BASELINES),
        metavar='CONFIG',
        help='baseline configs, files or mmseg::algorithm/name.py (default: '
        'DeepLabV3 R-101-D8, PSPNet R-101-D8)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs of each model, whose median is reported')
    parser.add_argument(
        '--out-dir',
        help=f'where to write {name}_HxW.md/.json (default: '
        f'<work dir>/{name})')
    add_inference_args(parser)


def write_report(args: argparse.Namespace, cfg: Config, name: str,
                 shape: Tuple[int, int], report: Any) -> None:
    """Writes a benchmark's dataclass ``report`` as ``<name>_HxW.json`` and
    its tables (``report.markdown()``) as ``.md`` in ``--out-dir`` (default
    ``<work dir>/<name>``), and prints the tables."""
    out_dir = args.out_dir or osp.join(cfg.work_dir, name)
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.join(out_dir, f'{name}_{shape[0]}x{shape[1]}')
    tables = report.markdown()
    with open(f'{stem}.md', 'w') as file:
        file.write(tables)
    with open(f'{stem}.json', 'w') as file:
        json.dump(dataclasses.asdict(report), file, indent=2)
    print(f'\n{tables}\nwritten: {stem}.md and .json')
