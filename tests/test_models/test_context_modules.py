"""The context modules (ASPPContext, PPMContext): built from MMSeg's own
blocks, equal to MMSeg's ASPPHead / PSPHead features, shapes, concatenation
of the input, registry, gradients and MACs."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.analysis import FlopAnalyzer

from mmseg.models.decode_heads import ASPPHead, PSPHead
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.psp_head import PPM
from mmseg.registry import MODELS
from mmseg_convlstm.models.layers.aspp_context import ASPPContext
from mmseg_convlstm.models.layers.ppm_context import PPMContext

IN_CHANNELS, CHANNELS = 6, 4


def build_context(kind, **kwargs):
    if kind == 'aspp':
        return ASPPContext(IN_CHANNELS, CHANNELS, **kwargs)
    return PPMContext(IN_CHANNELS, CHANNELS, **kwargs)


def randomise_norms(module):
    """Non-trivial BN statistics and affine parameters, so that eval mode
    does not reduce the norms to the identity."""
    generator = torch.Generator().manual_seed(3)
    for norm in module.modules():
        if isinstance(norm, nn.BatchNorm2d):
            size = norm.num_features
            norm.running_mean.copy_(torch.randn(size, generator=generator))
            norm.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
            norm.weight.data.copy_(torch.randn(size, generator=generator))
            norm.bias.data.copy_(torch.randn(size, generator=generator))


@pytest.mark.parametrize('kind', ['aspp', 'ppm'])
@pytest.mark.parametrize('concat_input', [True, False])
@pytest.mark.parametrize('size', [(9, 12), (23, 31), (1, 1), (2, 7)])
@pytest.mark.parametrize('training', [True, False])
def test_output_shape_and_out_channels(kind, concat_input, size, training):
    torch.manual_seed(0)
    module = build_context(kind, concat_input=concat_input)
    module.train(training)
    features = torch.randn(2, IN_CHANNELS, *size)

    output = module(features)

    expected_channels = IN_CHANNELS + CHANNELS if concat_input else CHANNELS
    assert module.out_channels == expected_channels
    assert output.shape == (2, expected_channels, *size)
    assert torch.isfinite(output).all()
    if concat_input:
        # The raw features first, unchanged, then the context.
        assert torch.equal(output[:, :IN_CHANNELS], features)
        module.concat_input = False
        torch.testing.assert_close(output[:, IN_CHANNELS:], module(features))


@pytest.mark.parametrize('kind', ['aspp', 'ppm'])
def test_out_channels_without_concatenation_is_channels(kind):
    module = build_context(kind, concat_input=False)
    assert module.out_channels == CHANNELS
    assert module(torch.randn(2, IN_CHANNELS, 5, 5)).shape[1] == CHANNELS


def test_aspp_context_is_built_from_mmseg_blocks():
    module = ASPPContext(IN_CHANNELS, CHANNELS, dilations=(1, 2, 3))

    assert type(module.aspp_modules) is ASPPModule
    assert [conv.conv.kernel_size for conv in module.aspp_modules] == [(1, 1),
                                                                       (3, 3),
                                                                       (3, 3)]
    assert [conv.conv.dilation for conv in module.aspp_modules] == [(1, 1),
                                                                    (2, 2),
                                                                    (3, 3)]
    pool, pool_conv = module.image_pool
    assert isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size == 1
    assert isinstance(pool_conv, ConvModule)
    assert isinstance(module.bottleneck, ConvModule)
    assert module.bottleneck.conv.kernel_size == (3, 3)
    # Image pooling and three dilations fused.
    assert module.bottleneck.conv.in_channels == 4 * CHANNELS
    for conv in [pool_conv, module.bottleneck, *module.aspp_modules]:
        assert isinstance(conv.bn, nn.BatchNorm2d)
        assert isinstance(conv.activate, nn.ReLU)
        assert conv.conv.out_channels == CHANNELS


def test_aspp_context_without_image_pooling():
    module = ASPPContext(
        IN_CHANNELS, CHANNELS, dilations=(1, 6), image_pool=False)
    assert module.image_pool is None
    assert module.bottleneck.conv.in_channels == 2 * CHANNELS
    assert module(torch.randn(1, IN_CHANNELS, 7,
                              9)).shape == (1, IN_CHANNELS + CHANNELS, 7, 9)


def test_ppm_context_is_built_from_mmseg_blocks():
    module = PPMContext(IN_CHANNELS, CHANNELS, pool_scales=(1, 3))

    assert type(module.psp_modules) is PPM
    assert [stage[0].output_size for stage in module.psp_modules] == [1, 3]
    assert all(
        isinstance(stage[1], ConvModule) for stage in module.psp_modules)
    assert isinstance(module.bottleneck, ConvModule)
    assert module.bottleneck.conv.kernel_size == (3, 3)
    # The features beside the two pooled branches, as in PSPHead.
    assert module.bottleneck.conv.in_channels == IN_CHANNELS + 2 * CHANNELS
    for conv in [module.bottleneck, *(s[1] for s in module.psp_modules)]:
        assert isinstance(conv.bn, nn.BatchNorm2d)
        assert isinstance(conv.activate, nn.ReLU)


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('kind', ['aspp', 'ppm'])
def test_context_equals_the_features_of_mmseg_heads(kind, align_corners):
    """Without the input concatenated, the context is the feature map of
    MMSeg's ASPPHead (PSPHead) with the same weights: same blocks, same
    order, same bottleneck."""
    torch.manual_seed(0)
    settings = dict(
        in_channels=IN_CHANNELS,
        channels=CHANNELS,
        num_classes=3,
        norm_cfg=dict(type='BN'),
        align_corners=align_corners)
    if kind == 'aspp':
        module = ASPPContext(
            IN_CHANNELS,
            CHANNELS,
            dilations=(1, 2, 4),
            concat_input=False,
            align_corners=align_corners)
        head = ASPPHead(dilations=(1, 2, 4), **settings)
    else:
        module = PPMContext(
            IN_CHANNELS,
            CHANNELS,
            pool_scales=(1, 2, 3),
            concat_input=False,
            align_corners=align_corners)
        head = PSPHead(pool_scales=(1, 2, 3), **settings)
    randomise_norms(module)
    missing, unexpected = head.load_state_dict(
        module.state_dict(), strict=False)
    assert not unexpected
    assert all(key.startswith('conv_seg.') for key in missing)
    module.eval()
    head.eval()
    features = torch.randn(2, IN_CHANNELS, 9, 13)

    torch.testing.assert_close(
        module(features), head._forward_feature([features]))


@pytest.mark.parametrize('kind', ['aspp', 'ppm'])
def test_a_1x1_map_of_one_image_trains_as_in_mmseg(kind):
    """Pooling to 1x1 then BN needs more than one value per channel in
    training: one image of a 1x1 map fails as MMSeg's heads fail, and runs
    in eval mode or with a batch of two."""
    head = (
        ASPPHead(
            in_channels=IN_CHANNELS,
            channels=CHANNELS,
            num_classes=3,
            norm_cfg=dict(type='BN')) if kind == 'aspp' else PSPHead(
                in_channels=IN_CHANNELS,
                channels=CHANNELS,
                num_classes=3,
                norm_cfg=dict(type='BN')))
    module = build_context(kind)
    one = torch.randn(1, IN_CHANNELS, 1, 1)

    with pytest.raises(ValueError, match='more than 1 value per channel'):
        head([one])
    with pytest.raises(ValueError, match='more than 1 value per channel'):
        module(one)
    assert module(torch.randn(2, IN_CHANNELS, 1,
                              1)).shape == (2, IN_CHANNELS + CHANNELS, 1, 1)
    module.eval()
    assert module(one).shape == (1, IN_CHANNELS + CHANNELS, 1, 1)


@pytest.mark.parametrize('config, cls', [
    (dict(
        type='ASPPContext',
        dilations=(1, 3),
        image_pool=False,
        concat_input=False), ASPPContext),
    (dict(type='PPMContext', pool_scales=(1, 2),
          align_corners=True), PPMContext),
])
def test_built_from_the_registry(config, cls):
    # The modules register themselves on import (done at the top of this
    # file, as `import mmseg_convlstm.models.layers.aspp_context` does).
    module = MODELS.build(
        dict(in_channels=IN_CHANNELS, channels=CHANNELS, **config))
    assert type(module) is cls
    assert MODELS.get(config['type']) is cls
    for key, value in config.items():
        if key == 'image_pool':
            assert module.image_pool is None
        elif key != 'type':
            assert getattr(module, key) == value


@pytest.mark.parametrize('kind', ['aspp', 'ppm'])
@pytest.mark.parametrize('concat_input', [True, False])
def test_gradients_reach_every_parameter_and_the_features(kind, concat_input):
    torch.manual_seed(0)
    module = build_context(kind, concat_input=concat_input)
    features = torch.randn(2, IN_CHANNELS, 9, 12, requires_grad=True)
    upstream = torch.randn(2, module.out_channels, 9, 12)

    (module(features) * upstream).sum().backward()

    assert features.grad is not None and features.grad.abs().sum() > 0
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize('bad', [dict(dilations=()), dict(dilations=6)])
def test_aspp_dilations_must_be_a_sequence(bad):
    with pytest.raises(ValueError, match='dilations'):
        ASPPContext(IN_CHANNELS, CHANNELS, **bad)


def test_ppm_pool_scales_must_be_a_sequence():
    with pytest.raises(ValueError, match='pool_scales'):
        PPMContext(IN_CHANNELS, CHANNELS, pool_scales=())


def count(module, features):
    module.eval()
    analyzer = FlopAnalyzer(module, (features, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total(), analyzer.by_operator()


def test_macs_of_aspp_context_are_counted_by_mmengine():
    # 2 -> 3 channels on a 4x6 map (24 positions).
    module = ASPPContext(2, 3, dilations=(1, 2))
    total, by_operator = count(module, torch.randn(1, 2, 4, 6))

    image_pool_conv = 1 * 3 * 2  # on the pooled 1x1 map
    dilation_1 = 24 * 3 * 2  # 1x1
    dilation_2 = 24 * 3 * 2 * 9  # 3x3
    bottleneck = 24 * 3 * (3 * 3) * 9  # 3 branches of 3 channels, 3x3
    assert by_operator['conv'] == (
        image_pool_conv + dilation_1 + dilation_2 + bottleneck)
    # MMEngine's handles: 1 per pooled input element, 4 per bilinear output
    # element, 2 per element of an affine BN in eval mode.
    assert by_operator['adaptive_avg_pool2d'] == 2 * 24
    assert by_operator['upsample_bilinear2d'] == 4 * 3 * 24
    assert by_operator['batch_norm'] == 2 * (3 + 24 * 3 * 3)
    assert total == sum(by_operator.values())


def test_macs_of_ppm_context_are_counted_by_mmengine():
    module = PPMContext(2, 3, pool_scales=(1, 2))
    total, by_operator = count(module, torch.randn(1, 2, 4, 6))

    branches = 1 * 3 * 2 + 4 * 3 * 2  # 1x1 convs on the 1x1 and 2x2 maps
    bottleneck = 24 * 3 * (2 + 2 * 3) * 9
    assert by_operator['conv'] == branches + bottleneck
    assert by_operator['adaptive_avg_pool2d'] == 2 * (2 * 24)
    assert by_operator['upsample_bilinear2d'] == 2 * 4 * 3 * 24
    assert by_operator['batch_norm'] == 2 * (3 + 12 + 24 * 3)
    assert total == sum(by_operator.values())


@pytest.mark.parametrize('kind', ['aspp', 'ppm'])
def test_macs_grow_with_the_map_and_the_width(kind):
    small, _ = count(build_context(kind), torch.randn(1, IN_CHANNELS, 6, 8))
    large, _ = count(build_context(kind), torch.randn(1, IN_CHANNELS, 12, 16))
    wide, _ = count(
        ASPPContext(IN_CHANNELS, 2 * CHANNELS)
        if kind == 'aspp' else PPMContext(IN_CHANNELS, 2 * CHANNELS),
        torch.randn(1, IN_CHANNELS, 6, 8))
    assert 0 < small < large
    assert small < wide
