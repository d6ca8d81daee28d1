"""tools/deploy.py and tools/test_deployed.py as a user runs them: the
deployed model scores what tools/test.py scores, step by step, and every
tool refuses a checkpoint of another model unless told."""
import glob
import json
import os.path as osp
import shutil

import pytest

from mmseg_convlstm.deploy.manifest import MANIFEST
from mmseg_convlstm.engine import CheckpointMismatchError
from tests.checkpoints import save_random_checkpoint
from tests.tools_runner import run_tool, run_tool_in_process

ALL_STEPS = ['--cfg-options', 'model.test_cfg.return_all_steps=True']
# OpenVINO's tool run stays in a subprocess (below): after a whole OpenVINO
# evaluation in the test process, a later test that signals itself
# (tests/test_engine/test_preemption_hook.py) crashed the process (SIGSEGV).
IN_PROCESS_BACKEND = ['--backend', 'onnxruntime']


def step_mious(path):
    with open(path) as file:
        return [step['mIoU'] for step in json.load(file)['steps']]


@pytest.fixture(scope='module')
def foreign_checkpoint(context_deployment, tmp_path_factory):
    """A checkpoint of the context model, which the plain one lacks."""
    return save_random_checkpoint(
        context_deployment.config_file,
        str(tmp_path_factory.mktemp('foreign') / 'context.pth'))


def test_the_deployed_model_scores_what_tools_test_scores(
        plain_deployment, tmp_path):
    run_tool_in_process('tools/test.py', plain_deployment.config_file,
                        plain_deployment.checkpoint, '--work-dir',
                        str(tmp_path / 'torch'), *ALL_STEPS)
    run_tool_in_process('tools/test_deployed.py', plain_deployment.config_file,
                        plain_deployment.work_dir, *IN_PROCESS_BACKEND,
                        '--work-dir', str(tmp_path / 'deployed'), *ALL_STEPS)
    expected = step_mious(
        glob.glob(str(tmp_path / 'torch' / '*' / 'anytime_iou.json'))[0])
    assert len(expected) == 10
    assert step_mious(str(tmp_path / 'deployed' /
                          'anytime_iou.json')) == expected


def test_tools_test_refuses_a_checkpoint_of_another_model(
        plain_deployment, foreign_checkpoint, tmp_path):
    with pytest.raises(
            CheckpointMismatchError,
            match='decode_head.context.*--allow-partial'):
        run_tool_in_process('tools/test.py', plain_deployment.config_file,
                            foreign_checkpoint, '--work-dir', str(tmp_path))


def test_deploy_refuses_a_checkpoint_of_another_model(plain_deployment,
                                                      foreign_checkpoint,
                                                      tmp_path):
    with pytest.raises(CheckpointMismatchError, match='not in the model'):
        run_tool_in_process('tools/deploy.py', plain_deployment.config_file,
                            foreign_checkpoint, '--work-dir', str(tmp_path))
    assert not osp.exists(tmp_path / MANIFEST)


def test_test_deployed_refuses_graphs_of_a_partial_checkpoint_unless_told(
        plain_deployment, foreign_checkpoint, tmp_path):
    work_dir = str(tmp_path / 'deploy')
    shutil.copytree(plain_deployment.work_dir, work_dir)
    with open(osp.join(work_dir, MANIFEST)) as file:
        manifest = json.load(file)
    manifest['checkpoint'] = foreign_checkpoint
    with open(osp.join(work_dir, MANIFEST), 'w') as file:
        json.dump(manifest, file)
    args = [
        'tools/test_deployed.py', plain_deployment.config_file, work_dir,
        *IN_PROCESS_BACKEND, '--work-dir',
        str(tmp_path / 'test')
    ]
    with pytest.raises(CheckpointMismatchError, match=foreign_checkpoint):
        run_tool_in_process(*args, *ALL_STEPS)
    run_tool_in_process(*args, '--allow-partial-checkpoint', *ALL_STEPS)
    assert osp.isfile(tmp_path / 'test' / 'test_deployed.log')


def test_test_deployed_exits_cleanly_after_openvino_with_workers(
        plain_deployment, tmp_path):
    """Persistent dataloader workers alive at exit crashed the process
    after OpenVINO had run (SIGSEGV, exit code 139)."""
    result = run_tool([
        'tools/test_deployed.py', plain_deployment.config_file,
        plain_deployment.work_dir, '--backend', 'openvino', '--work-dir',
        str(tmp_path), '--cfg-options', 'test_dataloader.num_workers=2',
        'test_dataloader.persistent_workers=True',
        'model.test_cfg.return_all_steps=True'
    ])
    assert result.returncode == 0
