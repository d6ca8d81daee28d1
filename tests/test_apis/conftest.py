import pytest

from mmseg.apis import init_model
from tests.checkpoints import save_random_checkpoint
from tests.video_helpers import make_sequence_tree, tiny_video_config


@pytest.fixture(scope='package')
def video_root(tmp_path_factory):
    """A generated Cityscapes tree with short leftImg8bit_sequence clips."""
    return make_sequence_tree(str(tmp_path_factory.mktemp('sequences')))


@pytest.fixture(scope='package')
def model(tmp_path_factory, video_root):
    """The tiny video model, randomly initialised, as init_model builds it."""
    folder = tmp_path_factory.mktemp('tiny_video_model')
    config = tiny_video_config(str(folder / 'tiny.py'), video_root)
    checkpoint = save_random_checkpoint(config, str(folder / 'tiny.pth'))
    return init_model(config, checkpoint, 'cpu')
