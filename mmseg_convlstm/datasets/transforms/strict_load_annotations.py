from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS
from ..dataset_check import IGNORE_INDEX, InvalidSampleError, label_problems


@TRANSFORMS.register_module()
class StrictLoadAnnotations(LoadAnnotations):
    """MMSeg's ``LoadAnnotations`` that refuses a label map it would
    otherwise pass on silently or fail on obscurely.

    It raises :class:`InvalidSampleError`, naming the label map and its
    image, when the label map cannot be decoded, has several channels
    (colours instead of class ids), differs in size from the image as loaded
    (``ori_shape``, so it goes after ``LoadImageFromFile``), or holds values
    that are neither a class id nor ``ignore_index``. Unchecked, a size
    mismatch trains on misaligned crops and a stray value fails inside the
    loss (or as a CUDA device assert) without naming any file.

    Args:
        num_classes (int): Class ids are ``0 .. num_classes - 1``, after
            ``reduce_zero_label`` and the dataset's ``label_map``.
        ignore_index (int): The value of ignored pixels. Default: 255.
        **kwargs: Arguments of ``LoadAnnotations``.
    """

    def __init__(self,
                 num_classes: int,
                 ignore_index: int = IGNORE_INDEX,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        # mmseg.apis.inference_model and MMSegInferencer drop only the
        # transforms named LoadAnnotations from the test pipeline; an image
        # given to them (no dataset fields) has no label map to load.
        if 'seg_map_path' not in results and 'seg_fields' not in results:
            return
        label_path = results['seg_map_path']
        image_path = results.get('img_path')
        try:
            super()._load_seg_map(results)
        except FileNotFoundError:
            raise
        # Undecodable: PIL raises OSError, cv2 returns None (AttributeError
        # on squeeze).
        except (AttributeError, OSError) as error:
            raise InvalidSampleError(
                f'cannot decode label map {label_path} (image {image_path}):'
                f' {error}') from error
        problems = label_problems(results['gt_seg_map'],
                                  results.get('ori_shape'), self.num_classes,
                                  self.ignore_index, label_path)
        if problems:
            raise InvalidSampleError(
                '; '.join(map(str, problems)) + f' (image {image_path}). '
                'Run tools/check_dataset.py on the data root to list every '
                'bad sample.')

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
