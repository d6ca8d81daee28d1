from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Stops a run at once, naming the keys, when the decode head's
    ``num_classes`` differs from the number of classes of a dataset it trains
    or is evaluated on (instead of a CUDA assert or silently wrong IoU
    later)."""

    def before_train(self, runner) -> None:
        self._check(runner, runner.train_dataloader, 'train_dataloader')

    def before_val(self, runner) -> None:
        self._check(runner, runner.val_dataloader, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, runner.test_dataloader, 'test_dataloader')

    @staticmethod
    def _check(runner, dataloader, name: str) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'decode_head', None)
        classes = getattr(dataloader.dataset, 'metainfo', {}).get('classes')
        if head is None or classes is None:
            return
        if head.num_classes != len(classes):
            raise ValueError(
                f'model.decode_head.num_classes is {head.num_classes} but '
                f'{name}.dataset ({type(dataloader.dataset).__name__}) has '
                f'{len(classes)} classes; set model.decode_head.num_classes '
                'and the last entry of model.decode_head.hidden_channels '
                f'to {len(classes)}')
