"""Decode heads: the recurrent canvas head."""
from .convlstm_canvas_head import ConvLSTMCanvasHead

__all__ = ['ConvLSTMCanvasHead']
