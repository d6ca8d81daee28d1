"""The part shared by the context modules (:class:`~.ASPPContext`,
:class:`~.PPMContext`): branches of MMSeg's blocks on the features, a 3x3
``ConvModule`` bottleneck fusing them (as MMSeg's ``ASPPHead`` and
``PSPHead`` do), and the raw features optionally kept beside the result.

A context module runs once per image on the backbone features, before the
recurrent steps, so that every step can stay pointwise.
"""
from typing import List

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.utils import OptConfigType, OptMultiConfig


class ContextModule(BaseModule):
    """Base of the context modules: ``bottleneck(cat(branches(x)))``, with
    ``x`` concatenated before it when ``concat_input``.

    A subclass builds its branches, then calls :meth:`_build_bottleneck`
    with the channels of the concatenated branches, and implements
    :meth:`branches`.

    Args:
        in_channels (int): Channels of the input features.
        channels (int): Channels of each branch and of the bottleneck's
            output (the context).
        concat_input (bool): Whether the output is the input features
            followed by the context (``torch.cat([x, context], 1)``) rather
            than the context alone. Default: True.
        conv_cfg (dict, optional): Config of the conv layers. Default: None.
        norm_cfg (dict, optional): Config of the norm layers.
            Default: dict(type='BN').
        act_cfg (dict, optional): Config of the activation layers.
            Default: dict(type='ReLU').
        align_corners (bool): ``align_corners`` of the bilinear resizes of
            pooled branches back to the input size. Default: False.
        init_cfg (dict or list[dict], optional): Initialization config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 concat_input: bool = True,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.channels = channels
        self.concat_input = concat_input
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.align_corners = align_corners

    @property
    def out_channels(self) -> int:
        """Channels of the output: ``in_channels + channels`` when
        ``concat_input``, else ``channels``."""
        if self.concat_input:
            return self.in_channels + self.channels
        return self.channels

    def _build_bottleneck(self, branch_channels: int) -> None:
        """Builds ``self.bottleneck``, the 3x3 ``ConvModule`` from the
        concatenated branches (``branch_channels``) to ``channels``."""
        self.bottleneck = self._conv_module(branch_channels, 3, padding=1)

    @property
    def block_cfg(self) -> dict:
        """The conv, norm and activation configs of MMSeg's blocks."""
        return dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def _conv_module(self, in_channels: int, kernel_size: int,
                     **kwargs) -> ConvModule:
        """A ``ConvModule`` to ``channels`` with :attr:`block_cfg`."""
        return ConvModule(in_channels, self.channels, kernel_size,
                          **self.block_cfg, **kwargs)

    def branches(self, features: Tensor) -> List[Tensor]:
        """The maps the bottleneck fuses, each of the size of ``features``.

        Args:
            features (Tensor): Input of shape (N, in_channels, h, w).

        Returns:
            list[Tensor]: Maps of shape (N, *, h, w), concatenated in order.
        """
        raise NotImplementedError

    def forward(self, features: Tensor) -> Tensor:
        """The context of ``features``, after them when ``concat_input``.

        Args:
            features (Tensor): Backbone features of shape
                (N, in_channels, h, w).

        Returns:
            Tensor: Shape (N, out_channels, h, w).
        """
        context = self.bottleneck(torch.cat(self.branches(features), dim=1))
        if self.concat_input:
            return torch.cat([features, context], dim=1)
        return context


def check_non_empty(values: object, key: str) -> None:
    """Raises ``ValueError`` naming ``key`` unless ``values`` is a
    non-empty list or tuple."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(
            f'{key} must be a non-empty list or tuple, got {values!r}')
