import logging
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

from ..datasets.dataset_check import (check_dataset_configs,
                                      check_dataset_files)
from .deterministic_check import check_deterministic_training
from .launch_check import check_launch
from .preemption_hook import shield_workers
from .safe_checkpoint import (UnreadableCheckpointError, UnsafeCheckpointError,
                              load_checkpoint_safely)

NUMBERED_CHECKPOINT = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
# One of the two values with which cuBLAS is deterministic.
DETERMINISTIC_CUBLAS_WORKSPACE = ':4096:8'


def _recorded_checkpoint(work_dir: str) -> Optional[str]:
    """What ``work_dir/last_checkpoint`` names, if it names anything."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as file:
        return file.read().strip() or None


def checkpoint_candidates(work_dir: str) -> List[str]:
    """The checkpoints auto resume may use, newest first.

    ``iter_N.pth`` and ``epoch_N.pth`` in ``work_dir`` and in the directory
    that ``work_dir/last_checkpoint`` points into (a hook's ``out_dir``),
    by decreasing N; what ``last_checkpoint`` names comes first when its name
    carries no N. ``last_checkpoint`` alone is not trusted: MMEngine writes
    it after the checkpoint and without a rename, so a kill can leave it
    empty or one checkpoint behind.
    """
    recorded = _recorded_checkpoint(work_dir)
    directories = {osp.abspath(work_dir)}
    if recorded is not None and osp.isdir(osp.dirname(recorded)):
        directories.add(osp.abspath(osp.dirname(recorded)))
    numbered: Dict[str, int] = {}
    for directory in directories:
        for name in os.listdir(directory):
            match = NUMBERED_CHECKPOINT.match(name)
            if match:
                numbered[osp.join(directory, name)] = int(match.group(1))
    candidates = sorted(numbered, key=numbered.__getitem__, reverse=True)
    if recorded is not None and osp.abspath(recorded) not in numbered:
        candidates.insert(0, recorded)
    return candidates


def newest_loadable_checkpoint(work_dir: str) -> Optional[str]:
    """The newest of :func:`checkpoint_candidates` that
    :func:`load_checkpoint_safely` loads; each one skipped is logged as a
    warning with the reason. None when ``work_dir`` holds no checkpoint.

    Raises:
        UnreadableCheckpointError: There are checkpoints but none loads.
    """
    skipped = []
    for path in checkpoint_candidates(work_dir):
        try:
            load_checkpoint_safely(path, map_location='cpu')
        except (FileNotFoundError, UnreadableCheckpointError,
                UnsafeCheckpointError) as error:
            print_log(
                f'auto resume skips checkpoint {path}: {error}',
                logger='current',
                level=logging.WARNING)
            skipped.append(path)
            continue
        if skipped:
            print_log(
                f'auto resume uses {path}, the newest checkpoint that loads',
                logger='current',
                level=logging.WARNING)
        return path
    if skipped:
        raise UnreadableCheckpointError(
            f'auto resume found checkpoints in {work_dir} but none loads: '
            f'{", ".join(skipped)} (reasons above). Resume from a checkpoint '
            'you name with --resume PATH, or move these away to start over.')
    return None


@RUNNERS.register_module()
class GuardedRunner(Runner):
    """A ``Runner`` that refuses bad state before it costs a run.

    - Auto resume (``resume=True`` without ``load_from``, i.e.
      ``tools/train.py --resume``) uses the newest checkpoint of the work
      dir that loads (:func:`newest_loadable_checkpoint`), warning about
      each truncated, corrupt or unsafe one it skips, instead of whatever
      ``last_checkpoint`` names. A checkpoint named with ``--resume PATH`` is
      used as is and fails with the file's name if it does not load.
    - Every dataset it builds is checked with
      :func:`~mmseg_convlstm.datasets.dataset_check.check_dataset_files`: an
      empty split or a split naming missing files stops the run at once,
      naming them, instead of looping forever (``InfiniteSampler`` on an
      empty dataset) or failing hours later. Its dataloader workers ignore
      the preemption signals (:func:`shield_workers`), so :meth:`train`,
      :meth:`val` and :meth:`test` shut them down when they end
      (:meth:`stop_dataloader_workers`).
    - A distributed launch that does not fit the machine stops before the
      process group starts (:func:`check_launch`).
    - ``randomness.deterministic=True`` also sets ``CUBLAS_WORKSPACE_CONFIG``
      (unless set), which deterministic matrix products on CUDA need, before
      the model is built; and :meth:`train` refuses to train on CUDA with a
      loss that cannot run deterministically there, naming the keys
      (:func:`check_deterministic_training`), before the first iteration.

    Select it with ``runner_type = 'GuardedRunner'`` in a config.
    """

    def train(self) -> nn.Module:
        """Refuses deterministic CUDA training with a loss that cannot run
        deterministically (:func:`check_deterministic_training`), then
        trains as ``Runner`` does, then stops the dataloader workers."""
        check_deterministic_training(
            self.model, self.training_device(),
            self._randomness_cfg.get('deterministic', False))
        try:
            return super().train()
        finally:
            self.stop_dataloader_workers()

    def val(self) -> dict:
        """Validates as ``Runner`` does, then stops the dataloader
        workers."""
        try:
            return super().val()
        finally:
            self.stop_dataloader_workers()

    def test(self) -> dict:
        """Tests as ``Runner`` does, then stops the dataloader workers."""
        try:
            return super().test()
        finally:
            self.stop_dataloader_workers()

    def training_device(self) -> torch.device:
        """The device of the model's parameters, where it trains."""
        return next(self.model.parameters()).device

    def stop_dataloader_workers(self) -> None:
        """Shuts down the worker processes of the loops' dataloaders.

        Persistent workers, and those of the training loop's endless
        iterator, would otherwise live until the interpreter exits, whose
        clean-up stops them with SIGTERM, which they ignore
        (:func:`shield_workers`): the process would wait for them forever
        after its last iteration.
        """
        for loop in (self._train_loop, self._val_loop, self._test_loop):
            for iterator in _worker_iterators(loop):
                iterator._shutdown_workers()
            dataloader = getattr(loop, 'dataloader', None)
            if getattr(dataloader, '_iterator', None) is not None:
                dataloader._iterator = None

    def setup_env(self, env_cfg: Dict) -> None:
        """Refuses a launch that does not fit the machine, then sets up the
        environment as ``Runner`` does."""
        check_launch(self.launcher, env_cfg.get('dist_cfg', {}))
        super().setup_env(env_cfg)

    def set_randomness(self,
                       seed,
                       diff_rank_seed: bool = False,
                       deterministic: bool = False) -> None:
        """Seeds as ``Runner`` does; when deterministic, first sets
        ``CUBLAS_WORKSPACE_CONFIG``, which cuBLAS reads when PyTorch first
        uses it."""
        if deterministic:
            os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG',
                                  DETERMINISTIC_CUBLAS_WORKSPACE)
        super().set_randomness(seed, diff_rank_seed, deterministic)

    def load_or_resume(self) -> None:
        """Resolves auto resume to a loadable checkpoint, then loads or
        resumes as ``Runner`` does."""
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = newest_loadable_checkpoint(self.work_dir)
            if self._load_from is None:
                self.logger.info(f'No checkpoint in {self.work_dir} to '
                                 'resume from: training from the start.')
                self._resume = False
        super().load_or_resume()

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """Builds a dataloader as ``Runner`` does and checks its dataset."""
        try:
            built = Runner.build_dataloader(dataloader, seed, diff_rank_seed)
        except ValueError:
            if isinstance(dataloader, dict) and isinstance(
                    dataloader.get('dataset'), dict):
                check_dataset_configs(dataloader['dataset'])
            raise
        check_dataset_files(built.dataset)
        shield_workers(built)
        return built


def _worker_iterators(loop: object) -> List[object]:
    """The multi-process iterators a loop (or its unbuilt config) holds:
    its dataloader's persistent one and its endless training iterator's."""
    dataloader = getattr(loop, 'dataloader', None)
    endless = getattr(loop, 'dataloader_iterator', None)
    candidates = (getattr(dataloader, '_iterator', None),
                  getattr(endless, '_iterator', None))
    return [
        iterator for iterator in candidates
        if hasattr(iterator, '_shutdown_workers')
    ]
