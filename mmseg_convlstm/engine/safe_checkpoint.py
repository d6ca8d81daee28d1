"""Checkpoints that load with ``torch.load(weights_only=True)``.

MMEngine pickles its message hub's ``HistoryBuffer`` objects, numpy arrays
and ``builtins.getattr`` (for bound methods) into every checkpoint; torch
>= 2.6 refuses them by default, and allowing ``getattr`` would let a file
call any function. :func:`to_plain_data` rewrites a checkpoint into tensors,
containers and Python scalars only, which the weights-only unpickler accepts
without any extra allowlist; :func:`load_checkpoint_safely` (registered for
local paths when :mod:`mmseg_convlstm` is imported) loads with
``weights_only=True``, refuses any other pickled global by name, and
rebuilds the history buffers. :func:`convert_to_safe_checkpoint` rewrites a
checkpoint of MMEngine's stock ``CheckpointHook`` (or of MMSeg's model zoo)
into the safe form, loading it once with ``weights_only=False`` only when
told to trust its pickled code.
"""
import io
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Any, Callable, List, NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from .atomic_local_backend import write_atomically

HISTORY_BUFFER_KEY = '__history_buffer__'
PLAIN_LEAF_TYPES = (torch.Tensor, torch.nn.Parameter, str, int, float, bool,
                    type(None))
CONVERTER = 'tools/model_converters/safe_checkpoint.py --trust-pickled-code'


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
            'with SafeCheckpointHook need none of them. If you trust where '
            f'it came from, convert it with {CONVERTER}.') from None
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


def is_plain(obj: Any) -> bool:
    """Whether ``obj`` holds only tensors, dicts, lists, tuples and Python
    scalars (exactly these types), which weights-only loading accepts."""
    if type(obj) in PLAIN_LEAF_TYPES:
        return True
    if type(obj) in (dict, OrderedDict):
        return all(is_plain(key) and is_plain(value)
                   for key, value in obj.items())
    if type(obj) in (list, tuple):
        return all(is_plain(value) for value in obj)
    return False


def drop_unplain_entries(entries: dict,
                         prefix: str = '') -> Tuple[dict, List[str]]:
    """``entries`` without the values that are not plain (see
    :func:`is_plain`), searched through nested dicts; returns the kept
    entries and the dotted names of the dropped ones."""
    kept, dropped = type(entries)(), []
    for key, value in entries.items():
        name = f'{prefix}{key}'
        if type(value) in (dict, OrderedDict) and is_plain(key):
            kept[key], dropped_inside = drop_unplain_entries(
                value, name + '.')
            dropped += dropped_inside
        elif is_plain(key) and is_plain(value):
            kept[key] = value
        else:
            dropped.append(name)
    return kept, dropped


class SafeConversion(NamedTuple):
    """What :func:`convert_to_safe_checkpoint` did."""
    pickled_globals: List[str]  # what the source pickled beyond weights
    dropped: List[str]  # entries that could not be written plainly


def _load_trusting_pickled_code(source: str) -> Any:
    if not osp.isfile(source):
        raise FileNotFoundError(f'checkpoint {source} can not be found')
    try:
        return torch.load(source, map_location='cpu', weights_only=False)
    except Exception as error:
        raise UnreadableCheckpointError(
            f'cannot read checkpoint {source}: {error}') from error


def _load_refusing_pickled_code(source: str) -> Any:
    try:
        return load_checkpoint_safely(source, map_location='cpu')
    except UnsafeCheckpointError:
        names = ', '.join(sorted(unsafe_globals(source)))
        raise UnsafeCheckpointError(
            f'not converting {source} without --trust-pickled-code '
            '(trust_pickled_code=True): converting loads it once with '
            'weights_only=False, which runs the code its pickled objects '
            f'name ({names}). Pass it only for a file whose origin you '
            'trust.') from None


def convert_to_safe_checkpoint(
        source: str,
        destination: str,
        trust_pickled_code: bool = False) -> SafeConversion:
    """Rewrites the checkpoint ``source`` (MMEngine's stock
    ``CheckpointHook`` or an MMSeg model-zoo file) into ``destination``,
    written atomically, in the form :func:`load_checkpoint_safely` accepts:
    :func:`to_plain_data` of every entry (weights, ``meta``, optimizer,
    schedulers, message hub), without the entries that stay unplain.

    Args:
        source: The checkpoint to convert.
        destination: Where the safe checkpoint is written.
        trust_pickled_code: Load ``source`` with ``weights_only=False``,
            running whatever its pickled objects name. Without it only a
            checkpoint that already loads safely is rewritten.

    Raises:
        UnsafeCheckpointError: ``source`` pickles objects beyond torch's
            weights-only allowlist and ``trust_pickled_code`` is False.
        UnreadableCheckpointError: ``source`` is not a readable checkpoint.
    """
    pickled_globals = sorted(unsafe_globals(source))
    if trust_pickled_code:
        checkpoint = _load_trusting_pickled_code(source)
    else:
        checkpoint = _load_refusing_pickled_code(source)
    if not isinstance(checkpoint, dict):
        raise UnreadableCheckpointError(
            f'{source} holds a {type(checkpoint).__name__}, not a checkpoint '
            'dict')
    plain, dropped = drop_unplain_entries(to_plain_data(checkpoint))
    buffer = io.BytesIO()
    torch.save(plain, buffer)
    write_atomically(destination, buffer.getvalue())
    return SafeConversion(pickled_globals, dropped)
