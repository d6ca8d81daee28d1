"""The optimizer wrapper of a config in a chosen precision, as
``tools/train.py --amp`` and the training benchmark set it."""
import copy

from mmengine.config import ConfigDict

PRECISIONS = ('fp32', 'fp16', 'bf16')
AMP_DTYPES = dict(fp16='float16', bf16='bfloat16')


def optim_wrapper_in_precision(optim_wrapper: dict,
                               precision: str) -> ConfigDict:
    """A copy of the ``optim_wrapper`` config that trains in ``precision``.

    Args:
        optim_wrapper (dict): An ``optim_wrapper`` config.
        precision (str): 'fp32' (the config's wrapper, or MMEngine's
            ``OptimWrapper`` instead of an ``AmpOptimWrapper``), or 'fp16'
            or 'bf16' (``AmpOptimWrapper`` with dynamic loss scaling).

    Returns:
        ConfigDict: The changed copy.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}: choose from '
                         f'{PRECISIONS}')
    optim_wrapper = copy.deepcopy(ConfigDict(optim_wrapper))
    if precision == 'fp32':
        if optim_wrapper.get('type') == 'AmpOptimWrapper':
            optim_wrapper.type = 'OptimWrapper'
        optim_wrapper.pop('dtype', None)
        optim_wrapper.pop('loss_scale', None)
    else:
        optim_wrapper.update(
            type='AmpOptimWrapper',
            dtype=AMP_DTYPES[precision],
            loss_scale='dynamic')
    return optim_wrapper
