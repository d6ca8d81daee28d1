"""A training crop size that is not 32k+1 is warned about, naming it."""
from types import SimpleNamespace

import pytest
from mmengine.logging import MMLogger

from mmseg.datasets.transforms import RandomCrop
from mmseg_convlstm.engine import CropSizeCheckHook


def _runner(crop_size, preprocessor_size):
    dataset = SimpleNamespace(
        pipeline=SimpleNamespace(transforms=[RandomCrop(crop_size)]))
    concatenated = SimpleNamespace(datasets=[dataset])
    return SimpleNamespace(
        model=SimpleNamespace(
            data_preprocessor=SimpleNamespace(size=preprocessor_size)),
        train_dataloader=SimpleNamespace(dataset=concatenated))


def _warnings(tmp_path, runner):
    log_file = tmp_path / 'log.txt'
    MMLogger.get_instance(f'crop-{tmp_path.name}', log_file=str(log_file))
    CropSizeCheckHook().before_train(runner)
    return [line for line in log_file.read_text().splitlines()
            if 'WARNING' in line]


def test_32k_plus_1_crops_pass(tmp_path):
    assert _warnings(tmp_path, _runner((513, 513), (513, 513))) == []
    assert _warnings(tmp_path, _runner((1025, 2049), (1025, 2049))) == []


@pytest.mark.parametrize('crop, suggestion', [((512, 512), (513, 513)),
                                              ((1024, 2049), (1025, 2049))])
def test_other_crops_are_warned_about_with_a_suggestion(
        tmp_path, crop, suggestion):
    warnings = _warnings(tmp_path, _runner(crop, crop))
    assert len(warnings) == 2
    assert f'model.data_preprocessor.size is {crop}' in warnings[0]
    assert f'train pipeline RandomCrop.crop_size is {crop}' in warnings[1]
    assert f'Use e.g. {suggestion}' in warnings[1]
    assert 'misaligned' in warnings[1]
