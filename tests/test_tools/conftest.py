"""Fixtures shared by the tool tests."""
import pytest

from tests.checkpoints import save_random_checkpoint
from tests.tools_runner import DEMO_CONFIG, run_tool, voc_overrides
from tests.video_helpers import make_sequence_tree, tiny_video_config


@pytest.fixture(scope='session')
def trained_voc(tmp_path_factory, voc_root):
    """A work dir where tools/train.py ran 2 iterations of the demo model
    (read only: tests that train on write to their own dirs)."""
    work_dir = str(tmp_path_factory.mktemp('train_voc'))
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir,
        '--cfg-options', *voc_overrides(voc_root, 2)
    ])
    return work_dir


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """(data root, config, checkpoint) of a tiny random video model."""
    folder = tmp_path_factory.mktemp('video_tools')
    root = make_sequence_tree(str(folder / 'data'))
    config = tiny_video_config(str(folder / 'tiny.py'), root)
    return root, config, save_random_checkpoint(config,
                                                str(folder / 'tiny.pth'))
