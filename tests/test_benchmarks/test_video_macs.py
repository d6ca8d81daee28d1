"""The MACs of the recurrent steps of one frame match a count by hand of
the 1x1 convolutions of the cells."""
import pytest
import torch

from mmseg_convlstm.benchmarks.video_macs import (average_frame_macs,
                                                  feature_macs,
                                                  recurrent_step_macs)


def cell_convolutions(head):
    """(input channels, hidden channels) of every cell, bottom first."""
    return [(cell.in_channels, cell.hidden_channels) for cell in head.cells]


def test_step_macs_count_every_convolution_once_per_step(model):
    backbone, features = feature_macs(model, (33, 65))
    assert backbone > 0
    head = model.decode_head
    positions = features.shape[-2] * features.shape[-1]
    cells = cell_convolutions(head)
    input_projection = sum(4 * hidden * inputs for inputs, hidden in cells)
    recurrent = sum(4 * hidden * hidden for _, hidden in cells)
    bottom_projection = 4 * cells[0][1] * cells[0][0]
    # A cold first step has no recurrent convolution.
    assert recurrent_step_macs(head, features, 1,
                               False) == positions * input_projection
    for steps in (1, 3):
        # The bottom cell's input projection is computed once per frame.
        expected = positions * (
            bottom_projection + steps *
            (input_projection - bottom_projection + recurrent))
        assert recurrent_step_macs(head, features, steps, True) == expected


def test_feature_macs_grow_with_the_input(model):
    small, small_features = feature_macs(model, (33, 65))
    large, large_features = feature_macs(model, (65, 129))
    assert large > 3 * small
    assert large_features.shape[-2:] == (5, 9)
    assert small_features.shape[-2:] == (3, 5)
    assert torch.isfinite(large_features).all()


def test_average_frame_macs():
    assert average_frame_macs(100, 10, 4) == 35
    with pytest.raises(ValueError, match='backbone_interval'):
        average_frame_macs(100, 10, 0)
