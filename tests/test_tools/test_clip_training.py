"""tools/train.py trains through the frames of generated clips with the
clip config, and names what is missing when a clip is longer than the
sequences."""
import glob
import os.path as osp

import pytest

from mmseg_convlstm.datasets import make_cityscapes_tree
from tests.tools_runner import run_tool, scalars
from tests.video_helpers import (CLIP_CONFIG, IMAGE_SIZE, SEQUENCE_LENGTH,
                                 tiny_video_config)


@pytest.fixture(scope='module')
def tiny_clip(tmp_path_factory):
    """(data root, tiny clip config) on 2 training sequences."""
    folder = tmp_path_factory.mktemp('clip_training')
    root = make_cityscapes_tree(
        str(folder / 'data'),
        dict(train=2, val=1),
        image_size=IMAGE_SIZE,
        sequence_length=SEQUENCE_LENGTH)
    return root, tiny_video_config(
        str(folder / 'tiny_clip.py'), root, config=CLIP_CONFIG)


def overrides(root, context_frames):
    return [
        '--cfg-options', 'load_from=None',
        f'train_dataloader.dataset.data_root={root}',
        f'train_dataloader.dataset.context_frames={context_frames}',
        f'val_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1'
    ]


def test_train_through_frames_logs_every_frame_loss(tiny_clip, tmp_path):
    root, config = tiny_clip
    run_tool([
        'tools/train.py', config, '--work-dir',
        str(tmp_path), *overrides(root, SEQUENCE_LENGTH - 1)
    ])
    assert glob.glob(osp.join(str(tmp_path), 'iter_2.pth'))
    logged = [record for record in scalars(str(tmp_path)) if 'loss' in record]
    assert len(logged) == 2
    for record in logged:
        for frame in range(SEQUENCE_LENGTH):
            assert f'decode.ce_frame{frame}' in record
    assert any('mIoU' in record for record in scalars(str(tmp_path)))


def test_a_clip_longer_than_the_sequences_is_named(tiny_clip, tmp_path):
    root, config = tiny_clip
    result = run_tool([
        'tools/train.py', config, '--work-dir',
        str(tmp_path), *overrides(root, SEQUENCE_LENGTH)
    ],
                      check=False)
    assert result.returncode != 0
    assert f'context_frames={SEQUENCE_LENGTH}' in result.stderr
    assert 'does not exist' in result.stderr
