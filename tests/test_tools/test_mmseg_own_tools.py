"""MMSeg's own tools/train.py and tools/test.py accept our configs through
``custom_imports`` and load what they saved with weights_only kept."""
import os.path as osp

import mmseg

from tests.tools_runner import DEMO_CONFIG, run_tool, voc_overrides

MMSEG_TOOLS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')


def test_mmseg_train_and_test_run_our_config(voc_root, tmp_path):
    run_tool([
        osp.join(MMSEG_TOOLS, 'train.py'), DEMO_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 1)
    ])
    result = run_tool([
        osp.join(MMSEG_TOOLS, 'test.py'), DEMO_CONFIG,
        str(tmp_path / 'iter_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *voc_overrides(voc_root, 1)
    ])
    assert 'mIoU@5' in result.stdout
