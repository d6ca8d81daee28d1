"""Fixtures shared by the model tests."""
import pytest
from mmengine.config import Config

from mmseg.registry import MODELS
from tests.conftest import DEMO_CONFIG


@pytest.fixture(scope='module')
def segmentor():
    """The demo model with a narrow stack (32, 16, 21), initialised, in
    eval mode."""
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.decode_head.hidden_channels = (32, 16, 21)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    return model
