import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.fileio import get
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample
from ..models.segmentors.recurrent_encoder_decoder import step_labels_of
from ..visualization.step_pictures import render_step_grid


@HOOKS.register_module()
class StepGridHook(Hook):
    """Draws, at every validation, the first ``num_images`` validation
    images with the prediction after each of ``steps`` recurrent steps and
    the ground truth (see :func:`save_step_grid`), and hands the pictures to
    the runner's visualizer: with MMSeg's default ``LocalVisBackend`` they
    are saved as ``<work_dir>/<timestamp>/vis_data/vis_image/
    step_grid_<image name>_<iteration>.png``, and a ``TensorboardVisBackend``
    or ``WandbVisBackend`` in ``visualizer.vis_backends`` shows them too.

    The model must return every step's labels:
    ``model.test_cfg.return_all_steps=True``.

    Args:
        num_images (int): Validation images drawn, the first of the
            dataloader. Default: 4.
        steps (Sequence[int], optional): Steps drawn, counted from 1.
            Default: every step the model runs in inference.
        draw_gt (bool): Draw the ground truth too. Default: True.
        backend_args (dict, optional): File backend arguments to read the
            images. Default: None.
    """

    def __init__(self,
                 num_images: int = 4,
                 steps: Optional[Sequence[int]] = None,
                 draw_gt: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        if num_images < 1:
            raise ValueError(
                f'StepGridHook num_images must be at least 1, got '
                f'{num_images}')
        self.num_images = num_images
        self.steps = list(steps) if steps else None
        self.draw_gt = draw_gt
        self.backend_args = backend_args
        self._drawn = 0

    def before_run(self, runner: Runner) -> None:
        """Checks that the model returns the labels of the steps drawn."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not model.test_cfg.get('return_all_steps', False):
            raise ValueError(
                'StepGridHook needs the labels of every step: set '
                'model.test_cfg.return_all_steps=True')
        num_steps = model.inference_steps
        for step in self.steps or ():
            if not 1 <= step <= num_steps:
                raise ValueError(
                    f'StepGridHook steps={self.steps}: step {step} is not '
                    f'among the {num_steps} steps of model.test_cfg.num_steps')

    def before_val_epoch(self, runner: Runner) -> None:
        self._drawn = 0

    def after_val_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[SegDataSample]) -> None:
        """Draws the first images of the validation."""
        metainfo = runner.val_dataloader.dataset.metainfo
        for sample in outputs:
            if self._drawn >= self.num_images:
                return
            image = mmcv.imfrombytes(
                get(sample.img_path, backend_args=self.backend_args),
                channel_order='rgb')
            gt = (
                sample.gt_sem_seg.data[0].cpu().numpy()
                if self.draw_gt and 'gt_sem_seg' in sample else None)
            grid = render_step_grid(image, step_labels_of(sample), self.steps,
                                    metainfo['palette'], gt,
                                    metainfo['classes'])
            name = osp.splitext(osp.basename(sample.img_path))[0]
            runner.visualizer.add_image(
                f'step_grid_{name}', grid, step=runner.iter)
            self._drawn += 1
