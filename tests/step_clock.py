"""A deterministic clock for time budgets."""
from typing import Sequence, Union

import torch


class StepCostClock:
    """A clock on which a segmentor's parts cost known times.

    The backbone costs ``backbone_ms``, plus ``new_shape_ms`` the first time
    it sees an input shape (what cuDNN's choice of algorithms or a CUDA
    graph capture costs once); the bottom cell's input projection costs
    ``projection_ms``; the t-th recurrent step since the last backbone run
    costs ``step_ms[t - 1]`` (the last cost repeats; one number: every
    step). Forward hooks advance it as the model runs, and
    :meth:`replayed_op`, given to a graph stand-in, as a graph replays the
    operations that read the weights of those parts. Set it as the model's
    ``clock``; :meth:`remove` takes the hooks off.
    """

    def __init__(self,
                 model,
                 backbone_ms: float,
                 step_ms: Union[float, Sequence[float]],
                 projection_ms: float = 0.0,
                 new_shape_ms: float = 0.0) -> None:
        self.now = 0.0
        self.backbone_ms = backbone_ms
        self.step_ms = [step_ms] if isinstance(step_ms,
                                               (int, float)) else step_ms
        self.projection_ms = projection_ms
        self.new_shape_ms = new_shape_ms
        self.seen_shapes = set()
        self.steps_since_backbone = 0
        head = model.decode_head
        # The top cell's input convolution runs once in every step.
        self.handles = [
            model.backbone.register_forward_hook(
                lambda _, args, __: self.backbone_ran(tuple(args[0].shape))),
            head.cells[0].input_conv.register_forward_hook(
                lambda *_: self.advance(projection_ms)),
            head.cells[-1].input_conv.register_forward_hook(
                lambda *_: self.step_ran())
        ]
        backbone_weight = next(model.backbone.parameters())
        self.replayed_costs = [
            (backbone_weight, lambda: self.backbone_ran(None)),
            (head.cells[0].input_conv.weight,
             lambda: self.advance(projection_ms)),
            (head.cells[-1].input_conv.weight, self.step_ran),
        ]

    def advance(self, milliseconds: float) -> None:
        self.now += milliseconds

    def backbone_ran(self, shape) -> None:
        if shape is not None and shape not in self.seen_shapes:
            self.seen_shapes.add(shape)
            self.advance(self.new_shape_ms)
        self.advance(self.backbone_ms)
        self.steps_since_backbone = 0

    def step_ran(self) -> None:
        self.steps_since_backbone += 1
        index = min(self.steps_since_backbone, len(self.step_ms)) - 1
        self.advance(self.step_ms[index])

    def replayed_op(self, func, args: tuple) -> None:
        """Advances the clock for a replayed operation that reads the first
        weight of the backbone (a replayed backbone, of a shape seen when it
        was captured), the bottom cell's or the top cell's input
        convolution weight."""
        for weight, ran in self.replayed_costs:
            if any(arg is weight for arg in args):
                ran()

    def __call__(self, device: torch.device) -> float:
        return self.now

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
