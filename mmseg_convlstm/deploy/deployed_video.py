"""Video with the recurrent state carried across frames, on a deployed
model."""
from typing import Optional

from torch import Tensor

from mmseg.structures import SegDataSample
from ..apis.recurrent_video_inferencer import RecurrentVideoInferencer
from .deployed_segmentor import DeployedSegmentor, check_same_size


class DeployedVideoInferencer(RecurrentVideoInferencer):
    """:class:`RecurrentVideoInferencer` on a :class:`DeployedSegmentor`:
    the same ``video_cfg`` keys (from the deployed config, overridden by
    keyword arguments), the same carried state, scene cuts, backbone
    interval, per-position exit and time budget, the prologue and the
    steps run by the backend.

    Args:
        model (DeployedSegmentor): The deployed model.
        time_budget_ms (float, optional): Milliseconds for each frame's
            prologue and steps (see :class:`RecurrentVideoInferencer`).
        **video_cfg: Overrides of the config's ``video_cfg``.
    """

    def __init__(self,
                 model: DeployedSegmentor,
                 time_budget_ms: Optional[float] = None,
                 **video_cfg) -> None:
        super().__init__(model, time_budget_ms=time_budget_ms, **video_cfg)

    def labels(self, canvas: Tensor, data_sample: SegDataSample) -> Tensor:
        """The (H, W) labels of one frame's canvas (1, num_classes, h, w),
        at the size of the network input."""
        shape = data_sample.metainfo['img_shape'][:2]
        check_same_size(data_sample.metainfo, shape)
        size_of = canvas.new_empty(1, 3, *shape)
        return self.model.finalize(canvas, size_of)[0]
