from typing import Tuple

import torch

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


def count_areas(pred_label: torch.Tensor, label: torch.Tensor,
                num_classes: int,
                ignore_index: int) -> Tuple[torch.Tensor, ...]:
    """The per-class areas of one image that
    :meth:`IoUMetric.intersect_and_union` counts, counted deterministically
    on any device.

    MMSeg counts with ``torch.histc`` on float tensors, which has no
    deterministic CUDA implementation, so evaluation fails under
    ``torch.use_deterministic_algorithms(True)`` on a GPU. This counts the
    (ground truth, prediction) pairs with one ``torch.bincount`` without
    weights, which is deterministic on CPU and CUDA, with the same rules:
    pixels whose label is ``ignore_index`` are left out, and a value outside
    ``0 .. num_classes - 1`` counts for no class (as it falls outside
    ``histc``'s range).

    Args:
        pred_label (Tensor): Predicted labels, shape (H, W).
        label (Tensor): Ground truth, shape (H, W).
        num_classes (int): Number of classes.
        ignore_index (int): Label value that is not evaluated.

    Returns:
        tuple[Tensor]: ``area_intersect``, ``area_union``,
        ``area_pred_label`` and ``area_label``, each of shape
        (num_classes,): exact int64 counts on the CPU, whatever the device
        of the inputs.
    """
    # Ids outside the classes share the extra id num_classes; ignored pixels
    # go to one more bin past the pairs. No boolean indexing: it is slower.
    side = num_classes + 1
    ignored = side * side
    pairs = _class_ids(label, num_classes) * side + _class_ids(
        pred_label, num_classes)
    pairs = torch.where(label != ignore_index, pairs, ignored)
    joint = torch.bincount(
        pairs.flatten(), minlength=ignored + 1)[:ignored].view(side, side)
    joint = joint.cpu()
    area_intersect = torch.diag(joint)[:num_classes]
    area_pred_label = joint.sum(0)[:num_classes]
    area_label = joint.sum(1)[:num_classes]
    area_union = area_pred_label + area_label - area_intersect
    return area_intersect, area_union, area_pred_label, area_label


def _class_ids(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    labels = labels.long()
    return torch.where((labels >= 0) & (labels < num_classes), labels,
                       num_classes)


@METRICS.register_module()
class DeterministicIoUMetric(IoUMetric):
    """MMSeg's :class:`IoUMetric` with deterministic counting
    (:func:`count_areas`), so that it also works with
    ``randomness.deterministic=True`` on CUDA.

    The areas are exact integers (MMSeg's are float32, whose sums over a
    dataset round once a class covers more than 2**24 pixels); the metrics
    are otherwise computed as IoUMetric computes them. Use it wherever a
    config would name ``IoUMetric``. Takes :class:`IoUMetric`'s arguments.
    """

    @staticmethod
    def intersect_and_union(pred_label: torch.Tensor, label: torch.Tensor,
                            num_classes: int,
                            ignore_index: int) -> Tuple[torch.Tensor, ...]:
        """See :func:`count_areas`."""
        return count_areas(pred_label, label, num_classes, ignore_index)
