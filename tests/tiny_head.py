"""A small recurrent canvas head for the tests of its steps."""
import torch
from mmengine.config import Config, ConfigDict

from mmseg_convlstm.models import ConvLSTMCanvasHead
from tests.conftest import DEMO_CONFIG


def tiny_head(num_classes: int,
              num_steps: int,
              seed: int = 3,
              **kwargs) -> ConvLSTMCanvasHead:
    """A head on 8 input channels with cells of 16, 12 and ``num_classes``
    maps, seeded, initialised and in eval mode; ``kwargs`` go to
    :class:`ConvLSTMCanvasHead`."""
    torch.manual_seed(seed)
    head = ConvLSTMCanvasHead(
        in_channels=8,
        in_index=0,
        hidden_channels=(16, 12, num_classes),
        num_classes=num_classes,
        num_steps=num_steps,
        **kwargs)
    head.init_weights()
    head.eval()
    return head


def tiny_demo_model_cfg(**decode_head) -> ConfigDict:
    """The demo's model config narrowed for fast tests: a ResNetV1c-18 of
    8 base channels and cells (16, 8, 21); ``decode_head`` updates the
    head's config."""
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict({
        'model.backbone.stem_channels': 8,
        'model.backbone.base_channels': 8,
        'model.decode_head.in_channels': 64,
        'model.decode_head.hidden_channels': (16, 8, 21),
    })
    cfg.model.decode_head.update(decode_head)
    return cfg.model
