import glob
import os.path as osp
import uuid
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from PIL import Image

from mmseg.registry import HOOKS, MODELS
from mmseg_convlstm.engine import StepGridHook
from tests.checkpoints import save_random_checkpoint
from tests.tools_runner import DEMO_CONFIG


def validation_config(voc_root, work_dir, checkpoint, hook):
    cfg = Config.fromfile(DEMO_CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = voc_root
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    # MMSeg's show_result_pyplot leaves a visualizer without backends under
    # the default name 'visualizer', which the runner would reuse.
    cfg.visualizer.name = f'step_grid_{uuid.uuid4().hex}'
    cfg.custom_hooks = [*cfg.custom_hooks, hook]
    return cfg


def test_validation_saves_a_grid_per_image(voc_root, tmp_path):
    torch.set_num_threads(1)
    checkpoint = save_random_checkpoint(DEMO_CONFIG,
                                        str(tmp_path / 'random.pth'))
    cfg = validation_config(
        voc_root, str(tmp_path / 'work'), checkpoint,
        dict(type='StepGridHook', num_images=2, steps=(1, 3)))
    Runner.from_cfg(cfg).val()
    grids = sorted(
        glob.glob(
            str(tmp_path / 'work' / '*' / 'vis_data' / 'vis_image' /
                'step_grid_*.png')))
    assert [osp.basename(path) for path in grids] == [
        'step_grid_2007_val_000000_0.png', 'step_grid_2007_val_000001_0.png'
    ]
    picture = np.asarray(Image.open(grids[0]))
    # image, step 1, step 3 and the ground truth side by side.
    assert picture.shape[1] > 3 * picture.shape[0]


def demo_model(**test_cfg):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.test_cfg.update(test_cfg)
    init_default_scope('mmseg')
    return MODELS.build(cfg.model)


def test_hook_is_registered():
    hook = HOOKS.build(dict(type='StepGridHook', steps=(2, )))
    assert isinstance(hook, StepGridHook)


@pytest.mark.parametrize('test_cfg,steps,message', [
    (dict(return_all_steps=False), None, 'return_all_steps=True'),
    (dict(num_steps=3), (1, 4), 'step 4 is not among the 3 steps'),
])
def test_misconfiguration_stops_before_the_run(test_cfg, steps, message):
    runner = SimpleNamespace(model=demo_model(**test_cfg))
    with pytest.raises(ValueError, match=message):
        StepGridHook(steps=steps).before_run(runner)
