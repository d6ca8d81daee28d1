"""The configs that train through frames build their models and read clips
with every frame's labels (generated data) or the annotated frame's
(Cityscapes)."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmseg.registry import MODELS
from mmseg_convlstm.models import (ClipRecurrentEncoderDecoder,
                                   ClipSegDataPreProcessor)

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'configs', 'video')
SMALL = ('convlstm_r18-d16-mg248_1xb2-300i-clip8_synthcityscapes-seq-'
         '129x257.py')
PAPER = 'convlstm_r101-d16-mg248_8xb1-4k-clip4_cityscapes-seq-1025x2049.py'


@pytest.mark.parametrize('name, depth, loss_frames, clip_frames', [
    (SMALL, 18, 'all', 8),
    (PAPER, 101, 'last', 4),
])
def test_clip_configs_build(name, depth, loss_frames, clip_frames):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    assert cfg.load_from
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'CityscapesSequenceDataset'
    assert dataset.context_frames == clip_frames - 1
    transforms = [step['type'] for step in dataset.pipeline]
    assert transforms[0] == 'LoadStackedClip'
    assert transforms[-1] == 'PackClipSegInputs'
    assert ('LoadClipAnnotations' in transforms) == (loss_frames == 'all')
    assert cfg.model.train_cfg.loss_frames == loss_frames
    # Streaming must scale the carried canvas as training did.
    assert cfg.video_cfg.canvas_decay == cfg.model.train_cfg.canvas_decay
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert isinstance(model, ClipRecurrentEncoderDecoder)
    assert isinstance(model.data_preprocessor, ClipSegDataPreProcessor)
    assert model.backbone.depth == depth
    assert model.clip_train_cfg['steps_per_frame'] == 1


def test_the_paper_size_config_keeps_the_still_recipe_crop():
    cfg = Config.fromfile(osp.join(CONFIGS, PAPER))
    crops = [
        step['crop_size'] for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] == 'RandomCrop'
    ]
    assert crops == [(1025, 2049)]
    assert cfg.model.data_preprocessor.size == (1025, 2049)
    assert cfg.model.backbone.with_cp
    assert not cfg.model.train_cfg.context_backbone_grad


CAMVID_CLIPS = ('mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
                '1xb2-300i-clip4_camvid-{}-288x384.py')
STILL = ('mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
         '1xb4-500i_camvid-288x384')


@pytest.mark.parametrize('source, datasets', [
    ('seq-pseudoclips', ['CamVidSequenceDataset', 'CamVidDataset']),
    ('seq', ['CamVidSequenceDataset']),
    ('pseudoclips', ['CamVidDataset']),
])
def test_camvid_clip_configs_fine_tune_the_still_context_model(
        source, datasets):
    cfg = Config.fromfile(osp.join(CONFIGS, CAMVID_CLIPS.format(source)))
    assert STILL in cfg.load_from
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'ConcatDataset'
    assert [source.type for source in dataset.datasets] == datasets
    for clip_source in dataset.datasets:
        transforms = [step['type'] for step in clip_source.pipeline]
        assert transforms[-3:] == [
            'RandomCrop', 'RandomFlip', 'PackClipSegInputs'
        ]
        frames = clip_source.get('context_frames') or next(
            step['context_frames'] for step in clip_source.pipeline
            if step['type'] == 'RandomCameraMotionClip')
        assert frames == 3
    assert cfg.video_cfg.canvas_decay == cfg.model.train_cfg.canvas_decay
    assert cfg.model.train_cfg.freeze_features
    assert cfg.model.decode_head.init_canvas
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert isinstance(model, ClipRecurrentEncoderDecoder)
    assert not any(parameter.requires_grad
                   for parameter in model.decode_head.context.parameters())
