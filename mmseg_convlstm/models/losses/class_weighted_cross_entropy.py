from typing import List, Optional, Union

from torch import Tensor

from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS


@MODELS.register_module()
class ClassWeightedCrossEntropyLoss(CrossEntropyLoss):
    """MMSeg's softmax :class:`CrossEntropyLoss` with class weights,
    averaged as ``F.cross_entropy(weight=w, ignore_index=i)`` averages: the
    sum of ``w[label]`` times each pixel's loss over the sum of ``w[label]``
    of the pixels not ignored.

    That is what MMSeg's ``CrossEntropyLoss(class_weight=w,
    avg_non_ignore=True)`` computes, on batches without ignored pixels:
    MMSeg 1.2.2 indexes ``w`` with every label before it zeroes the ignored
    ones, so a batch with one pixel of label 255 (void, crop padding)
    raises ``IndexError``. Here the divisor skips the ignored pixels first,
    so any head (MMSeg's ASPP and FCN heads, the recurrent head's fast
    step-loss path) trains with class weights on such batches, to the same
    value.

    Args:
        class_weight (list[float] | str): One weight per class, or a file of
            them (``.npy`` or ``.pkl``, as MMSeg reads).
        **kwargs: Arguments of :class:`CrossEntropyLoss` (``loss_weight``,
            ``loss_name``, ``reduction``); the softmax loss only, averaged
            over the pixels not ignored.
    """

    def __init__(self, class_weight: Union[List[float], str],
                 **kwargs) -> None:
        for key, supported in (('use_sigmoid', False), ('use_mask', False),
                               ('avg_non_ignore', True)):
            if kwargs.pop(key, supported) != supported:
                raise ValueError(
                    f'ClassWeightedCrossEntropyLoss supports {key}='
                    f'{supported} only (the softmax cross-entropy averaged '
                    'over the pixels not ignored)')
        super().__init__(
            class_weight=class_weight, avg_non_ignore=True, **kwargs)

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[Tensor] = None,
                reduction_override: Optional[str] = None,
                ignore_index: int = -100,
                **kwargs) -> Tensor:
        """The loss of ``cls_score`` (N, C, H, W) against ``label``
        (N, H, W); the arguments of :meth:`CrossEntropyLoss.forward`."""
        reduction = reduction_override or self.reduction
        if avg_factor is None and reduction == 'mean':
            class_weight = cls_score.new_tensor(self.class_weight)
            avg_factor = class_weight[label[label != ignore_index]].sum()
        return super().forward(
            cls_score,
            label,
            weight,
            avg_factor=avg_factor,
            reduction_override=reduction_override,
            ignore_index=ignore_index,
            **kwargs)
