import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

CAMVID_CLASSES = ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree',
                  'SignSymbol', 'Fence', 'Car', 'Pedestrian', 'Bicyclist')
# SegNet's colours for the 11 classes (SegNet-Tutorial's Scripts).
CAMVID_PALETTE = ([128, 128, 128], [128, 0, 0], [192, 192, 128],
                  [128, 64, 128], [60, 40, 222], [128, 128, 0],
                  [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0],
                  [0, 128, 192])
# SegNet's median-frequency balancing weights of the 11 classes (its
# segnet_train.prototxt), for CrossEntropyLoss(class_weight=...).
SEGNET_CLASS_WEIGHTS = (0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826,
                        9.6446, 1.8418, 0.6823, 6.2478, 7.3614)
CAMVID_VOID = 11
IGNORE_INDEX = 255
FRAME_NAME = re.compile(r'^(?P<sequence>.+)_f?(?P<frame>\d+)$')


def camvid_frame(name: str) -> Tuple[str, int]:
    """(sequence, frame number) of a CamVid file name such as
    ``0016E5_07959.png`` or ``0006R0_f00930.png``.

    Raises:
        ValueError: For a name not of the form ``SEQUENCE_[f]FRAME``.
    """
    match = FRAME_NAME.match(osp.splitext(osp.basename(name))[0])
    if match is None:
        raise ValueError(f'{name} is not named SEQUENCE_FRAME as CamVid '
                         'names its frames (e.g. 0016E5_07959.png)')
    return match['sequence'], int(match['frame'])


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid (Brostow et al. 2009) in SegNet's 11-class layout.

    ``data_root`` holds ``train/`` + ``trainannot/``, ``val/`` + ``valannot/``
    and ``test/`` + ``testannot/`` (any of them): RGB PNG images and label
    PNGs of the same names, values 0-10 the classes of :attr:`METAINFO` and
    11 void. Void becomes 255 (``ignore_index``) when the labels are loaded
    (through the dataset's ``label_map``, which MMSeg's ``LoadAnnotations``
    applies), so the loss and the metric ignore it. Samples are listed in
    frame order (sequence, then frame number: see :func:`camvid_frame`), so
    a split's images are its video sequences in time.

    Args:
        data_prefix (dict): ``img_path`` and ``seg_map_path`` under
            ``data_root``. Default: the train split.
        img_suffix (str): Default: '.png'.
        seg_map_suffix (str): Default: '.png'.
        **kwargs: Arguments of :class:`BaseSegDataset`.
    """
    METAINFO = dict(classes=CAMVID_CLASSES, palette=list(CAMVID_PALETTE))

    def __init__(self,
                 data_prefix: dict = dict(
                     img_path='train', seg_map_path='trainannot'),
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None
                      ) -> Dict[int, int]:
        """MMSeg's mapping for a subset of the classes, with void ignored."""
        label_map = super().get_label_map(new_classes) or {}
        return {**label_map, CAMVID_VOID: IGNORE_INDEX}

    def load_data_list(self) -> List[dict]:
        """The samples of the split, in frame order."""
        data_list = super().load_data_list()
        return sorted(
            data_list, key=lambda info: camvid_frame(info['img_path']))
