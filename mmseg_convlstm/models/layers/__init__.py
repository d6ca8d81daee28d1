"""The building blocks of the recurrent head: the cell, its state, and the
context modules computed once per image before the steps."""
from .aspp_context import ASPPContext
from .convlstm_cell import ConvLSTMCell, lstm_pointwise
from .ppm_context import PPMContext
from .recurrent_state import RecurrentState

__all__ = [
    'ASPPContext', 'ConvLSTMCell', 'PPMContext', 'RecurrentState',
    'lstm_pointwise'
]
