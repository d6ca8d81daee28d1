"""Deterministic CUDA training with a loss that cannot run deterministically
there, refused at start-up with the keys to change (instead of PyTorch's
``RuntimeError: ... does not have a deterministic implementation`` at the
first backward pass)."""
from typing import List, Union

import torch
from mmengine.model import is_model_wrapper
from torch import nn


def interpolated_losses(model: nn.Module) -> List[str]:
    """The heads of ``model`` whose training loss is MMSeg's
    ``loss_by_feat``, which upsamples the logits with
    ``F.interpolate(mode='bilinear')``, each as the reason and the config
    key: a :class:`ConvLSTMCanvasHead` whose ``step_loss_fallback`` names
    one (a pixel sampler, ``step_loss_fast_path=False``), another decode
    head, and the auxiliary heads. A recurrent head on its fast path
    upsamples with matrix products instead.

    Args:
        model (nn.Module): The segmentor, or a wrapper (DDP) of it.

    Returns:
        list[str]: One reason per head; empty when none interpolates.
    """
    if is_model_wrapper(model):
        model = model.module
    reasons = []
    head = getattr(model, 'decode_head', None)
    if head is not None:
        if not hasattr(head, 'step_loss_fallback'):
            reasons.append(f'model.decode_head ({type(head).__name__}) '
                           "computes its loss with MMSeg's loss_by_feat")
        elif head.step_loss_fallback is not None:
            reasons.append(f'the step losses fall back to loss_by_feat: '
                           f'{head.step_loss_fallback}')
    if getattr(model, 'with_auxiliary_head', False):
        reasons.append("model.auxiliary_head computes its loss with MMSeg's "
                       'loss_by_feat')
    return reasons


def check_deterministic_training(model: nn.Module,
                                 device: Union[str, torch.device],
                                 deterministic: bool) -> None:
    """Raises ``ValueError`` when ``randomness.deterministic=True`` would
    train ``model`` on a CUDA device with a loss that upsamples with
    ``F.interpolate(mode='bilinear')`` (:func:`interpolated_losses`): its
    CUDA backward has no deterministic implementation, so
    ``torch.use_deterministic_algorithms(True)`` makes the first iteration
    raise. On the CPU these operations are deterministic: nothing is
    refused there.

    Args:
        model (nn.Module): The segmentor to train, or a wrapper of it.
        device (str | torch.device): Where it trains.
        deterministic (bool): ``randomness.deterministic``.
    """
    if not deterministic or torch.device(device).type != 'cuda':
        return
    reasons = interpolated_losses(model)
    if reasons:
        raise ValueError(
            'randomness.deterministic=True cannot train on CUDA with a loss '
            "that upsamples with F.interpolate(mode='bilinear'), whose CUDA "
            'backward has no deterministic implementation (PyTorch would '
            'raise at the first iteration): ' + '; '.join(reasons) + '. '
            'Use the fast step losses (model.decode_head.sampler=None, '
            'model.decode_head.step_loss_fast_path=True, no '
            'model.auxiliary_head), set randomness.deterministic=False, or '
            'train on the CPU.')
