"""Two tiny deployed models, exported once per test session: the plain
head (by tools/deploy.py, from a config file and a checkpoint) and a
context head with an initial canvas (by the Python API), each with its
PyTorch model."""
import os.path as osp
from typing import NamedTuple, Optional

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.model import revert_sync_batchnorm

from mmseg.apis import init_model
from mmseg_convlstm.deploy import DeployedSegmentor, export_model
from tests.checkpoints import save_random_checkpoint
from tests.conftest import DEMO_CONFIG
from tests.tiny_head import tiny_demo_model_cfg
from tests.tools_runner import run_tool_in_process

NUM_STEPS = 10
CONTEXT_HEAD = dict(
    context_cfg=dict(
        type='ASPPContext',
        channels=8,
        dilations=(1, 2),
        image_pool=True,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    init_canvas=True)
BACKENDS = ('onnxruntime', 'openvino')


class Deployment(NamedTuple):
    """A deployed model and what it was exported from."""
    model: torch.nn.Module
    """The PyTorch model (BN), in eval mode."""
    cfg: Config
    work_dir: str
    config_file: str
    checkpoint: Optional[str]


def tiny_config(data_root: Optional[str] = None, **decode_head) -> Config:
    """The demo config with the tiny model (:func:`tiny_demo_model_cfg`) of
    ``NUM_STEPS`` steps, a test pipeline for frames (no annotations) and,
    given ``data_root``, a test set there."""
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model = tiny_demo_model_cfg(num_steps=NUM_STEPS, **decode_head)
    cfg.model.test_cfg = ConfigDict(mode='whole', num_steps=NUM_STEPS)
    cfg.test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='PackSegInputs')
    ]
    if data_root is not None:
        cfg.test_dataloader.dataset.data_root = data_root
    return cfg


@pytest.fixture(scope='session')
def plain_deployment(tmp_path_factory, voc_root) -> Deployment:
    root = tmp_path_factory.mktemp('plain_deployment')
    config_file = str(root / 'tiny.py')
    tiny_config(voc_root).dump(config_file)
    checkpoint = save_random_checkpoint(config_file, str(root / 'tiny.pth'))
    work_dir = str(root / 'deploy')
    run_tool_in_process('tools/deploy.py', config_file, checkpoint,
                        '--backend', 'openvino', '--work-dir', work_dir,
                        '--shape', '64', '96')
    model = revert_sync_batchnorm(
        init_model(config_file, checkpoint, device='cpu'))
    return Deployment(model.eval(), Config.fromfile(config_file), work_dir,
                      config_file, checkpoint)


@pytest.fixture(scope='session')
def context_deployment(tmp_path_factory) -> Deployment:
    root = tmp_path_factory.mktemp('context_deployment')
    cfg = tiny_config(**CONTEXT_HEAD)
    config_file = str(root / 'tiny_context.py')
    cfg.dump(config_file)
    torch.manual_seed(1)
    model = init_model(config_file, device='cpu')
    model.init_weights()
    work_dir = str(root / 'deploy')
    export_model(model, cfg, work_dir, 'openvino', shape=(64, 96))
    return Deployment(
        revert_sync_batchnorm(model).eval(), cfg, work_dir, config_file, None)


@pytest.fixture(scope='session', params=['plain', 'context'])
def deployment(request) -> Deployment:
    """Each of the two deployed models."""
    return request.getfixturevalue(f'{request.param}_deployment')


_LOADED = {}


def deployed(deployment: Deployment, backend: str,
             **test_cfg) -> DeployedSegmentor:
    """The deployed model on ``backend`` (loaded once), with
    ``test_cfg`` (``num_steps`` defaults to ``NUM_STEPS``)."""
    key = (deployment.work_dir, backend)
    if key not in _LOADED:
        _LOADED[key] = DeployedSegmentor(deployment.work_dir, backend)
    segmentor = _LOADED[key]
    segmentor.test_cfg = ConfigDict(
        mode='whole', num_steps=NUM_STEPS, **test_cfg)
    return segmentor


def reference(deployment: Deployment, **test_cfg) -> torch.nn.Module:
    """The PyTorch model with ``test_cfg`` (``num_steps`` defaults to
    ``NUM_STEPS``)."""
    deployment.model.test_cfg = ConfigDict(
        mode='whole', num_steps=NUM_STEPS, **test_cfg)
    return deployment.model


def graph_file(deployment: Deployment, name: str) -> str:
    return osp.join(deployment.work_dir, f'{name}.onnx')
