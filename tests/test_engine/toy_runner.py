"""A linear model trained by a GuardedRunner in-process, for the engine
tests that need a real run (a second or two)."""
import os

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmseg_convlstm.engine import (AtomicCheckpointHook, GuardedRunner,
                                   PreemptionHook, SafeCheckpointHook)


class PairDataset(Dataset):
    """Eight samples; each records the pid of the process that loaded it."""

    metainfo: dict = {}

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.tensor([float(index), 1.0]), pid=os.getpid())

    def get_data_info(self, index):
        return {}


class LinearModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, pid=None, mode='tensor'):
        outputs = self.linear(torch.stack(inputs))
        return dict(loss=(outputs**2).mean()) if mode == 'loss' else outputs


def dataloader(num_workers=0):
    return dict(
        dataset=PairDataset(),
        sampler=dict(type='InfiniteSampler', shuffle=False),
        collate_fn=dict(type='pseudo_collate'),
        batch_size=2,
        num_workers=num_workers)


def build_runner(work_dir, *hooks, max_iters=6, model=None, **kwargs):
    """A GuardedRunner of ``max_iters`` iterations of ``model`` (default a
    :class:`LinearModel`) with the checkpoint, safe-checkpoint and
    preemption hooks of the configs (a checkpoint every 100 iterations) and
    ``hooks``; ``kwargs`` go to the runner."""
    return GuardedRunner(
        model=model or LinearModel(),
        work_dir=str(work_dir),
        train_dataloader=dataloader(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=AtomicCheckpointHook(by_epoch=False, interval=100)),
        custom_hooks=[SafeCheckpointHook(), PreemptionHook(), *hooks],
        experiment_name=f'toy-{work_dir.name}',
        # The scope of the configs: a runner makes its scope the current one
        # for the tests that follow.
        default_scope='mmseg',
        **kwargs)
