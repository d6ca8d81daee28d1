"""Baseline configs and model-zoo results come from MMSeg's package."""
import os.path as osp

import pytest
import yaml

from mmseg_convlstm.utils.model_zoo import (load_mmseg_config,
                                            mmseg_config_path, zoo_model)

PSPNET = 'mmseg::pspnet/pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py'
DEEPLABV3 = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-20k_voc12aug-512x512.py'


def metafile_entries(config):
    path = osp.join(osp.dirname(mmseg_config_path(config)), 'metafile.yaml')
    with open(path) as file:
        entries = yaml.safe_load(file)['Models']
    return {entry['Name']: entry for entry in entries}


def test_shipped_config_is_found_and_loads():
    cfg = load_mmseg_config(PSPNET)
    assert cfg.model.decode_head.type == 'PSPHead'
    assert cfg.model.backbone.depth == 101


@pytest.mark.parametrize('config, dataset_type, crop', [
    (PSPNET, 'PascalVOCDataset', '512x512'),
    (DEEPLABV3, 'CityscapesDataset', '512x1024'),
])
def test_best_result_of_the_same_architecture_and_dataset(
        config, dataset_type, crop):
    zoo = zoo_model(config)
    entries = metafile_entries(config)
    result = zoo.best_result(dataset_type)

    entry = entries[result.name]
    method = zoo.title.split()[0]
    assert entry['Metadata']['Architecture'] == ['R-101-D8', method]
    assert entry['Results']['Metrics']['mIoU'] == result.miou
    assert result.name.endswith(crop)
    rivals = [
        other['Results']['Metrics']['mIoU'] for other in entries.values()
        if other['Metadata']['Architecture'] == entry['Metadata']
        ['Architecture'] and other['Results']['Dataset'] == entry['Results']
        ['Dataset'] and other['Name'].endswith(crop)
    ]
    assert len(rivals) > 1 and result.miou == max(rivals)


def test_titles_and_unknown_datasets():
    assert zoo_model(PSPNET).title == 'PSPNet R-101-D8'
    assert zoo_model(DEEPLABV3).best_result('ADE20KDataset') is None
    assert zoo_model(DEEPLABV3).best_result(None) is None


def test_missing_config_is_named():
    with pytest.raises(FileNotFoundError, match='pspnet_r999'):
        mmseg_config_path('mmseg::pspnet/pspnet_r999.py')
