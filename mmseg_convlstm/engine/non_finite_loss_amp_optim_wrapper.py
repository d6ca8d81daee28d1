from mmengine.optim import AmpOptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from .non_finite_loss_optim_wrapper import NonFiniteLossGuard


@OPTIM_WRAPPERS.register_module()
class NonFiniteLossAmpOptimWrapper(NonFiniteLossGuard, AmpOptimWrapper):
    """``AmpOptimWrapper`` (mixed precision, loss scaling) that refuses to
    train on a NaN or infinite loss, as :class:`NonFiniteLossOptimWrapper`
    does in full precision (see :class:`NonFiniteLossGuard`).

    The loss is checked as the forward pass returned it, before scaling:
    gradients that overflow in fp16 are the loss scaler's business (it
    skips that step and lowers the scale), a non-finite loss is not.

    Registered in MMEngine's root registry, so that ``build_optim_wrapper``
    finds it with or without MMSeg's default scope.

    Args:
        non_finite_loss (str): ``'stop'`` or ``'skip'``, see
            :class:`NonFiniteLossGuard`. Default: ``'stop'``.
        **kwargs: Arguments of ``AmpOptimWrapper`` (``dtype``,
            ``loss_scale``, ``optimizer``, ...).
    """
