"""Segmentors whose prediction can be read after every recurrent step."""
from .clip_recurrent_encoder_decoder import ClipRecurrentEncoderDecoder
from .recurrent_encoder_decoder import RecurrentEncoderDecoder

__all__ = ['ClipRecurrentEncoderDecoder', 'RecurrentEncoderDecoder']
