from .convlstm_canvas_head import ConvLSTMCanvasHead, RecurrentState
from .convlstm_cell import ConvLSTMCell
from .recurrent_encoder_decoder import RecurrentEncoderDecoder

__all__ = [
    'ConvLSTMCanvasHead', 'ConvLSTMCell', 'RecurrentEncoderDecoder',
    'RecurrentState'
]
