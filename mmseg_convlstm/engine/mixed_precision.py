"""The optimizer wrapper of a config in a chosen precision, as
``tools/train.py --amp`` and the training benchmark set it."""
import copy

from mmengine.config import ConfigDict
from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)

PRECISIONS = ('fp32', 'fp16', 'bf16')
AMP_DTYPES = dict(fp16='float16', bf16='bfloat16')
AMP_WRAPPERS = dict(
    OptimWrapper='AmpOptimWrapper',
    NonFiniteLossOptimWrapper='NonFiniteLossAmpOptimWrapper')
"""The mixed-precision wrapper of each full-precision one."""


def optim_wrapper_in_precision(optim_wrapper: dict,
                               precision: str) -> ConfigDict:
    """A copy of the ``optim_wrapper`` config that trains in ``precision``.

    Args:
        optim_wrapper (dict): An ``optim_wrapper`` config.
        precision (str): 'fp32' (the full-precision wrapper of the config's:
            MMEngine's ``OptimWrapper`` for an ``AmpOptimWrapper``,
            ``NonFiniteLossOptimWrapper`` for a
            ``NonFiniteLossAmpOptimWrapper``), or 'fp16' or 'bf16' (its
            mixed-precision wrapper, with dynamic loss scaling:
            ``NonFiniteLossAmpOptimWrapper`` for a
            ``NonFiniteLossOptimWrapper``, which keeps its non-finite-loss
            guard, else ``AmpOptimWrapper``).

    Returns:
        ConfigDict: The changed copy.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}: choose from '
                         f'{PRECISIONS}')
    optim_wrapper = copy.deepcopy(ConfigDict(optim_wrapper))
    wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
    if precision == 'fp32':
        full_precision = {amp: fp32 for fp32, amp in AMP_WRAPPERS.items()}
        if wrapper_type in full_precision:
            optim_wrapper.type = full_precision[wrapper_type]
        optim_wrapper.pop('dtype', None)
        optim_wrapper.pop('loss_scale', None)
    else:
        if wrapper_type not in AMP_WRAPPERS.values():
            wrapper_type = AMP_WRAPPERS.get(wrapper_type, 'AmpOptimWrapper')
        optim_wrapper.update(
            type=wrapper_type,
            dtype=AMP_DTYPES[precision],
            loss_scale='dynamic')
    return optim_wrapper


def check_amp_available(option: str = '--amp') -> None:
    """Raises a ``RuntimeError`` naming ``option`` when this machine has
    none of the devices MMEngine's ``AmpOptimWrapper`` trains on (CUDA, NPU,
    MLU or MUSA): on a CPU-only machine the wrapper would stop with a bare
    assertion, after the datasets and the model were built."""
    if not (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available()):
        raise RuntimeError(
            f'{option}: mixed-precision training uses MMEngine\'s '
            'AmpOptimWrapper, which needs a GPU (CUDA, NPU, MLU or MUSA); '
            f'none is available here: drop {option} to train in fp32 on the '
            'CPU')
