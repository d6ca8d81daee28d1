import pytest
import torch
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_convlstm.models import ConvLSTMCanvasHead

NUM_CLASSES = 4


def build_head(**kwargs):
    cfg = dict(
        type='ConvLSTMCanvasHead',
        in_channels=6,
        in_index=0,
        hidden_channels=(8, 5, NUM_CLASSES),
        num_classes=NUM_CLASSES,
        num_steps=3)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def samples(batch, height, width):
    torch.manual_seed(0)
    result = []
    for _ in range(batch):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, NUM_CLASSES, (1, height, width)))
        result.append(sample)
    return result


def test_canvas_is_the_running_sum_of_the_top_cell_outputs():
    head = build_head().eval()
    features = torch.randn(2, 6, 5, 7)

    canvases = head.forward_steps((features, ), 3)

    states = [None] * 3
    expected = torch.zeros(2, NUM_CLASSES, 5, 7)
    for step in range(3):
        layer_input = features
        for index, cell in enumerate(head.cells):
            states[index] = cell(layer_input, states[index])
            layer_input = states[index][0]
        expected = expected + layer_input
        torch.testing.assert_close(canvases[step], expected)
    assert len(canvases) == 3
    assert canvases[0].shape == (2, NUM_CLASSES, 5, 7)


def test_state_carries_on_where_it_stopped():
    head = build_head().eval()
    features = torch.randn(1, 6, 4, 4)

    five = head.run_steps(features, 5)[0]
    first, state = head.run_steps(features, 2)
    rest = head.run_steps(features, 3, state)[0]

    for expected, actual in zip(five, first + rest):
        torch.testing.assert_close(actual, expected)


def test_loss_at_every_step_and_every_parameter_gets_a_gradient():
    head = build_head().train()
    features = torch.randn(2, 6, 5, 5)

    losses = head.loss((features, ), samples(2, 20, 20), train_cfg={})
    for step in (1, 2, 3):
        assert losses[f'ce_step{step}'].requires_grad is False
    expected = sum(losses[f'ce_step{step}'] for step in (1, 2, 3)) / 3
    torch.testing.assert_close(losses['loss_ce'].detach(), expected)
    assert 'acc_seg' in losses

    losses['loss_ce'].backward()
    unused = [
        name for name, parameter in head.named_parameters()
        if parameter.grad is None
    ]
    assert unused == []
    assert not hasattr(head, 'conv_seg')


def test_step_loss_weights_are_applied():
    head = build_head(step_loss_weights=(0.0, 0.0, 1.0)).train()
    losses = head.loss((torch.randn(1, 6, 5, 5), ),
                       samples(1, 10, 10),
                       train_cfg={})
    torch.testing.assert_close(losses['loss_ce'].detach(),
                               losses['ce_step3'])


def test_test_cfg_num_steps_is_honoured():
    head = build_head(num_steps=3).eval()
    features = torch.randn(1, 6, 4, 4)
    metas = [dict(img_shape=(16, 16), pad_shape=(16, 16))]

    logits = head.predict((features, ), metas, dict(num_steps=5))

    canvas = head.forward_steps((features, ), 5)[-1]
    torch.testing.assert_close(logits,
                               head.predict_by_feat(canvas, metas))
    assert logits.shape == (1, NUM_CLASSES, 16, 16)
    default = head.predict((features, ), metas, dict())
    assert not torch.allclose(default, logits)


@pytest.mark.parametrize(
    'kwargs, message',
    [(dict(hidden_channels=(8, 5)), 'hidden_channels must end with'),
     (dict(num_steps=0), 'num_steps must be at least 1'),
     (dict(step_loss_weights=(1.0, )), 'one weight per step')])
def test_config_mistakes_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_head(**kwargs)


def test_glorot_normal_initialisation():
    head = build_head(in_channels=512, hidden_channels=(256, 128, 4))
    weight = head.cells[0].input_conv.weight
    fan_in, fan_out = weight.shape[1], weight.shape[0]
    expected_std = (2 / (fan_in + fan_out))**0.5
    assert weight.std().item() == pytest.approx(expected_std, rel=0.05)
    assert torch.all(head.cells[0].input_conv.bias == 0)
    assert isinstance(head, ConvLSTMCanvasHead)


def test_a_bare_tensor_from_a_one_output_backbone_is_the_feature_map():
    head = build_head().eval()
    features = torch.randn(2, 6, 5, 7)
    with torch.no_grad():
        torch.testing.assert_close(head(features), head((features, )))


def test_a_bare_tensor_with_another_in_index_names_both_keys():
    head = build_head(in_index=3)
    with pytest.raises(ValueError,
                       match='backbone.out_indices.*decode_head.in_index=3'):
        head(torch.randn(2, 6, 5, 7))


def test_mobilenet_v2_with_one_out_index_trains_with_in_index_0():
    model = MODELS.build(
        dict(
            type='RecurrentEncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor'),
            backbone=dict(
                type='MobileNetV2', widen_factor=0.25, out_indices=(6, )),
            decode_head=dict(
                type='ConvLSTMCanvasHead',
                in_channels=80,
                in_index=0,
                hidden_channels=(8, 5, NUM_CLASSES),
                num_classes=NUM_CLASSES,
                num_steps=2)))
    losses = model.loss(torch.randn(2, 3, 64, 64), samples(2, 64, 64))
    assert torch.isfinite(losses['decode.loss_ce'])
