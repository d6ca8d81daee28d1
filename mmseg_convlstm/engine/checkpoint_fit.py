"""Whether a checkpoint's weights fit a model: the one check that the test,
export and deployed-test tools run before they load weights, since
MMEngine's loader only warns about keys it cannot place (a checkpoint of
another model then scores the random weights left in the model)."""
import logging
from typing import Dict, List, NamedTuple

from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from torch import Tensor, nn

from .safe_checkpoint import load_checkpoint_safely

SHOWN_KEYS = 5
PARTIAL_FLAG = '--allow-partial-checkpoint'


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not fit the model's."""


class CheckpointMismatch(NamedTuple):
    """How a checkpoint's weights differ from a model's, key by key, each
    list in the model's (or the checkpoint's) order."""
    missing: List[str]
    """Keys of the model that the checkpoint lacks."""
    unexpected: List[str]
    """Keys of the checkpoint that the model lacks."""
    reshaped: List[str]
    """Keys of both whose shapes differ, as ``'key: (checkpoint shape) vs
    (model shape)'``."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.reshaped)

    def describe(self) -> str:
        """The counts of each kind of difference and the first keys."""
        parts = []
        for name, keys in (('missing from the checkpoint', self.missing),
                           ('not in the model', self.unexpected),
                           ('of another shape', self.reshaped)):
            if keys:
                more = ', ...' if len(keys) > SHOWN_KEYS else ''
                parts.append(f'{len(keys)} key(s) {name} (first: '
                             f"{', '.join(keys[:SHOWN_KEYS])}{more})")
        return '; '.join(parts)


def checkpoint_weights(checkpoint: dict) -> Dict[str, Tensor]:
    """The weights of a loaded checkpoint: its ``state_dict`` (or the whole
    dict when it has none), without the ``module.`` prefix that a
    distributed wrapper leaves (as MMEngine's loader strips it)."""
    weights = checkpoint.get('state_dict', checkpoint)
    return {
        key[len('module.'):] if key.startswith('module.') else key: value
        for key, value in weights.items()
    }


def compare_weights(model: nn.Module,
                    weights: Dict[str, Tensor]) -> CheckpointMismatch:
    """How ``weights`` differ from the state of ``model`` (unwrapped from a
    distributed or test-time-augmentation wrapper)."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    state = model.state_dict()
    reshaped = [
        f'{key}: {tuple(weights[key].shape)} vs {tuple(value.shape)}'
        for key, value in state.items()
        if key in weights and weights[key].shape != value.shape
    ]
    return CheckpointMismatch([key for key in state if key not in weights],
                              [key for key in weights if key not in state],
                              reshaped)


def check_checkpoint_fits(model: nn.Module,
                          checkpoint: str,
                          allow_partial: bool = False) -> None:
    """Refuses a checkpoint whose weights do not fit ``model``: keys that
    one has and the other lacks, or shapes that differ.

    Args:
        model (nn.Module): The model (built from the config) the checkpoint
            is for.
        checkpoint (str): Path of the checkpoint.
        allow_partial (bool): Load a partial fit deliberately: log the
            differences as a warning instead. Default: False.

    Raises:
        CheckpointMismatchError: The checkpoint does not fit, naming the
            file and the first mismatched keys of each kind.
    """
    mismatch = compare_weights(
        model, checkpoint_weights(load_checkpoint_safely(checkpoint, 'cpu')))
    if not mismatch:
        return
    message = (f'checkpoint {checkpoint} does not fit the model of the '
               f'config: {mismatch.describe()}')
    if not allow_partial:
        raise CheckpointMismatchError(
            f'{message}. Is it the checkpoint of another config? To load the '
            f'keys that fit deliberately, pass {PARTIAL_FLAG}.')
    print_log(
        f'{message}; loading what fits ({PARTIAL_FLAG})',
        logger='current',
        level=logging.WARNING)
