"""Pyramid pooling as a context module: the branches of MMSeg's
``PSPHead`` (its ``PPM``, beside the features) fused by its bottleneck,
computed once per image before the recurrent steps."""
from typing import List, Sequence

from torch import Tensor

from mmseg.models.decode_heads.psp_head import PPM
from mmseg.registry import MODELS
from .context_module import ContextModule, check_non_empty


@MODELS.register_module()
class PPMContext(ContextModule):
    """Pyramid pooling context (PSPNet's head without its classifier),
    built as MMSeg's ``PSPHead`` builds it.

    The branches are the features themselves and MMSeg's ``PPM``: for each
    pool scale, ``AdaptiveAvgPool2d(scale)`` and a 1x1 ``ConvModule``,
    resized back to the input size; a 3x3 ``ConvModule`` fuses them to
    ``channels``.

    As in ``PSPHead``, pool scale 1 normalises a 1x1 map: with
    batch-statistics norms (BN) in training it needs a batch of more than
    one image.

    Args:
        in_channels (int): Channels of the input features.
        channels (int): Channels of each pooling branch and of the context.
        pool_scales (Sequence[int]): Output sizes of the pooling branches.
            Default: (1, 2, 3, 6).
        **kwargs: Arguments of :class:`~.context_module.ContextModule`
            (``concat_input``, ``conv_cfg``, ``norm_cfg``, ``act_cfg``,
            ``align_corners``, ``init_cfg``).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 pool_scales: Sequence[int] = (1, 2, 3, 6),
                 **kwargs) -> None:
        super().__init__(in_channels, channels, **kwargs)
        check_non_empty(pool_scales, 'pool_scales')
        self.pool_scales = tuple(pool_scales)
        self.psp_modules = PPM(
            self.pool_scales,
            in_channels,
            channels,
            align_corners=self.align_corners,
            **self.block_cfg)
        self._build_bottleneck(in_channels + len(self.pool_scales) * channels)

    def branches(self, features: Tensor) -> List[Tensor]:
        """The features, then the ``PPM`` branches resized to them, as
        ``PSPHead`` orders them."""
        return [features, *self.psp_modules(features)]
