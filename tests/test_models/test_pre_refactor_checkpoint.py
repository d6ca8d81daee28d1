"""A checkpoint written before the recurrence was written once (one head
class with every step variant) loads after it and gives the same results:
the steps, a carried state, per-image and per-position exit.

``tests/data/pre_refactor_demo_r18-tiny.pth`` holds a narrow demo model's
weights (ResNetV1c-18 of 8 base channels, cells (16, 8, 21)) saved by the
code of commit d2afd60, with the inputs and that code's outputs."""
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint

from mmseg.registry import MODELS
from mmseg_convlstm.models.exits.image_exit import run_until_settled
from mmseg_convlstm.models.exits.position_exit import (
    PositionExitRule, run_until_positions_settle)
from tests.conftest import REPO
from tests.tiny_head import tiny_demo_model_cfg

CHECKPOINT = osp.join(REPO, 'tests', 'data', 'pre_refactor_demo_r18-tiny.pth')


@pytest.fixture(scope='module')
def saved():
    init_default_scope('mmseg')
    torch.manual_seed(1)  # not the saved model's seed: the weights must load
    model = MODELS.build(tiny_demo_model_cfg())
    load_checkpoint(model, CHECKPOINT, strict=True)
    model.eval()
    return model, torch.load(CHECKPOINT, weights_only=True)


def test_the_steps_and_a_carried_state_are_the_same(saved):
    model, expected = saved
    head = model.decode_head
    with torch.no_grad():
        features = model.head_features(expected['inputs'])
        canvases, state = head.run_steps(features, 4)
        carried, _ = head.run_steps(features.flip(3), 2, state)
    torch.testing.assert_close(
        torch.stack(canvases), expected['canvases'], rtol=0, atol=1e-6)
    torch.testing.assert_close(
        torch.stack(carried), expected['carried'], rtol=0, atol=1e-6)


def test_image_and_position_exit_are_the_same(saved):
    model, expected = saved
    head = model.decode_head
    with torch.no_grad():
        features = model.head_features(expected['inputs'])
        image_canvas, image_steps = run_until_settled(head, features, 6, 2,
                                                      0.2)
        position_canvas, position_steps = run_until_positions_settle(
            head, features, 6, PositionExitRule(1, None, 0.055))
    assert torch.equal(image_steps, expected['image_steps'])
    torch.testing.assert_close(
        image_canvas, expected['image_canvas'], rtol=0, atol=1e-6)
    assert torch.equal(position_steps, expected['position_steps'])
    assert len(position_steps.unique()) > 1  # positions stopped apart
    torch.testing.assert_close(
        position_canvas, expected['position_canvas'], rtol=0, atol=1e-6)
