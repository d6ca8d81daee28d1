"""Evaluating a deployed model on a config's test dataset with the config's
own evaluator, as ``tools/test.py`` evaluates the PyTorch model."""
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger, print_log
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from mmseg.registry import MODELS
from ..engine.checkpoint_fit import check_checkpoint_fits
from .deployed_segmentor import DeployedSegmentor


def check_deployed_checkpoint(segmentor: DeployedSegmentor,
                              allow_partial: bool = False) -> None:
    """Checks, as ``tools/test.py`` checks a checkpoint, that the one the
    graphs were exported from (recorded in ``deploy.json``) fits the
    config's model; skipped when it is no longer there or none was
    recorded."""
    checkpoint = segmentor.manifest.checkpoint
    if checkpoint is None or not osp.isfile(checkpoint):
        return
    check_checkpoint_fits(
        MODELS.build(segmentor.cfg.model), checkpoint, allow_partial)


def evaluate_deployed(cfg: Config,
                      deploy_dir: str,
                      work_dir: str,
                      backend: Optional[str] = None,
                      threads: Optional[int] = None,
                      cfg_source: str = 'the config',
                      allow_partial_checkpoint: bool = False) -> dict:
    """Runs a deployed model on ``cfg``'s test dataloader and evaluates its
    predictions with ``cfg.test_evaluator`` (e.g. the mIoU after every
    step with ``AnytimeIoUMetric``), the policy chosen by
    ``cfg.model.test_cfg``.

    Args:
        cfg (Config): The config, whose model must be the exported one.
        deploy_dir (str): What ``tools/deploy.py`` wrote.
        work_dir (str): Where the log (``test_deployed.log``) and the
            metric's JSON files go.
        backend (str, optional): The backend; default the exported one.
        threads (int, optional): Threads of the backend (see
            :class:`DeployedSegmentor`).
        cfg_source (str): What ``cfg`` is, named in errors.
        allow_partial_checkpoint (bool): Accept graphs exported from a
            checkpoint that does not fit the config. Default: False.

    Returns:
        dict: The metrics.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    os.makedirs(work_dir, exist_ok=True)
    MMLogger.get_instance(
        f'test_deployed_{id(cfg)}',
        log_file=osp.join(work_dir, 'test_deployed.log'))
    segmentor = DeployedSegmentor(deploy_dir, backend, threads, cfg,
                                  cfg_source)
    check_deployed_checkpoint(segmentor, allow_partial_checkpoint)
    # One pass needs no persistent workers; left alive until the
    # interpreter exits, they made it crash (SIGSEGV) after OpenVINO ran.
    dataloader = Runner.build_dataloader(
        dict(cfg.test_dataloader, persistent_workers=False))
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataloader.dataset.metainfo
    progress = ProgressBar(len(dataloader.dataset))
    for batch in dataloader:
        predictions = segmentor.test_step(batch)
        evaluator.process(predictions, batch)
        progress.update(len(predictions))
    metrics = evaluator.evaluate(len(dataloader.dataset))
    print_log(
        f'{segmentor.backend} ({segmentor.threads} threads): {metrics}',
        logger='current')
    return metrics
