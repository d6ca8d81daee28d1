"""A small recurrent canvas head for the tests of its steps."""
import torch

from mmseg_convlstm.models import ConvLSTMCanvasHead


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
