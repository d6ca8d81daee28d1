from .camvid_dataset import CamVidDataset
from .camvid_sequence_dataset import CamVidSequenceDataset
from .cityscapes_sequence_dataset import CityscapesSequenceDataset
from .synthetic import make_camvid_tree, make_cityscapes_tree, make_voc_tree
from .transforms import LoadStackedClip, PackClipSegInputs

__all__ = [
    'CamVidDataset', 'CamVidSequenceDataset', 'CityscapesSequenceDataset',
    'LoadStackedClip', 'PackClipSegInputs', 'make_camvid_tree',
    'make_cityscapes_tree', 'make_voc_tree'
]
