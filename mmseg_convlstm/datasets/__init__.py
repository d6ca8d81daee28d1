from .camvid_dataset import CamVidDataset
from .camvid_sequence_dataset import CamVidSequenceDataset
from .cityscapes_sequence_dataset import CityscapesSequenceDataset
from .synthetic import make_camvid_tree, make_cityscapes_tree, make_voc_tree
from .transforms import (LoadClipAnnotations, LoadStackedClip,
                         PackClipSegInputs, RandomCameraMotionClip)

__all__ = [
    'CamVidDataset', 'CamVidSequenceDataset', 'CityscapesSequenceDataset',
    'LoadClipAnnotations', 'LoadStackedClip', 'PackClipSegInputs',
    'RandomCameraMotionClip', 'make_camvid_tree', 'make_cityscapes_tree',
    'make_voc_tree'
]
