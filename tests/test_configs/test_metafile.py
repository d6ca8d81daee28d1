"""configs/metafile.yaml, imported by model-index.yml as in MMSeg's own
repository, names configs that exist and build, with the metadata their
files hold."""
import os.path as osp
import re

import pytest
import torch
import yaml
from mmengine.config import Config

from mmseg.registry import MODELS
from mmseg_convlstm.utils.complexity import recurrent_macs
from tests.tools_runner import REPO

# Small enough to count their MACs in the test (a ResNetV1c-18 on a small
# input); the paper-size models' counts come from the budget-curve runs.
COUNTED_HERE = ('convlstm_r18-d16-mg248_1xb4-400i_synthvoc-97x97',
                'convlstm_r18-d16-mg248_1xb8-250i_synthcityscapes-seq-129x257')


def read_yaml(relative_path):
    with open(osp.join(REPO, relative_path)) as file:
        return yaml.safe_load(file)


def metafile_models():
    models = []
    for metafile in read_yaml('model-index.yml')['Import']:
        models += read_yaml(metafile)['Models']
    return models


MODELS_IN_INDEX = metafile_models()


def test_the_index_imports_a_collection_with_every_config_listed():
    (metafile, ) = read_yaml('model-index.yml')['Import']
    collections = {c['Name'] for c in read_yaml(metafile)['Collections']}
    names = [model['Name'] for model in MODELS_IN_INDEX]
    assert len(names) == len(set(names))
    assert {model['In Collection'] for model in MODELS_IN_INDEX} <= collections
    assert {osp.basename(model['Config']) for model in MODELS_IN_INDEX} >= {
        'convlstm_r101-d16-mg248_4xb4-30k_voc12aug-513x513.py',
        'convlstm_r101-d16-mg248_8xb2-30k_cityscapes-1025x2049.py'
    }


@pytest.mark.parametrize(
    'entry', MODELS_IN_INDEX, ids=lambda entry: entry['Name'])
def test_each_model_names_a_config_that_builds_and_matches(entry):
    path = osp.join(REPO, entry['Config'])
    assert osp.isfile(path), f"{entry['Name']}: no config {entry['Config']}"
    assert osp.splitext(osp.basename(path))[0] == entry['Name']
    cfg = Config.fromfile(path)
    with torch.device('meta'):  # build the modules without their weights
        MODELS.build(cfg.model)

    meta = entry['Metadata']
    height, width = cfg.model.data_preprocessor.size
    assert meta['Crop Size'] == f'{height}x{width}'
    assert meta['Iterations'] == cfg.train_cfg.max_iters
    assert meta['Steps'] == cfg.model.test_cfg.num_steps
    gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', path).groups())
    assert per_gpu == cfg.train_dataloader.batch_size
    assert meta['Batch Size'] == gpus * per_gpu
    steps = list(meta['GMACs at each T'])
    assert steps == list(range(1, len(steps) + 1))
    assert len(steps) >= cfg.model.test_cfg.num_steps

    results = entry['Results']
    assert results['Task'] == 'Semantic Segmentation'
    assert results['Dataset']
    miou = results['Metrics']['mIoU']
    assert isinstance(miou, float) or miou.startswith('not measured'), miou


@pytest.mark.parametrize('name', COUNTED_HERE)
def test_small_models_macs_are_what_the_counter_gives(name):
    (entry, ) = [model for model in MODELS_IN_INDEX if model['Name'] == name]
    cfg = Config.fromfile(osp.join(REPO, entry['Config']))
    model = MODELS.build(cfg.model)
    model.eval()
    listed = entry['Metadata']['GMACs at each T']
    height, width = map(int, entry['Metadata']['MACs Input Size'].split('x'))
    macs = recurrent_macs(model, (height, width), max(listed))
    counted = [macs.total(steps) / 1e9 for steps in listed]
    assert counted == pytest.approx(list(listed.values()), abs=5e-4)
