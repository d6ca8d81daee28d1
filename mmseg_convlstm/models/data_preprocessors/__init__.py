"""Data preprocessors of video clips."""
from .clip_seg_data_preprocessor import ClipSegDataPreProcessor

__all__ = ['ClipSegDataPreProcessor']
