import logging
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

ACTIONS = ('stop', 'skip')


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class NonFiniteLossGuard:
    """The non-finite-loss check of :class:`NonFiniteLossOptimWrapper` and
    :class:`~.NonFiniteLossAmpOptimWrapper`, for an ``OptimWrapper`` class
    that comes after it among the bases: it looks at the loss before it is
    back-propagated and refuses to train on a NaN or infinite one.

    The check sits here, between the forward pass and the optimizer step,
    because a hook only sees the loss after the step has already written
    NaN into the weights (and into momentum).

    Args:
        non_finite_loss (str): ``'stop'`` raises :class:`NonFiniteLossError`
            naming the iteration (as the log counts, from 1), before any
            backward pass, so the weights and the checkpoints stay finite.
            ``'skip'`` logs a warning and drops the iteration: no backward,
            no optimizer step, and the model's buffers (BatchNorm running
            statistics, which the forward pass has already updated with the
            bad batch) are restored to their values before the forward pass;
            with gradient accumulation, a skipped iteration that ends an
            accumulation window discards the window's gradients.
            Default: ``'stop'``.
        **kwargs: Arguments of the ``OptimWrapper`` class.
    """

    def __init__(self, non_finite_loss: str = 'stop', **kwargs) -> None:
        if non_finite_loss not in ACTIONS:
            raise ValueError(f'optim_wrapper.non_finite_loss must be one of '
                             f'{ACTIONS}, got {non_finite_loss!r}')
        super().__init__(**kwargs)
        self.non_finite_loss = non_finite_loss
        self._buffers_before_forward: List[Tuple[torch.Tensor,
                                                 torch.Tensor]] = []

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Updates the parameters as ``OptimWrapper`` does when ``loss`` is
        finite; otherwise stops or skips (see the class)."""
        if bool(torch.isfinite(loss).all()):
            super().update_params(loss, step_kwargs, zero_kwargs)
            return
        iteration = MessageHub.get_current_instance().get_info('iter', 0) + 1
        message = (f'the training loss is {loss.detach().flatten()[0].item()}'
                   f' at iteration {iteration}')
        if self.non_finite_loss == 'stop':
            raise NonFiniteLossError(
                f'{message}: training stopped before the backward pass, so '
                'the weights and the saved checkpoints stay finite. Lower '
                'the learning rate or check the data; set '
                "optim_wrapper.non_finite_loss='skip' to skip such "
                'iterations instead.')
        print_log(
            f'{message}: skipped this iteration (no backward pass, no '
            'optimizer step, buffers restored)',
            logger='current',
            level=logging.WARNING)
        for buffer, saved in self._buffers_before_forward:
            buffer.copy_(saved)
        self._inner_count += 1
        if self.should_update():
            self.zero_grad(**(zero_kwargs or {}))

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """The context of the forward pass; with ``'skip'`` it first saves
        the model's buffers (BatchNorm statistics, which the forward pass
        updates) so that a skipped iteration can restore them."""
        if self.non_finite_loss == 'skip':
            self._buffers_before_forward = [
                (buffer, buffer.detach().clone())
                for buffer in model.buffers()
            ]
        with super().optim_context(model):
            yield


@OPTIM_WRAPPERS.register_module()
class NonFiniteLossOptimWrapper(NonFiniteLossGuard, OptimWrapper):
    """``OptimWrapper`` that refuses to train on a NaN or infinite loss (see
    :class:`NonFiniteLossGuard`).

    Registered in MMEngine's root registry, so that ``build_optim_wrapper``
    finds it with or without MMSeg's default scope.

    Args:
        non_finite_loss (str): ``'stop'`` or ``'skip'``, see
            :class:`NonFiniteLossGuard`. Default: ``'stop'``.
        **kwargs: Arguments of ``OptimWrapper``.
    """
