import os.path as osp

import pytest
from matplotlib.figure import Figure

import mmseg_convlstm  # noqa: F401  (registers the plugin)
from mmseg.apis import init_model
from mmseg.utils import register_all_modules
from tests.checkpoints import save_random_checkpoint
from tests.video_helpers import make_sequence_tree, tiny_video_config

register_all_modules(init_default_scope=True)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
DEMO_CONFIG = osp.join(CONFIGS, 'demo',
                       'convlstm_r18-d16-mg248_1xb4-400i_synthvoc-97x97.py')


@pytest.fixture(scope='session')
def voc_root(tmp_path_factory):
    """A small generated PASCAL VOC 2012 (+ SBD aug) tree."""
    from mmseg_convlstm.datasets import make_voc_tree
    return make_voc_tree(
        str(tmp_path_factory.mktemp('voc')), dict(train=6, val=3))


@pytest.fixture(scope='session')
def cityscapes_root(tmp_path_factory):
    """A small generated Cityscapes tree (leftImg8bit, gtFine)."""
    from mmseg_convlstm.datasets import make_cityscapes_tree
    return make_cityscapes_tree(
        str(tmp_path_factory.mktemp('cityscapes')), dict(train=4, val=2),
        image_size=(96, 192))


@pytest.fixture(scope='session')
def camvid_root(tmp_path_factory):
    """A small generated CamVid tree in SegNet's layout (train, val)."""
    from mmseg_convlstm.datasets import make_camvid_tree
    return make_camvid_tree(
        str(tmp_path_factory.mktemp('camvid')), dict(train=4, val=3))


@pytest.fixture(scope='session')
def video_root(tmp_path_factory):
    """A generated Cityscapes tree with short leftImg8bit_sequence clips."""
    return make_sequence_tree(str(tmp_path_factory.mktemp('sequences')))


@pytest.fixture(scope='session')
def model(tmp_path_factory, video_root):
    """The tiny video model, randomly initialised, as init_model builds it."""
    folder = tmp_path_factory.mktemp('tiny_video_model')
    config = tiny_video_config(str(folder / 'tiny.py'), video_root)
    checkpoint = save_random_checkpoint(config, str(folder / 'tiny.pth'))
    return init_model(config, checkpoint, 'cpu')


@pytest.fixture
def saved_figures(monkeypatch):
    """The figures the plotting functions save, instead of their files."""
    figures = []
    monkeypatch.setattr(Figure, 'savefig',
                        lambda figure, *args, **kwargs: figures.append(figure))
    return figures


def axis_labels(figure):
    return [(axes.get_xlabel(), axes.get_ylabel()) for axes in figure.axes]
