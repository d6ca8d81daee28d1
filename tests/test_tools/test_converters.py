"""tools/dataset_converters/camvid.py and
tools/model_converters/safe_checkpoint.py, run as a user runs them."""
import os.path as osp

import pytest
import torch
from PIL import Image

from tests.test_datasets.original_camvid import (
    make_original_release, release_with_unknown_colour)
from tests.tools_runner import DEMO_CONFIG, run_tool, voc_overrides

# As a new user writes it, MMSeg's stock runtime: MMEngine's CheckpointHook
# and none of our custom hooks (SafeCheckpointHook among them).
STOCK_RUNTIME = ['default_hooks.checkpoint.type=CheckpointHook',
                 'custom_hooks=[]']


def test_camvid_converter_writes_the_segnet_layout(tmp_path):
    source_root = str(tmp_path / 'original')
    make_original_release(source_root)
    out_root = str(tmp_path / 'CamVid')

    result = run_tool(
        ['tools/dataset_converters/camvid.py', source_root, out_root])

    assert f'val: 2 frames in {out_root}/val, valannot' in result.stdout
    with Image.open(osp.join(out_root, 'testannot',
                             'Seq05VD_f00000.png')) as labels:
        assert (labels.mode, labels.size) == ('L', (480, 360))


def test_camvid_converter_names_an_unknown_colour(tmp_path):
    source_root = str(tmp_path / 'original')
    label_path = release_with_unknown_colour(source_root, (0, 0), (1, 2, 3))

    result = run_tool([
        'tools/dataset_converters/camvid.py', source_root,
        str(tmp_path / 'CamVid')
    ], check=False)

    assert result.returncode == 1
    assert f'error: {label_path}: colours that are none of the 32' in (
        result.stderr)
    assert 'RGB (1, 2, 3)' in result.stderr


@pytest.fixture(scope='module')
def stock_checkpoint(tmp_path_factory, voc_root):
    """iter_2.pth of tools/train.py with MMSeg's stock runtime."""
    work_dir = tmp_path_factory.mktemp('stock_train')
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(work_dir), '--cfg-options', *voc_overrides(voc_root, 2),
        *STOCK_RUNTIME
    ])
    return str(work_dir / 'iter_2.pth')


def run_test_tool(checkpoint, voc_root, work_dir):
    return run_tool([
        'tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir',
        str(work_dir), '--cfg-options', *voc_overrides(voc_root, 2)
    ], check=False)


def test_a_stock_checkpoint_is_refused_then_converted_and_tested(
        stock_checkpoint, voc_root, tmp_path):
    refused = run_test_tool(stock_checkpoint, voc_root, tmp_path / 'stock')
    assert refused.returncode != 0
    assert 'UnsafeCheckpointError' in refused.stderr
    assert 'tools/model_converters/safe_checkpoint.py' in refused.stderr

    safe = str(tmp_path / 'safe.pth')
    result = run_tool([
        'tools/model_converters/safe_checkpoint.py', stock_checkpoint, safe,
        '--trust-pickled-code'
    ])
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in result.stdout
    assert torch.serialization.get_unsafe_globals_in_checkpoint(safe) == []

    tested = run_test_tool(safe, voc_root, tmp_path / 'safe')
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert 'mIoU@5' in tested.stdout


def test_the_converter_refuses_without_the_flag(stock_checkpoint, tmp_path):
    safe = tmp_path / 'safe.pth'
    result = run_tool([
        'tools/model_converters/safe_checkpoint.py', stock_checkpoint,
        str(safe)
    ], check=False)
    assert result.returncode == 1
    assert f'error: not converting {stock_checkpoint} without ' \
        '--trust-pickled-code' in result.stderr
    assert 'runs the code' in result.stderr
    assert not safe.exists()
