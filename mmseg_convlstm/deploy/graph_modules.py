"""The graphs of a deployed recurrent model, as small modules that call the
registered model's own methods (the model stays the one source of the
computation): what runs once per image, one recurrent step (warm, cold,
or positions as rows) and the labels at the image's size."""
from typing import List, Tuple

from torch import Tensor, nn

from ..models.layers.recurrent_state import RecurrentState

PROLOGUE = 'prologue'
PROJECT_ROWS = 'project_rows'
STEP = 'step'
STEP_COLD = 'step_cold'
STEP_ROWS = 'step_rows'
FINALIZE = 'finalize'


def state_names(num_cells: int) -> List[str]:
    """Names of a state's tensors in the order of
    :meth:`~..models.layers.RecurrentState.tensors`: ``h0, c0, h1, c1,
    ..., canvas``."""
    return [f'{kind}{index}' for index in range(num_cells)
            for kind in 'hc'] + ['canvas']


def next_names(names: List[str]) -> List[str]:
    """Output names of a step for the state ``names`` it reads."""
    return [f'{name}_next' for name in names]


def recurrence_output_names(init_canvas: bool) -> List[str]:
    """What the bottom cell's input projection graphs give: the projection
    and, with ``init_canvas``, the canvas a cold start starts from."""
    return ['projection'] + (['canvas'] if init_canvas else [])


class PrologueGraph(nn.Module):
    """Image to what the steps read, computed once per image: the
    features (backbone and any context module,
    :meth:`~..models.segmentors.RecurrentEncoderDecoder.head_features`),
    the bottom cell's input projection and, with ``init_canvas``, the
    initial canvas (:meth:`~..models.decode_heads.ConvLSTMCanvasHead.
    cold_state`).

    Args:
        segmentor (RecurrentEncoderDecoder): The model, in eval mode, with
            ``cache_input_projection``.
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        self.segmentor = segmentor

    def forward(self, image: Tensor) -> Tuple[Tensor, ...]:
        features = self.segmentor.head_features(image)
        return (features, ) + project(self.segmentor.decode_head, features,
                                      False)


class ProjectRowsGraph(nn.Module):
    """Feature positions as rows (P, C) to their bottom projection and, with
    ``init_canvas``, initial canvas rows: for per-position exit.

    Args:
        head (ConvLSTMCanvasHead): The head.
    """

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, features: Tensor) -> Tuple[Tensor, ...]:
        return project(self.head, features, True)


def project(head: nn.Module, features: Tensor,
            rows: bool) -> Tuple[Tensor, ...]:
    """The bottom projection of ``features`` and, with ``init_canvas``, the
    canvas of a cold start on them."""
    canvas = head.cold_state(features, rows).canvas
    projection = head.bottom_projection(features, rows)
    return (projection, ) if canvas is None else (projection, canvas)


class StepGraph(nn.Module):
    """One recurrent step (:meth:`~..models.decode_heads.ConvLSTMCanvasHead.
    step`) from the bottom projection and the state's tensors, in the
    order of :meth:`RecurrentState.tensors`, to the new state's.

    Args:
        head (ConvLSTMCanvasHead): The head.
        rows (bool): Tensors are positions as rows (P, channels).
        cold (bool): The first step of a cold start: zero LSTM states,
            whose recurrent convolutions are skipped; its state input is
            the initial canvas with ``init_canvas``, else nothing.
    """

    def __init__(self,
                 head: nn.Module,
                 rows: bool = False,
                 cold: bool = False) -> None:
        super().__init__()
        self.head = head
        self.rows = rows
        self.cold = cold

    def forward(self, projection: Tensor,
                state: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        if self.cold:
            start = self.head.initial_state()._replace(
                canvas=state[0] if state else None)
        else:
            start = RecurrentState.from_tensors(state)
        return tuple(
            self.head.step(None, projection, start, self.rows).tensors())


class FinalizeGraph(nn.Module):
    """A canvas (N, num_classes, h, w) to labels (N, H, W) at the size of
    ``image`` (N, 3, H, W): the head's bilinear upsampling
    (:meth:`predict_by_feat`) and the argmax over the classes.

    Args:
        head (ConvLSTMCanvasHead): The head.
    """

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, canvas: Tensor, image: Tensor) -> Tensor:
        logits = self.head.predict_by_feat(canvas,
                                           [dict(img_shape=image.shape[2:])])
        return logits.argmax(dim=1)
