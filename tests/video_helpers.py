"""A tiny version of the video config and generated Cityscapes sequence
trees for the video tests."""
import os.path as osp

from mmengine.config import Config

from mmseg_convlstm.datasets import make_cityscapes_tree
from tests.tools_runner import REPO

VIDEO_CONFIG = osp.join(
    REPO, 'configs', 'video',
    'convlstm_r18-d16-mg248_1xb8-250i_synthcityscapes-seq-129x257.py')
IMAGE_SIZE = (33, 65)
SEQUENCE_LENGTH = 4


def make_sequence_tree(root: str, num_val: int = 2) -> str:
    """A Cityscapes tree with ``SEQUENCE_LENGTH``-frame clips of small
    frames."""
    return make_cityscapes_tree(
        root,
        dict(train=1, val=num_val),
        image_size=IMAGE_SIZE,
        sequence_length=SEQUENCE_LENGTH)


def tiny_video_config(path: str, data_root: str, **video_cfg) -> str:
    """Writes the video config with a narrow ResNetV1c-18 and head, reading
    ``data_root``, to ``path``; returns ``path``."""
    cfg = Config.fromfile(VIDEO_CONFIG)
    cfg.merge_from_dict({
        'model.backbone.stem_channels':
        8,
        'model.backbone.base_channels':
        8,
        'model.decode_head.in_channels':
        64,
        'model.decode_head.hidden_channels': (16, 8, 19),
        'model.decode_head.num_steps':
        3,
        'model.test_cfg.num_steps':
        3,
        'video_test_dataloader.dataset.data_root':
        data_root,
        'video_test_dataloader.dataset.context_frames':
        SEQUENCE_LENGTH - 1,
        'test_dataloader.dataset.data_root':
        data_root,
    })
    cfg.video_cfg.update(video_cfg)
    cfg.dump(path)
    return path
