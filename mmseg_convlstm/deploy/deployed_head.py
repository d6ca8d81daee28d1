"""The recurrent head of a deployed model: the methods of
:class:`~..models.decode_heads.ConvLSTMCanvasHead` that the step loop and
its rules call, each running an exported graph, so that the project's own
step loop, exit rules and video inferencer drive the deployed steps."""
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor

from ..models.decode_heads.convlstm_canvas_head import ConvLSTMCanvasHead
from ..models.exits.position_exit import to_rows
from ..models.layers.recurrent_state import RecurrentState
from .backends import Graph
from .graph_modules import PROJECT_ROWS, STEP, STEP_COLD, STEP_ROWS
from .manifest import DeployManifest


class DeployedHead:
    """The steps of a deployed recurrent head, with the interface of
    :class:`~..models.decode_heads.ConvLSTMCanvasHead` that
    :class:`~..models.exits.step_loop.EagerSteps` and the exit rules use.

    What the steps read of the features (the bottom cell's input projection
    and, with ``init_canvas``, the initial canvas) is the prologue's output
    for the features it gave (see :meth:`remember`), or else computed by
    the ``project_rows`` graph (positions as rows, as per-position exit
    steps them).

    Args:
        graphs (dict[str, Graph]): The loaded graphs, by name.
        manifest (DeployManifest): What ``deploy.json`` says.
    """

    def __init__(self, graphs: Dict[str, Graph],
                 manifest: DeployManifest) -> None:
        self.graphs = graphs
        self.kernel_size = manifest.kernel_size
        self.out_channels = manifest.num_classes
        self.hidden_channels = manifest.hidden_channels
        self.init_canvas = manifest.init_canvas
        self.state_channels = [
            channels for channels in manifest.hidden_channels for _ in 'hc'
        ] + [manifest.num_classes]
        self._known: Tuple[Optional[Tensor], List[Tensor]] = (None, [])

    def remember(self, features: Tensor, recurrence: List[Tensor]) -> None:
        """Keeps what the prologue computed for ``features`` (the
        projection, and the initial canvas with ``init_canvas``)."""
        self._known = (features, recurrence)

    def bottom_projection(self,
                          features: Tensor,
                          rows: bool = False) -> Tensor:
        """The bottom cell's input projection of ``features`` (maps, or
        rows with ``rows``)."""
        return self._recurrence(features, rows)[0]

    def initial_state(self) -> RecurrentState:
        """Zero LSTM states and an empty canvas, as None."""
        return RecurrentState([None] * len(self.hidden_channels), None)

    def cold_state(self,
                   features: Tensor,
                   rows: bool = False) -> RecurrentState:
        """Zero LSTM states (None) and the initial canvas of ``features``
        with ``init_canvas``, else none."""
        canvas = self._recurrence(features, rows)[1:]
        return self.initial_state()._replace(
            canvas=canvas[0] if canvas else None)

    def start_state(self,
                    features: Tensor,
                    state: Optional[RecurrentState],
                    rows: bool = False) -> RecurrentState:
        """``state``, or :meth:`cold_state` when None."""
        return state if state is not None else self.cold_state(features, rows)

    next_frame_state = ConvLSTMCanvasHead.next_frame_state

    def dense_state(self,
                    features: Tensor,
                    state: Optional[RecurrentState] = None) -> RecurrentState:
        """``state`` (None: :meth:`cold_state`) with zero tensors for what
        it lacks, shaped for ``features``."""
        state = state if state is not None else self.cold_state(features)
        return state.filled(features, self.hidden_channels, self.out_channels,
                            features.dtype)

    def step(self,
             features: Optional[Tensor],
             bottom_projection: Tensor,
             state: RecurrentState,
             rows: bool = False,
             outputs: Optional[Sequence[Tensor]] = None) -> RecurrentState:
        """One recurrent step, run by the graph that fits the state: the
        cold-start step (no recurrent convolutions) from zero LSTM states,
        else the step on maps or on rows, with zeros for what the state
        lacks (a cold start on rows, a canvas dropped between video
        frames).

        Args:
            features (Tensor, optional): Unused; the projection is given.
            bottom_projection (Tensor): :meth:`bottom_projection`.
            state (RecurrentState): The state before the step.
            rows (bool): Tensors are positions as rows. Default: False.
            outputs (list[Tensor], optional): Where to write the new
                state's tensors (see :meth:`state_buffers`); None for new
                tensors.

        Returns:
            RecurrentState: The state after the step.
        """
        cold = all(cell is None for cell in state.lstm)
        if cold and not rows and (state.canvas is not None) == \
                self.init_canvas:
            graph = self.graphs[STEP_COLD]
            inputs = [bottom_projection
                      ] + ([state.canvas] if self.init_canvas else [])
        else:
            graph = self.graphs[STEP_ROWS if rows else STEP]
            inputs = [bottom_projection] + self.dense_state(
                bottom_projection, state).tensors()
        if outputs is None:
            outputs = self.state_buffers(bottom_projection)
        return RecurrentState.from_tensors(graph(inputs, outputs))

    def state_buffers(self, like: Tensor) -> List[Tensor]:
        """Uninitialised tensors for a state on ``like`` (maps (N, C, h, w)
        or rows (P, C)), in the order of :meth:`RecurrentState.tensors`."""
        return [
            like.new_empty(like.shape[0], channels, *like.shape[2:])
            for channels in self.state_channels
        ]

    def _recurrence(self, features: Tensor, rows: bool) -> List[Tensor]:
        """The projection (and initial canvas) of ``features``: the
        prologue's or last computed, when they are its features, else from
        the ``project_rows`` graph."""
        known, recurrence = self._known
        if features is not known:
            feature_rows = features if rows else to_rows(features)
            recurrence = self.graphs[PROJECT_ROWS]([feature_rows])
            if not rows:
                recurrence = [
                    rows_as_maps(tensor, features) for tensor in recurrence
                ]
            self.remember(features, recurrence)
        return recurrence


def rows_as_maps(rows: Tensor, like: Tensor) -> Tensor:
    """Rows (N x h x w, C), position by position, as contiguous maps
    (N, C, h, w) of the batch and size of ``like``."""
    return rows.view(like.shape[0], *like.shape[2:],
                     -1).permute(0, 3, 1, 2).contiguous()
