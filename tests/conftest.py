import os.path as osp

import pytest

import mmseg_convlstm  # noqa: F401  (registers the plugin)
from mmseg.utils import register_all_modules

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
