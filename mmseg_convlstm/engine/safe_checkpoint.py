"""Checkpoints that load with ``torch.load(weights_only=True)``.

MMEngine pickles its message hub's ``HistoryBuffer`` objects, numpy arrays
and ``builtins.getattr`` (for bound methods) into every checkpoint; torch
>= 2.6 refuses them by default, and allowing ``getattr`` would let a file
call any function. :func:`to_plain_data` rewrites a checkpoint into tensors,
containers and Python scalars only, which the weights-only unpickler accepts
without any extra allowlist; :func:`load_checkpoint_safely` (registered for
local paths when :mod:`mmseg_convlstm` is imported) loads with
``weights_only=True``, refuses any other pickled global by name, and
rebuilds the history buffers.
"""
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

HISTORY_BUFFER_KEY = '__history_buffer__'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles objects whose loading could run code."""


class UnreadableCheckpointError(RuntimeError):
    """A checkpoint file is truncated, corrupt or not a checkpoint."""


def to_plain_data(obj: Any) -> Any:
    """Rewrites ``obj`` (a checkpoint or part of one) into tensors, dicts,
    lists, tuples and Python scalars; history buffers become tagged dicts."""
    if isinstance(obj, HistoryBuffer):
        log_history, count_history = obj.data
        return {
            HISTORY_BUFFER_KEY:
            dict(
                max_length=obj.max_length,
                log_history=log_history.tolist(),
                count_history=count_history.tolist())
        }
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if isinstance(obj, OrderedDict):
        return OrderedDict(
            (key, to_plain_data(value)) for key, value in obj.items())
    if isinstance(obj, dict):
        return {key: to_plain_data(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_plain_data(value) for value in obj)
    return obj


def restore_history_buffers(obj: Any) -> Any:
    """Inverse of :func:`to_plain_data` for the history buffers."""
    if isinstance(obj, dict):
        if set(obj) == {HISTORY_BUFFER_KEY}:
            state = obj[HISTORY_BUFFER_KEY]
            return HistoryBuffer(state['log_history'], state['count_history'],
                                 state['max_length'])
        for key, value in obj.items():
            obj[key] = restore_history_buffers(value)
    elif isinstance(obj, list):
        obj[:] = [restore_history_buffers(value) for value in obj]
    return obj


def unsafe_globals(filename: str) -> List[str]:
    """The pickled globals of a checkpoint that weights-only loading
    refuses."""
    try:
        return torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # not a zip checkpoint: the load error says more
        return []


def load_checkpoint_safely(
        filename: str,
        map_location: Optional[Union[str, Callable]] = None) -> Any:
    """Loads a local checkpoint with ``weights_only=True``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: it pickles a global outside torch's
            weights-only allowlist (each one is named; nothing in it runs).
        UnreadableCheckpointError: it is truncated or not a checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    try:
        checkpoint = torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        names = ', '.join(unsafe_globals(filename)) or str(error)
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {filename}: it pickles objects '
            f'that could run code when loaded ({names}). Checkpoints written '
            'with SafeCheckpointHook need none of them; only load this file '
            'by other means if you trust where it came from.') from None
    except Exception as error:
        raise UnreadableCheckpointError(
            f'cannot read checkpoint {filename} (truncated, corrupt or not a '
            f'checkpoint): {error}') from error
    return restore_history_buffers(checkpoint)


def register_safe_local_loader() -> None:
    """Makes MMEngine (runner, ``load_checkpoint``, ``init_model``) load
    local checkpoints with :func:`load_checkpoint_safely`."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_safely, force=True)
