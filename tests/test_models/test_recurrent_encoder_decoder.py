import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from tests.conftest import DEMO_CONFIG


@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(DEMO_CONFIG)
    segmentor = MODELS.build(cfg.model)
    segmentor.init_weights()
    segmentor.eval()
    return segmentor


def batch(flip=False):
    torch.manual_seed(0)
    samples = []
    for _ in range(2):
        sample = SegDataSample(
            metainfo=dict(
                ori_shape=(60, 70),
                img_shape=(60, 70),
                pad_shape=(65, 81),
                padding_size=[0, 11, 0, 5],
                flip=flip,
                flip_direction='horizontal'))
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 60, 70).long())
        samples.append(sample)
    return torch.randn(2, 3, 65, 81), samples


@pytest.mark.parametrize('flip', [False, True])
def test_all_steps_in_one_pass_equal_separate_runs(model, flip):
    inputs, samples = batch(flip)
    model.test_cfg.update(num_steps=3, return_all_steps=True)
    with torch.no_grad():
        results = model.predict(inputs, samples)

    steps = results[0].pred_sem_seg_steps.data
    assert steps.shape == (3, 60, 70)
    torch.testing.assert_close(steps[-1:], results[0].pred_sem_seg.data)
    model.test_cfg.update(return_all_steps=False)
    for step in (1, 2, 3):
        model.test_cfg.num_steps = step
        with torch.no_grad():
            alone = model.predict(*batch(flip))
        for result, single in zip(results, alone):
            torch.testing.assert_close(result.pred_sem_seg_steps.data[step -
                                                                      1:step],
                                       single.pred_sem_seg.data)


def test_all_steps_without_data_samples(model):
    model.test_cfg.update(num_steps=2, return_all_steps=True)
    with torch.no_grad():
        (result, ) = model.predict(torch.randn(1, 3, 33, 33))
    assert result.pred_sem_seg_steps.data.shape == (2, 33, 33)


def test_all_steps_need_whole_mode(model):
    model.test_cfg.update(return_all_steps=True, mode='slide')
    try:
        with pytest.raises(ValueError, match="mode='whole'"):
            model.predict(*batch())
    finally:
        model.test_cfg.mode = 'whole'


@pytest.mark.parametrize(
    'options', [
        dict(),
        dict(return_all_steps=True),
        dict(time_budget_ms=50.0),
        dict(adaptive_exit=dict(min_steps=2)),
        dict(cuda_graph=True),
    ],
    ids=['plain', 'all_steps', 'budget', 'adaptive', 'graph'])
def test_zero_steps_are_refused_naming_the_key(model, options):
    saved = model.test_cfg
    model.test_cfg = ConfigDict(mode='whole', num_steps=0, **options)
    try:
        with pytest.raises(ValueError, match='model.test_cfg.num_steps must '
                           'be an integer of at least 1'):
            with torch.no_grad():
                model.predict(*batch())
    finally:
        model.test_cfg = saved
