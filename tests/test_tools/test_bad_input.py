"""Bad input stops tools/train.py early with an error that names it."""
import shutil

from tests.tools_runner import DEMO_CONFIG, run_tool, voc_overrides


def train_error(voc_root, tmp_path, *extra_options):
    result = run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        *voc_overrides(voc_root, 1), *extra_options
    ],
                      check=False)
    assert result.returncode != 0
    return result.stderr


def test_missing_data_root_is_named(voc_root, tmp_path):
    missing = str(tmp_path / 'no_such_dir')
    error = train_error(voc_root, tmp_path,
                        f'train_dataloader.dataset.data_root={missing}')
    assert 'train_dataloader.dataset.data_root' in error
    assert missing in error


def test_corrupt_image_is_named(voc_root, tmp_path):
    root = shutil.copytree(voc_root, tmp_path / 'voc')
    corrupt = root / 'JPEGImages' / '2007_val_000001.jpg'
    corrupt.write_bytes(b'not a jpeg at all')
    error = train_error(root, tmp_path)
    assert str(corrupt) in error


def test_head_classes_disagreeing_with_the_dataset_are_named(
        voc_root, tmp_path):
    error = train_error(voc_root, tmp_path, 'model.decode_head.num_classes=5',
                        'model.decode_head.hidden_channels=(128,64,5)')
    assert 'model.decode_head.num_classes is 5' in error
    assert '21 classes' in error
