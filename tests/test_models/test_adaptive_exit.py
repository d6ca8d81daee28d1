"""Adaptive exit: every image stops stepping once its labels settle."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmseg.registry import METRICS
from mmseg_convlstm.evaluation import AdaptiveExitIoUMetric
from mmseg_convlstm.models import ConvLSTMCanvasHead
from mmseg_convlstm.models.exits.image_exit import run_until_settled
from tests.conftest import CONFIGS
from tests.tiny_head import tiny_head

NUM_CLASSES = 5


def make_head(seed: int = 0) -> ConvLSTMCanvasHead:
    return tiny_head(NUM_CLASSES, 6, seed=seed)


def settled_head() -> ConvLSTMCanvasHead:
    """A head whose top cell paints class 2 everywhere from the first step:
    its labels never change."""
    head = make_head()
    top = head.cells[-1]
    with torch.no_grad():
        for conv in (top.input_conv, top.hidden_conv):
            nn.init.zeros_(conv.weight)
        top.input_conv.bias.zero_()
        gates = top.input_conv.bias.view(4, NUM_CLASSES)  # i, f, c_in, o
        gates[[0, 2, 3], 2] = 10.0
    return head


@pytest.mark.parametrize('min_steps', [2, 3])
def test_settled_labels_stop_at_min_steps(min_steps):
    head = settled_head()
    features = torch.randn(3, 8, 9, 9)
    with torch.no_grad():
        canvas, steps = run_until_settled(
            head,
            features,
            max_steps=6,
            min_steps=min_steps,
            change_fraction=0.01)
        reference, _ = head.run_steps(features, min_steps)
    assert steps.tolist() == [min_steps] * 3
    assert (canvas.argmax(1) == 2).all()
    torch.testing.assert_close(canvas, reference[-1])


def test_labels_that_keep_changing_run_max_steps():
    head = make_head()
    with torch.no_grad():
        _, steps = run_until_settled(
            head, torch.randn(2, 8, 9, 9), max_steps=5, change_fraction=0.0)
    assert steps.tolist() == [5, 5]


def test_each_image_stops_where_its_own_labels_settle():
    """The steps and canvases agree with a plain run of ``max_steps`` steps
    judged image by image, in a batch whose images stop at different
    steps."""
    head = make_head(seed=3)
    features = torch.randn(6, 8, 7, 7) * torch.linspace(0.2, 3, 6).view(
        6, 1, 1, 1)
    max_steps = 6
    with torch.no_grad():
        canvases, _ = head.run_steps(features, max_steps)
    labels = torch.stack([canvas.argmax(1) for canvas in canvases])
    changes = (labels[1:] != labels[:-1]).flatten(2).float().mean(2)
    # Threshold between the observed changes, so that images differ.
    change_fraction = changes.flatten().unique().median().item() + 1e-6

    with torch.no_grad():
        canvas, steps = run_until_settled(
            head,
            features,
            max_steps,
            min_steps=2,
            change_fraction=change_fraction)

    for image in range(6):
        settled = [
            step for step in range(2, max_steps + 1)
            if changes[step - 2, image] < change_fraction
        ]
        expected = settled[0] if settled else max_steps
        assert steps[image] == expected
        torch.testing.assert_close(
            canvas[image], canvases[expected - 1][image], rtol=0, atol=1e-5)
    assert len(set(steps.tolist())) > 1


@pytest.mark.parametrize('kwargs, message', [
    (dict(max_steps=4, min_steps=1), '2 <= min_steps <= max_steps'),
    (dict(max_steps=3, min_steps=4), '2 <= min_steps <= max_steps'),
    (dict(max_steps=4, change_fraction=1.5), 'change_fraction in [0, 1]'),
])
def test_bad_exit_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace('[', r'\[')):
        run_until_settled(make_head(), torch.randn(1, 8, 5, 5), **kwargs)


def test_segmentor_reports_the_steps_of_every_image(segmentor):
    segmentor.test_cfg.update(
        return_all_steps=False,
        adaptive_exit=dict(min_steps=2, max_steps=4, change_fraction=0.05))
    torch.manual_seed(0)
    inputs = torch.randn(3, 3, 65, 65) * torch.tensor([0.1, 1, 3]).view(
        3, 1, 1, 1)
    with torch.no_grad():
        results = segmentor.predict(inputs)
    segmentor.test_cfg.pop('adaptive_exit')
    for image, result in enumerate(results):
        steps = result.num_steps_used
        assert 2 <= steps <= 4
        segmentor.test_cfg.num_steps = steps
        with torch.no_grad():
            alone = segmentor.predict(inputs[image:image + 1])[0]
        torch.testing.assert_close(result.pred_sem_seg.data,
                                   alone.pred_sem_seg.data)


@pytest.mark.parametrize('test_cfg, message', [
    (dict(return_all_steps=True,
          adaptive_exit=dict(min_steps=2)), 'return_all_steps=False'),
    (dict(return_all_steps=False,
          adaptive_exit=dict(patience=2)), 'unknown keys'),
    (dict(
        return_all_steps=False, mode='slide',
        adaptive_exit=dict(min_steps=2)), "mode='whole'"),
])
def test_segmentor_names_bad_settings(segmentor, test_cfg, message):
    original = dict(segmentor.test_cfg)
    segmentor.test_cfg.update(test_cfg)
    try:
        with pytest.raises(ValueError, match=message):
            segmentor.predict(torch.randn(1, 3, 33, 33))
    finally:
        segmentor.test_cfg.clear()
        segmentor.test_cfg.update(original)


@pytest.mark.parametrize('name', ['voc', 'cityscapes'])
def test_adaptive_exit_configs(name):
    cfg = Config.fromfile(f'{CONFIGS}/convlstm_{name}_adaptive-exit.py')
    assert cfg.model.test_cfg.adaptive_exit.min_steps == 2
    assert not cfg.model.test_cfg.return_all_steps
    assert METRICS.get(cfg.test_evaluator.type) is AdaptiveExitIoUMetric
