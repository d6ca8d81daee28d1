"""A deterministic clock for time budgets."""
import torch


class StepCostClock:
    """A clock on which a segmentor's backbone costs ``backbone_ms`` and
    every recurrent step ``step_ms``: forward hooks advance it as they run.
    Set it as the model's ``clock``; :meth:`remove` takes the hooks off."""

    def __init__(self, model, backbone_ms: float, step_ms: float) -> None:
        self.now = 0.0
        # The top cell's input convolution runs once in every step.
        self.handles = [
            model.backbone.register_forward_hook(
                lambda *_: self.advance(backbone_ms)),
            model.decode_head.cells[-1].input_conv.register_forward_hook(
                lambda *_: self.advance(step_ms))
        ]

    def advance(self, milliseconds: float) -> None:
        self.now += milliseconds

    def __call__(self, device: torch.device) -> float:
        return self.now

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
