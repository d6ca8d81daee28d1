"""The losses of every training step, without full-resolution upsampling,
and a class-weighted cross-entropy that ignores void pixels."""
from .class_weighted_cross_entropy import ClassWeightedCrossEntropyLoss

__all__ = ['ClassWeightedCrossEntropyLoss']
