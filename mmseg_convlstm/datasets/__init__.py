from .cityscapes_sequence_dataset import CityscapesSequenceDataset
from .synthetic import make_cityscapes_tree, make_voc_tree
from .transforms import LoadStackedClip, PackClipSegInputs

__all__ = [
    'CityscapesSequenceDataset', 'LoadStackedClip', 'PackClipSegInputs',
    'make_cityscapes_tree', 'make_voc_tree'
]
