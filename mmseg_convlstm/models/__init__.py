from .clip_recurrent_encoder_decoder import ClipRecurrentEncoderDecoder
from .clip_seg_data_preprocessor import ClipSegDataPreProcessor
from .convlstm_canvas_head import ConvLSTMCanvasHead, RecurrentState
from .convlstm_cell import ConvLSTMCell
from .recurrent_encoder_decoder import RecurrentEncoderDecoder

__all__ = [
    'ClipRecurrentEncoderDecoder', 'ClipSegDataPreProcessor',
    'ConvLSTMCanvasHead', 'ConvLSTMCell', 'RecurrentEncoderDecoder',
    'RecurrentState'
]
