from mmengine.hooks import Hook

from mmseg.registry import HOOKS

from .safe_checkpoint import to_plain_data


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Rewrites every checkpoint before it is saved so that it loads with
    ``torch.load(weights_only=True)`` and no extra allowlist (see
    :func:`mmseg_convlstm.engine.to_plain_data`).

    It runs after every other hook's ``before_save_checkpoint`` (lowest
    priority), so whatever they add is rewritten too.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        plain = to_plain_data(checkpoint)
        checkpoint.clear()
        checkpoint.update(plain)
