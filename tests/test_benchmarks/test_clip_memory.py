"""The saved activations of a training step through a clip grow with the
clip length, and the memory options cut them."""
import pytest
from mmengine.config import Config

from mmseg_convlstm.benchmarks.clip_memory import (clip_memory_rows,
                                                   clip_memory_table)
from mmseg_convlstm.utils.complexity import build_segmentor
from tests.video_helpers import CLIP_CONFIG, tiny_video_config

SHAPE = (33, 65)


@pytest.fixture(scope='module')
def model_cfg(tmp_path_factory):
    folder = tmp_path_factory.mktemp('clip_memory')
    return Config.fromfile(
        tiny_video_config(
            str(folder / 'tiny.py'), str(folder), config=CLIP_CONFIG)).model


def saved_mib(model_cfg, clip_frames, **changes):
    model_cfg = model_cfg.copy()
    model_cfg.train_cfg = dict(model_cfg.train_cfg,
                               **changes.get('train_cfg', {}))
    model_cfg.backbone = dict(model_cfg.backbone,
                              **changes.get('backbone', {}))
    model = build_segmentor(model_cfg, training=True)
    return [
        row['saved_activations_mib']
        for row in clip_memory_rows(model, clip_frames, SHAPE, 2)
    ]


def test_saved_activations_grow_with_the_clip(model_cfg):
    one, two, four = saved_mib(model_cfg, [1, 2, 4])
    assert 0 < one < two < four


def test_the_memory_options_cut_the_saved_activations(model_cfg):
    every_frame = dict(context_backbone_grad=True)
    (full, ) = saved_mib(model_cfg, [2], train_cfg=every_frame)
    (no_context_grad, ) = saved_mib(
        model_cfg, [2], train_cfg=dict(context_backbone_grad=False))
    (checkpointed, ) = saved_mib(
        model_cfg, [2], train_cfg=every_frame, backbone=dict(with_cp=True))
    assert no_context_grad < full
    assert checkpointed < full


def test_the_table_says_when_there_is_no_peak():
    table = clip_memory_table([
        dict(
            clip_frames=2, saved_activations_mib=1.5, peak_allocated_mib=None)
    ])
    assert '| 2 | 1.50 | n/a (CPU) |' in table
