"""A deployed model refuses what it cannot run, naming the file or key."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch

from mmseg_convlstm.deploy import DeployedSegmentor
from mmseg_convlstm.deploy.manifest import MANIFEST
from .conftest import CONTEXT_HEAD, tiny_config


@pytest.fixture
def copied_work_dir(plain_deployment, tmp_path):
    work_dir = str(tmp_path / 'deploy')
    shutil.copytree(plain_deployment.work_dir, work_dir)
    return work_dir


def test_a_config_of_another_model_is_refused(plain_deployment):
    with pytest.raises(ValueError, match=r'model\.decode_head\.context_cfg'):
        DeployedSegmentor(
            plain_deployment.work_dir,
            cfg=tiny_config(**CONTEXT_HEAD),
            cfg_source='other.py')


def test_the_run_time_settings_may_differ(plain_deployment):
    cfg = tiny_config()
    cfg.model.test_cfg.num_steps = 3
    segmentor = DeployedSegmentor(plain_deployment.work_dir, cfg=cfg)
    assert segmentor.inference_steps == 3


def test_a_work_dir_of_another_version_is_refused(copied_work_dir):
    path = osp.join(copied_work_dir, MANIFEST)
    with open(path) as file:
        manifest = json.load(file)
    manifest['format_version'] = 0
    with open(path, 'w') as file:
        json.dump(manifest, file)
    with pytest.raises(ValueError, match='version 0.*export the model again'):
        DeployedSegmentor(copied_work_dir)


def test_a_missing_graph_is_named(copied_work_dir):
    os.remove(osp.join(copied_work_dir, 'step_rows.onnx'))
    with pytest.raises(FileNotFoundError, match='step_rows.onnx'):
        DeployedSegmentor(copied_work_dir, 'onnxruntime')


def test_a_directory_without_deploy_json_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='deploy.json'):
        DeployedSegmentor(str(tmp_path))


def test_an_unknown_backend_is_refused(plain_deployment):
    with pytest.raises(ValueError, match='tensorrt'):
        DeployedSegmentor(plain_deployment.work_dir, 'tensorrt')


@pytest.mark.parametrize('shape', [(1, 4, 64, 96), (3, 64, 96)])
def test_an_image_of_another_shape_is_refused(plain_deployment, shape):
    segmentor = DeployedSegmentor(plain_deployment.work_dir, 'onnxruntime')
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        segmentor.predict(torch.randn(*shape))


def test_labels_at_another_size_than_the_input_are_refused(plain_deployment):
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(ori_shape=(128, 192)))
    segmentor = DeployedSegmentor(plain_deployment.work_dir, 'onnxruntime')
    with pytest.raises(ValueError, match='ori_shape'):
        segmentor.predict(torch.randn(1, 3, 64, 96), [sample])
