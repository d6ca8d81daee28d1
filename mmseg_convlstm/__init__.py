"""Recurrent semantic segmentation for variable computational budgets, as an
MMSegmentation plugin. Importing the package registers its models, metrics,
datasets and hooks in MMSeg's registries and makes MMEngine load local
checkpoints with ``weights_only=True`` (see :mod:`mmseg_convlstm.engine`)."""
from . import datasets, engine, evaluation, models  # noqa: F401
from .version import __version__

engine.register_safe_local_loader()

__all__ = ['__version__']
