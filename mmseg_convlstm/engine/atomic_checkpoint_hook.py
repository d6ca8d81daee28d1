from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmseg.registry import HOOKS


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` whose checkpoints survive a
    kill at any moment.

    - Checkpoints are written through :class:`AtomicLocalBackend` (temporary
      file, fsync, rename) unless ``backend_args`` or ``out_dir`` name
      another storage, so no half-written file ever has a checkpoint's name.
    - When ``max_keep_ckpts`` is reached, the oldest checkpoint is removed
      after the new one is complete, not before as MMEngine does, so a kill
      while saving leaves the previous checkpoints in place even with
      ``max_keep_ckpts=1``.

    MMEngine still writes ``work_dir/last_checkpoint`` with a plain
    ``open``; :class:`GuardedRunner`'s auto resume does not depend on it.

    Args:
        backend_args (dict, optional): As in ``CheckpointHook``. Default:
            ``dict(backend='atomic_local')`` for a local ``out_dir``.
        **kwargs: The other arguments of ``CheckpointHook``.
    """

    def __init__(self,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        out_dir = kwargs.get('out_dir')
        is_local = out_dir is None or '://' not in str(out_dir)
        if (backend_args is None and is_local
                and kwargs.get('file_client_args') is None):
            backend_args = dict(backend='atomic_local')
        super().__init__(backend_args=backend_args, **kwargs)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        expired = None
        if (self.max_keep_ckpts > 0
                and len(self.keep_ckpt_ids) == self.max_keep_ckpts
                and self.keep_ckpt_ids[-1] != step):
            # With a free slot MMEngine removes nothing before saving.
            expired = self.keep_ckpt_ids.popleft()
        super()._save_checkpoint_with_step(runner, step, meta)
        if expired is not None and is_main_process():
            self._remove_checkpoint(expired)

    def _remove_checkpoint(self, step: int) -> None:
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # DeepSpeed saves checkpoints as directories.
            self.file_backend.rmtree(path)
