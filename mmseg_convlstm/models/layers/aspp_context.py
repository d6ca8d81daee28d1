"""Atrous spatial pyramid pooling as a context module: the branches of
MMSeg's ``ASPPHead`` (its ``ASPPModule`` and image pooling) fused by its
bottleneck, computed once per image before the recurrent steps."""
from typing import List, Sequence

import torch.nn as nn
from torch import Tensor

from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from .context_module import ContextModule, check_non_empty


@MODELS.register_module()
class ASPPContext(ContextModule):
    """ASPP context (DeepLabV3's head without its classifier), built as
    MMSeg's ``ASPPHead`` builds it.

    The branches are MMSeg's ``ASPPModule`` (a 1x1 ``ConvModule`` for
    dilation 1, a 3x3 one of each other dilation) and, when ``image_pool``,
    ``AdaptiveAvgPool2d(1)`` followed by a 1x1 ``ConvModule``, resized back
    to the input size; a 3x3 ``ConvModule`` fuses them to ``channels``.

    As in ``ASPPHead``, the image pooling branch normalises a 1x1 map: with
    batch-statistics norms (BN) in training it needs a batch of more than
    one image.

    Args:
        in_channels (int): Channels of the input features.
        channels (int): Channels of each branch and of the context.
        dilations (Sequence[int]): Dilation rate of each ``ASPPModule``
            branch. Default: (1, 6, 12, 18).
        image_pool (bool): Whether to add the image pooling branch.
            Default: True.
        **kwargs: Arguments of :class:`~.context_module.ContextModule`
            (``concat_input``, ``conv_cfg``, ``norm_cfg``, ``act_cfg``,
            ``align_corners``, ``init_cfg``).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 image_pool: bool = True,
                 **kwargs) -> None:
        super().__init__(in_channels, channels, **kwargs)
        check_non_empty(dilations, 'dilations')
        self.dilations = tuple(dilations)
        self.image_pool = None
        if image_pool:
            self.image_pool = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), self._conv_module(in_channels, 1))
        self.aspp_modules = ASPPModule(self.dilations, in_channels, channels,
                                       **self.block_cfg)
        self._build_bottleneck(
            (len(self.dilations) + int(image_pool)) * channels)

    def branches(self, features: Tensor) -> List[Tensor]:
        """The image pooling branch (if any), resized to the features, then
        the ``ASPPModule`` branches, as ``ASPPHead`` orders them."""
        outs = []
        if self.image_pool is not None:
            outs.append(
                resize(
                    self.image_pool(features),
                    size=features.shape[2:],
                    mode='bilinear',
                    align_corners=self.align_corners))
        outs.extend(self.aspp_modules(features))
        return outs
