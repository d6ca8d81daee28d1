"""Memory of one training step through the frames of a clip
(:class:`ClipRecurrentEncoderDecoder`) against the clip length K.

Two measures:

- the activations saved for the backward pass: the bytes of every distinct
  tensor storage that autograd keeps (hooked with
  :func:`torch.autograd.graph.saved_tensors_hooks`; the parameters are left
  out), on any device. This is what grows with K, and what
  ``context_backbone_grad=False`` and the backbone's ``with_cp=True`` cut;
- on CUDA, the peak memory allocated during the step
  (:func:`torch.cuda.max_memory_allocated`), weights and gradients
  included.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence, Tuple

import torch
from torch import Tensor

from mmseg.models import BaseSegmentor
from .memory import MIB
from .workload import random_batch


@contextmanager
def saved_activations(model: BaseSegmentor) -> Iterator[Dict[int, int]]:
    """Collects, while active, the bytes of every distinct storage (by
    address) that autograd saves for the backward pass, except the
    model's parameters."""
    parameters = {
        parameter.untyped_storage().data_ptr()
        for parameter in model.parameters()
    }
    storages: Dict[int, int] = {}

    def pack(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield storages


def clip_step_memory(model: BaseSegmentor, clip_frames: int,
                     shape: Tuple[int, int], batch_size: int) -> dict:
    """The memory of one training step (loss and backward) of ``model`` on
    a batch of random clips of ``clip_frames`` frames.

    Returns:
        dict: ``clip_frames``, ``saved_activations_mib`` and
        ``peak_allocated_mib`` (None off CUDA).
    """
    batch = random_batch(model, shape, batch_size, clip_frames=clip_frames)
    on_cuda = batch['inputs'].is_cuda
    if on_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    with saved_activations(model) as storages:
        losses = model.loss(**batch)
    sum(value for name, value in losses.items() if 'loss' in name).backward()
    model.zero_grad(set_to_none=True)
    peak = torch.cuda.max_memory_allocated() / MIB if on_cuda else None
    return dict(
        clip_frames=clip_frames,
        saved_activations_mib=round(sum(storages.values()) / MIB, 2),
        peak_allocated_mib=None if peak is None else round(peak, 1))


def clip_memory_rows(model: BaseSegmentor, clip_frames: Sequence[int],
                     shape: Tuple[int, int], batch_size: int) -> List[dict]:
    """:func:`clip_step_memory` for every clip length."""
    return [
        clip_step_memory(model, frames, shape, batch_size)
        for frames in clip_frames
    ]


def clip_memory_table(rows: List[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        '| clip frames K | saved activations (MiB) | peak allocated (MiB) |',
        '| --- | --- | --- |'
    ]
    for row in rows:
        peak = row['peak_allocated_mib']
        lines.append(f"| {row['clip_frames']} | "
                     f"{row['saved_activations_mib']:.2f} | "
                     f"{'n/a (CPU)' if peak is None else peak} |")
    return '\n'.join(lines) + '\n'
