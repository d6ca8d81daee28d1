import logging
from typing import Iterator, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS
from ..datasets.dataset_check import leaf_datasets


@HOOKS.register_module()
class CropSizeCheckHook(Hook):
    """Warns before training when a training crop size (a ``RandomCrop`` of
    the train pipeline, or the data preprocessor's padding ``size``) is not
    ``multiple * k + 1`` pixels in each dimension.

    Why: with ``align_corners=True`` the canvas is upsampled so that its
    corner cells land on the corner pixels. Every stride-2 layer of the
    backbone maps ``2n + 1`` pixels to exactly ``n + 1`` cells, so an input
    of 32k+1 pixels gives feature maps whose first and last cells sit on the
    first and last pixels at every stride (513 -> 257 -> 129 -> 65 -> 33).
    Any other size makes some layer round, its last cell covers a partial
    window, and the upsampled prediction is stretched by up to half a cell
    (8 pixels at output stride 16), misaligned most at the bottom and right
    edges. The paper's crops (513x513, 1025x2049) are 32k+1.

    Args:
        multiple (int): The crop size minus one must be a multiple of this.
            Default: 32.
    """

    def __init__(self, multiple: int = 32) -> None:
        self.multiple = multiple

    def before_train(self, runner) -> None:
        for key, size in self._crop_sizes(runner):
            self._check(key, size)

    def _crop_sizes(self, runner) -> Iterator[Tuple[str, Sequence[int]]]:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        preprocessor_size = getattr(model.data_preprocessor, 'size', None)
        if preprocessor_size is not None:
            yield 'model.data_preprocessor.size', preprocessor_size
        for dataset in leaf_datasets(runner.train_dataloader.dataset):
            for transform in getattr(dataset.pipeline, 'transforms', []):
                crop_size = getattr(transform, 'crop_size', None)
                if crop_size is not None:
                    yield (f'train pipeline {type(transform).__name__}'
                           '.crop_size', crop_size)

    def _check(self, key: str, size: Sequence[int]) -> None:
        size = (size, size) if isinstance(size, int) else tuple(size)
        if all((side - 1) % self.multiple == 0 for side in size):
            return
        suggestion = tuple(
            max(1, round((side - 1) / self.multiple)) * self.multiple + 1
            for side in size)
        print_log(
            f'{key} is {size}, not {self.multiple}k+1 in each dimension: '
            'the stride-16 features no longer end on the last row and column '
            'of pixels, and the upsampled predictions are misaligned near the '
            f'bottom and right edges. Use e.g. {suggestion}.',
            logger='current',
            level=logging.WARNING)
