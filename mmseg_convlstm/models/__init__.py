"""The model in MMSeg's shape: decode heads, segmentors, layers, losses,
exits (when the steps stop) and acceleration."""
from .data_preprocessors import ClipSegDataPreProcessor
from .decode_heads import ConvLSTMCanvasHead
from .layers import ConvLSTMCell, RecurrentState
from .losses import ClassWeightedCrossEntropyLoss
from .segmentors import ClipRecurrentEncoderDecoder, RecurrentEncoderDecoder

__all__ = [
    'ClassWeightedCrossEntropyLoss', 'ClipRecurrentEncoderDecoder',
    'ClipSegDataPreProcessor', 'ConvLSTMCanvasHead', 'ConvLSTMCell',
    'RecurrentEncoderDecoder', 'RecurrentState'
]
