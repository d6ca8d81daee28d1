"""The CamVid configs compare like with like: MMSeg's own DeepLabV3 and
PSPNet heads and ours on one MobileNetV2 backbone (output stride 16,
ImageNet init), with the same crop, augmentation, batch and schedule."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

from mmseg.models.decode_heads import ASPPHead, PSPHead
from mmseg.structures import SegDataSample
from mmseg_convlstm.datasets.camvid_dataset import SEGNET_CLASS_WEIGHTS
from mmseg_convlstm.models import ConvLSTMCanvasHead
from mmseg_convlstm.utils.complexity import build_segmentor
from tests.conftest import CONFIGS, REPO

CAMVID_CONFIGS = sorted(glob.glob(osp.join(CONFIGS, 'camvid', '*.py')))
SHARED_WEIGHTS = osp.join(REPO, '..', 'shared', 'weights',
                          'mobilenet_v2_imagenet_mmseg.pth')
HEADS = dict(deeplabv3=ASPPHead, pspnet=PSPHead, convlstm=ConvLSTMCanvasHead)
LR_ABLATION = re.compile(r'-(head|cells)lr10_')
SHARED_KEYS = ('train_dataloader', 'train_cfg', 'optim_wrapper',
               'param_scheduler', 'randomness')


def load(path):
    return Config.fromfile(path)


def head_kind(path):
    return osp.basename(path).split('_')[1].split('-')[0]


def model_name(path):
    return osp.basename(path).split('_')[1]


def recipe(path):
    return osp.basename(path).split('_')[2]


def configs_of(recipe_name):
    return [path for path in CAMVID_CONFIGS if recipe(path) == recipe_name]


def test_each_recipe_has_both_baselines_and_two_widths_of_ours():
    assert sorted({recipe(path) for path in CAMVID_CONFIGS}) == [
        '1xb4-500i', '1xb8-2k'
    ]
    assert sorted(model_name(path) for path in configs_of('1xb4-500i')) == [
        'convlstm-256-128', 'convlstm-512-256', 'convlstm-aspp128-256-128',
        'convlstm-aspp128-256-128-initcanvas',
        'convlstm-aspp256-128-64-initcanvas',
        'convlstm-aspp256-256-128', 'convlstm-aspp256-256-128-initcanvas',
        'convlstm-aspp256-256-128-initcanvas-cellslr10',
        'convlstm-aspp256-256-128-initcanvas-classweight',
        'convlstm-aspp256-256-128-initcanvas-contextonly',
        'convlstm-aspp256-256-128-initcanvas-lossramp',
        'convlstm-aspp256-512-256-initcanvas',
        'convlstm-aspp512-256-128-initcanvas',
        'convlstm-imagepool256-256-128-initcanvas',
        'convlstm-ppm256-256-128-initcanvas', 'deeplabv3',
        'deeplabv3-classweight', 'pspnet'
    ]
    assert sorted(model_name(path) for path in configs_of('1xb8-2k')) == [
        'convlstm-256-128', 'convlstm-512-256', 'convlstm-512-256-headlr10',
        'convlstm-512-256-noaux', 'deeplabv3', 'pspnet'
    ]


def test_the_gpu_recipe_trains_2000_iterations_at_batch_8():
    for path in configs_of('1xb8-2k'):
        cfg = load(path)
        assert cfg.train_dataloader.batch_size == 8
        assert cfg.train_cfg.max_iters == 2000
        assert cfg.param_scheduler[0].end == 2000
        assert cfg.default_hooks.checkpoint.interval == 1000


def test_the_ablations_change_one_thing_each():
    reference = load(
        next(path for path in configs_of('1xb8-2k')
             if model_name(path) == 'convlstm-512-256'))
    no_aux = load(reference.filename.replace('512-256', '512-256-noaux'))
    assert no_aux.model.auxiliary_head is None
    assert reference.model.auxiliary_head.in_channels == 96
    head_lr = load(reference.filename.replace('512-256', '512-256-headlr10'))
    custom_keys = head_lr.optim_wrapper.paramwise_cfg.custom_keys
    assert custom_keys == dict(decode_head=dict(lr_mult=10.))
    assert 'paramwise_cfg' not in reference.optim_wrapper


def cpu_recipe_config(name):
    return load(
        next(path for path in configs_of('1xb4-500i')
             if model_name(path) == name))


def head_of(name):
    return cpu_recipe_config(name).model.decode_head


def test_the_context_heads_add_one_thing_each_to_the_narrow_head():
    plain = head_of('convlstm-256-128')
    aspp256 = head_of('convlstm-aspp256-256-128')
    assert plain.get('context_cfg') is None
    assert aspp256.context_cfg.type == 'ASPPContext'
    assert aspp256.context_cfg.channels == 256
    assert {key: value
            for key, value in aspp256.items() if key != 'context_cfg'} == plain
    aspp128 = head_of('convlstm-aspp128-256-128')
    assert aspp128.context_cfg == dict(aspp256.context_cfg, channels=128)
    init_canvas = head_of('convlstm-aspp256-256-128-initcanvas')
    assert init_canvas == dict(aspp256, init_canvas=True)
    assert not aspp256.get('init_canvas', False)


def test_the_initial_canvas_ablations_change_one_thing_each():
    reference = head_of('convlstm-aspp256-256-128-initcanvas')
    ppm = head_of('convlstm-ppm256-256-128-initcanvas')
    assert ppm.context_cfg.type == 'PPMContext'
    assert ppm.context_cfg.pool_scales == (1, 2, 3, 6)
    assert {key: ppm.context_cfg[key]
            for key in ('channels', 'concat_input', 'norm_cfg')} == {
                key: reference.context_cfg[key]
                for key in ('channels', 'concat_input', 'norm_cfg')}
    assert dict(ppm, context_cfg=reference.context_cfg) == reference
    aspp512 = head_of('convlstm-aspp512-256-128-initcanvas')
    assert aspp512 == dict(
        reference, context_cfg=dict(reference.context_cfg, channels=512))
    ramp = head_of('convlstm-aspp256-256-128-initcanvas-lossramp')
    weights = ramp.step_loss_weights
    assert len(weights) == reference.num_steps
    assert all(later > earlier for earlier, later in zip(weights, weights[1:]))
    assert sum(weights) == pytest.approx(1.0)
    assert dict(ramp, step_loss_weights=None) == dict(
        reference, step_loss_weights=None)
    aspp128 = head_of('convlstm-aspp128-256-128-initcanvas')
    assert aspp128 == dict(
        reference, context_cfg=dict(reference.context_cfg, channels=128))
    image_pool = head_of('convlstm-imagepool256-256-128-initcanvas')
    assert image_pool == dict(
        reference, context_cfg=dict(reference.context_cfg, dilations=(1, )))
    assert reference.context_cfg.image_pool
    context_only = head_of('convlstm-aspp256-256-128-initcanvas-contextonly')
    assert reference.context_cfg.concat_input
    assert context_only == dict(
        reference,
        context_cfg=dict(reference.context_cfg, concat_input=False))
    for widths in ((512, 256, 11), (128, 64, 11)):
        stack = head_of('convlstm-aspp256-{}-{}-initcanvas'.format(*widths))
        assert stack == dict(reference, hidden_channels=widths)


def without_loss(head_cfg):
    return {
        key: value
        for key, value in head_cfg.items() if key != 'loss_decode'
    }


@pytest.mark.parametrize(
    'model', ['deeplabv3', 'convlstm-aspp256-256-128-initcanvas'])
def test_the_class_weighted_models_weigh_every_loss_alike(model):
    reference = cpu_recipe_config(model).model
    weighted = cpu_recipe_config(f'{model}-classweight').model
    for head, loss_weight in (('decode_head', 1.0), ('auxiliary_head', 0.4)):
        assert weighted[head].loss_decode == dict(
            type='ClassWeightedCrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=loss_weight,
            class_weight=list(SEGNET_CLASS_WEIGHTS))
        assert reference[head].loss_decode == dict(
            type='CrossEntropyLoss', use_sigmoid=False,
            loss_weight=loss_weight)
        assert without_loss(weighted[head]) == without_loss(reference[head])


def batch_with_void(batch=2, height=64, width=96):
    generator = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(batch):
        labels = torch.randint(0, 11, (1, height, width), generator=generator)
        labels[:, :8] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=(height, width)))
        samples.append(sample)
    return torch.randn(batch, 3, height, width, generator=generator), samples


@pytest.mark.parametrize('model', [
    'deeplabv3-classweight', 'convlstm-aspp256-256-128-initcanvas-classweight'
])
def test_the_class_weighted_models_train_on_batches_with_void(model):
    """MMSeg's class-weighted CrossEntropyLoss raises IndexError on a pixel
    labelled 255; every head of these configs averages over the others."""
    segmentor = build_segmentor(cpu_recipe_config(model).model, training=True)
    if isinstance(segmentor.decode_head, ConvLSTMCanvasHead):
        assert segmentor.decode_head.step_loss_fallback is None
    images, samples = batch_with_void()

    losses = segmentor.loss(images, samples)

    for name in ('decode.loss_ce', 'aux.loss_ce'):
        assert torch.isfinite(losses[name]) and losses[name] > 0, name


def test_the_cells_learning_rate_ablation_multiplies_the_cells_alone():
    cfg = cpu_recipe_config('convlstm-aspp256-256-128-initcanvas-cellslr10')
    cfg.model.pretrained = None
    model = build_segmentor(cfg.model, training=True)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    base_lr = cfg.optim_wrapper.optimizer.lr
    lr_of = {
        id(param): group['lr']
        for group in optimizer.param_groups for param in group['params']
    }
    for name, param in model.named_parameters():
        expected = 10 * base_lr if name.startswith(
            'decode_head.cells.') else base_lr
        assert lr_of[id(param)] == pytest.approx(expected), name
    reference = cpu_recipe_config('convlstm-aspp256-256-128-initcanvas').model
    ablation = cpu_recipe_config(
        'convlstm-aspp256-256-128-initcanvas-cellslr10').model
    assert ablation == reference


@pytest.mark.parametrize('path', CAMVID_CONFIGS, ids=osp.basename)
def test_every_model_has_the_shared_backbone_and_recipe(path):
    cfg = load(path)
    reference = load(configs_of(recipe(path))[-1])
    shared_keys = SHARED_KEYS if not LR_ABLATION.search(path) else tuple(
        key for key in SHARED_KEYS if key != 'optim_wrapper')
    assert cfg.model.backbone == reference.model.backbone
    assert cfg.model.backbone.type == 'MobileNetV2'
    assert cfg.model.backbone.strides == (1, 2, 2, 2, 1, 1, 1)
    assert cfg.model.pretrained == 'mmcls://mobilenet_v2'
    assert cfg.model.data_preprocessor.size == (288, 384)
    for key in shared_keys:
        assert cfg[key] == reference[key], key
    assert cfg.train_dataloader.dataset.type == 'CamVidDataset'
    assert cfg.val_dataloader.dataset.data_prefix.img_path == 'val'
    assert cfg.custom_imports.imports == ['mmseg_convlstm']


@pytest.mark.parametrize('path', CAMVID_CONFIGS, ids=osp.basename)
def test_the_model_builds_with_its_head_and_11_classes(path):
    cfg = load(path)
    cfg.model.pretrained = None
    model = build_segmentor(cfg.model)
    assert isinstance(model.decode_head, HEADS[head_kind(path)])
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 64, 96))
    assert logits.shape == (1, 11, 4, 6)


@pytest.mark.skipif(
    not osp.isfile(SHARED_WEIGHTS), reason='the shared weights are absent')
def test_the_shared_imagenet_weights_load_into_the_backbone():
    cfg = load(CAMVID_CONFIGS[0])
    cfg.model.pretrained = None
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=SHARED_WEIGHTS)
    model = build_segmentor(cfg.model)
    model.backbone.init_weights()
    state = torch.load(SHARED_WEIGHTS, weights_only=True)['state_dict']
    torch.testing.assert_close(model.backbone.conv1.conv.weight,
                               state['conv1.conv.weight'])
