"""Time writing a full training checkpoint (model and SGD momentum) of a
config's model with MMEngine's LocalBackend and with AtomicLocalBackend
(temporary file, fsync, rename), to show what atomic saving costs."""
import argparse
import io
import os
import os.path as osp
import time

import torch
from mmengine.fileio import LocalBackend
from mmengine.registry import init_default_scope

from mmseg.registry import MODELS
from mmseg_convlstm.cli import add_config_args, add_work_dir_arg, load_config
from mmseg_convlstm.engine import AtomicLocalBackend


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of the model to save')
    parser.add_argument(
        '--repeats', type=int, default=3, help='writes per backend')
    add_work_dir_arg(parser)
    add_config_args(parser)
    return parser.parse_args()


def checkpoint_bytes(cfg) -> bytes:
    """A checkpoint of the config's model with one momentum buffer per
    tensor, as SGD's state adds, serialized by ``torch.save``."""
    init_default_scope('mmseg')
    cfg.model.pretrained = None
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    state = MODELS.build(cfg.model).state_dict()
    momentum = {key: value.clone() for key, value in state.items()}
    buffer = io.BytesIO()
    torch.save(dict(state_dict=state, optimizer=momentum), buffer)
    return buffer.getvalue()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    data = checkpoint_bytes(cfg)
    os.makedirs(cfg.work_dir, exist_ok=True)
    path = osp.join(cfg.work_dir, 'benchmark_checkpoint.pth')
    print(f'checkpoint of {args.config}: {len(data) / 2**20:.0f} MiB')
    for name, backend in (('LocalBackend', LocalBackend()),
                          ('AtomicLocalBackend', AtomicLocalBackend())):
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            backend.put(data, path)
            seconds.append(time.perf_counter() - start)
        print(f'{name}: median {sorted(seconds)[len(seconds) // 2]:.2f} s '
              f'per write ({args.repeats} writes)')
    os.remove(path)


if __name__ == '__main__':
    main()
