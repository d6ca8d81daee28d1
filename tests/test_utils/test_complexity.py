"""MACs of the recurrent model per number of steps, with MMEngine's
counter, against the convolutions' own multiply-accumulates."""
import pytest
import torch
from mmengine.config import Config

from mmseg_convlstm.utils.complexity import (RecurrentMACs,
                                             RecurrentSegmentorAtSteps,
                                             build_segmentor, count_macs,
                                             input_projection_cache,
                                             per_step_macs, random_image,
                                             recurrent_macs)
from tests.conftest import DEMO_CONFIG

SHAPE = (65, 65)


@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.decode_head.hidden_channels = (32, 16, 21)
    return build_segmentor(cfg.model)


def conv_macs(conv: torch.nn.Conv2d, height: int, width: int) -> int:
    """Multiply-accumulates of a convolution: one per weight and output
    position."""
    return conv.weight.numel() * height * width


def test_step_costs_its_convolutions_and_the_cache_saves_the_input_one(
        model):
    with torch.no_grad():
        (features, ) = model.extract_feat(random_image(model, SHAPE))
    height, width = features.shape[2:]
    cells = model.decode_head.cells
    recurrent = sum(
        conv_macs(cell.hidden_conv, height, width) for cell in cells)
    upper_inputs = sum(
        conv_macs(cell.input_conv, height, width) for cell in cells[1:])
    bottom_input = conv_macs(cells[0].input_conv, height, width)

    cached, uncached = per_step_macs(model, SHAPE)

    assert cached == recurrent + upper_inputs
    assert uncached == cached + bottom_input
    assert model.decode_head.cache_input_projection  # restored


@pytest.mark.parametrize('num_steps', [1, 3])
def test_backbone_once_plus_head_equals_the_whole_model(model, num_steps):
    macs = recurrent_macs(model, SHAPE, 3)
    whole = count_macs(
        RecurrentSegmentorAtSteps(model, num_steps),
        (random_image(model, SHAPE), ))
    assert macs.total(num_steps) == whole
    assert macs.head[2] - macs.head[1] == macs.head[1] - macs.head[0]


def test_mean_cost_of_an_average_number_of_steps():
    macs = RecurrentMACs(backbone=100, head=[10, 13, 16])
    assert macs.per_step == 3
    assert macs.mean(1) == macs.total(1)
    assert macs.mean(3) == macs.total(3)
    assert macs.mean(2.5) == pytest.approx(100 + 10 + 1.5 * 3)
    with pytest.raises(ValueError, match='at least 2 steps'):
        RecurrentMACs(backbone=100, head=[10]).per_step


def test_cache_switch_is_restored_after_an_error(model):
    with pytest.raises(RuntimeError):
        with input_projection_cache(model, False):
            assert not model.decode_head.cache_input_projection
            raise RuntimeError
    assert model.decode_head.cache_input_projection
