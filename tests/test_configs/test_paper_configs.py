"""The configs carry the paper's recipe (its Table 4) and the model it
describes."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

from mmseg.registry import MODELS

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(__file__))),
                   'configs')
VOC = dict(
    files=('convlstm_voc.py',
           'convlstm_r101-d16-mg248_4xb4-30k_voc12aug-513x513.py'),
    classes=21,
    crop=(513, 513),
    gpus=4)
CITYSCAPES = dict(
    files=('convlstm_cityscapes.py',
           'convlstm_r101-d16-mg248_8xb2-30k_cityscapes-1025x2049.py'),
    classes=19,
    crop=(1025, 2049),
    gpus=8)
PAPER_CONFIGS = [(name, recipe) for recipe in (VOC, CITYSCAPES)
                 for name in recipe['files']]


def paper_lr(step, total=30000):
    return (1e-3 - 1e-6) * (1 - step / total)**0.9 + 1e-6


@pytest.mark.parametrize('name, recipe', PAPER_CONFIGS)
def test_table4_values(name, recipe):
    cfg = Config.fromfile(osp.join(CONFIGS, name))

    assert cfg.custom_imports == dict(
        imports=['mmseg_convlstm'], allow_failed_imports=False)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum) == ('SGD', 1e-3,
                                                                  0.95)
    assert cfg.train_cfg.max_iters == 30000
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_dataloader.batch_size * recipe['gpus'] == 16
    (poly, ) = cfg.param_scheduler
    assert (poly.type, poly.eta_min, poly.power, poly.by_epoch) == ('PolyLR',
                                                                    1e-6, 0.9,
                                                                    False)
    crops = [
        step['crop_size'] for step in _train_pipeline(cfg)
        if step['type'] == 'RandomCrop'
    ]
    assert crops == [recipe['crop']]
    assert cfg.model.data_preprocessor.size == recipe['crop']
    assert cfg.model.data_preprocessor.pad_val == 0
    head = cfg.model.decode_head
    assert head.num_classes == recipe['classes']
    assert tuple(head.hidden_channels) == (512, 256, recipe['classes'])
    assert head.kernel_size == 1
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.depth) == ('ResNetV1c', 101)
    assert tuple(backbone.strides) == (1, 2, 2, 1)
    assert tuple(backbone.dilations) == (1, 1, 1, 2)
    assert tuple(backbone.multi_grid) == (2, 4, 8)
    assert cfg.model.pretrained == 'open-mmlab://resnet101_v1c'
    assert cfg.model.test_cfg.mode == 'whole'


def _train_pipeline(cfg):
    dataset = cfg.train_dataloader.dataset
    if 'datasets' in dataset:
        dataset = dataset.datasets[0]
    return dataset.pipeline


def test_the_head_initialises_glorot_normal():
    cfg = Config.fromfile(osp.join(CONFIGS, 'convlstm_voc.py'))
    head = MODELS.build(cfg.model.decode_head)
    assert head.init_cfg == dict(
        type='Xavier', distribution='normal', layer='Conv2d')


@pytest.mark.parametrize('name', ['convlstm_voc.py', 'convlstm_cityscapes.py'])
def test_learning_rate_follows_the_paper_formula(name):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    model = torch.nn.Linear(1, 1)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    (scheduler_cfg, ) = cfg.param_scheduler
    scheduler = PARAM_SCHEDULERS.build(
        dict(scheduler_cfg, optimizer=optim_wrapper.optimizer))

    lrs = {}
    for step in range(30001):
        if step in (0, 15000, 30000):
            lrs[step] = optim_wrapper.optimizer.param_groups[0]['lr']
        scheduler.step()

    for step, lr in lrs.items():
        assert lr == pytest.approx(paper_lr(step), rel=1e-6, abs=1e-12)


def test_backbone_has_output_stride_16_dilations_248_and_bn_everywhere():
    cfg = Config.fromfile(osp.join(CONFIGS, 'convlstm_voc.py'))
    cfg.model.pretrained = None
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    backbone = MODELS.build(cfg.model.backbone)
    backbone.eval()

    block4_dilations = [unit.conv2.dilation for unit in backbone.layer4]
    assert block4_dilations == [(2, 2), (4, 4), (8, 8)]
    convs = [m for m in backbone.modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [
        m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)
    ]
    assert len(convs) == len(norms)
    assert all(conv.bias is None for conv in convs)
    with torch.no_grad():
        (features, ) = backbone(torch.randn(1, 3, 65, 65))
    assert features.shape == (1, 2048, 5, 5)
