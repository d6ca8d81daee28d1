"""A tiny version of the video config and generated Cityscapes sequence
trees for the video tests."""
import os.path as osp

from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmseg.registry import DATASETS

from mmseg_convlstm.datasets import make_cityscapes_tree
from tests.tools_runner import REPO

VIDEO_CONFIG = osp.join(
    REPO, 'configs', 'video',
    'convlstm_r18-d16-mg248_1xb8-250i_synthcityscapes-seq-129x257.py')
CLIP_CONFIG = osp.join(
    REPO, 'configs', 'video',
    'convlstm_r18-d16-mg248_1xb2-300i-clip8_synthcityscapes-seq-129x257.py')
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


def sequence_folder(root: str) -> str:
    """The folder of the frames of the val clips of a sequence tree."""
    return osp.join(root, 'leftImg8bit_sequence', 'val', 'synthcity')


def tiny_video_config(path: str,
                      data_root: str,
                      config: str = VIDEO_CONFIG,
                      **video_cfg) -> str:
    """Writes the video ``config`` with a narrow ResNetV1c-18 and head,
    reading ``data_root``, to ``path``; returns ``path``."""
    cfg = Config.fromfile(config)
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


def build_sequence_dataset(data_root: str, context_frames: int,
                           pipeline: list, **data_prefix: str):
    """A ``CityscapesSequenceDataset`` of the ``val`` split of
    ``data_root``; ``data_prefix`` adds to its folders."""
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='CityscapesSequenceDataset',
            data_root=str(data_root),
            context_frames=context_frames,
            data_prefix=dict(
                img_path='leftImg8bit/val',
                seg_map_path='gtFine/val',
                sequence_path='leftImg8bit_sequence/val',
                **data_prefix),
            pipeline=pipeline))
