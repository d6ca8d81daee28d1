from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable, Iterator, List, Optional, TypeVar

import torch
from torch import Tensor

from mmseg.models import BaseSegmentor
from .convlstm_canvas_head import RecurrentState

Result = TypeVar('Result')


@dataclass
class _CapturedSteps:
    """The graphs of one input shape and the static tensors they read and
    write."""
    inputs: Tensor
    features: Tensor
    projection: Optional[Tensor]
    state: RecurrentState
    prologue: 'torch.cuda.CUDAGraph'
    step: 'torch.cuda.CUDAGraph'


class CUDAGraphSteps:
    """Anytime inference of a recurrent segmentor replayed from CUDA graphs.

    For each input shape (and dtype and device) two graphs are captured:
    the prologue (backbone, the head's input transform, the bottom cell's
    input projection, and zeroing the recurrent state) and one recurrent step
    (:meth:`ConvLSTMCanvasHead.dense_step`, which updates the state tensors
    in place). Because the state starts as zero tensors instead of None,
    every step is the same graph, so T steps replay it T times. The graphs of
    the ``max_shapes`` shapes used most recently are kept; a new shape is
    captured, evicting the least recently used one.

    Replaying launches the captured kernels without the Python and launch
    overhead of eager PyTorch. The segmentor must be in eval mode and stay
    unchanged (weights are read in place, so loading new weights is fine;
    replacing modules is not).

    Args:
        segmentor (BaseSegmentor): A segmentor with a
            :class:`ConvLSTMCanvasHead`, on a CUDA device.
        max_shapes (int): Input shapes whose graphs are kept. Default: 4.
        warmup (int): Eager runs before a capture, as CUDA graph capture
            needs (lazy initialisation, cuDNN algorithm choice). Default: 3.
    """

    def __init__(self,
                 segmentor: BaseSegmentor,
                 max_shapes: int = 4,
                 warmup: int = 3) -> None:
        if max_shapes < 1:
            raise ValueError(
                'model.test_cfg.cuda_graph_max_shapes must be at least 1, '
                f'got {max_shapes}')
        self.segmentor = segmentor
        self.head = segmentor.decode_head
        self.max_shapes = max_shapes
        self.warmup = warmup
        self._captured: 'OrderedDict[Hashable, _CapturedSteps]' = \
            OrderedDict()

    @property
    def captured_keys(self) -> List[Hashable]:
        """The (shape, dtype, device) of the captured inputs, least recently
        used first."""
        return list(self._captured)

    def iter_canvases(self, inputs: Tensor) -> Iterator[Tensor]:
        """Replays the prologue on ``inputs`` (N, 3, H, W) now (capturing
        first for a new shape), and returns the canvas (N, num_classes, h,
        w) after each recurrent step, endlessly: each step graph replays
        when the next canvas is asked for. Each canvas is a copy, since the
        graph overwrites its own."""
        captured = self._get(inputs)
        captured.inputs.copy_(inputs)
        captured.prologue.replay()
        return _replay_steps(captured)

    def _get(self, inputs: Tensor) -> _CapturedSteps:
        key = (tuple(inputs.shape), inputs.dtype, inputs.device)
        if key in self._captured:
            self._captured.move_to_end(key)
        else:
            if len(self._captured) == self.max_shapes:
                self._captured.popitem(last=False)
            self._captured[key] = self._capture(inputs)
        return self._captured[key]

    @torch.no_grad()
    def _capture(self, inputs: Tensor) -> _CapturedSteps:
        static_inputs = inputs.clone()
        features = self._features(static_inputs)
        state = self.head.dense_state(features)
        tensors = _state_tensors(state)

        def prologue() -> tuple:
            features = self._features(static_inputs)
            for tensor in tensors:
                tensor.zero_()
            return features, self.head.bottom_projection(features)

        def step(features: Tensor, projection: Optional[Tensor]) -> None:
            new_state = self.head.dense_step(features, projection, state)
            for tensor, new in zip(tensors, _state_tensors(new_state)):
                tensor.copy_(new)

        warm_up_for_capture(lambda: step(*prologue()), self.warmup)
        # One memory pool per shape: its two graphs always replay in the
        # order they were captured, which sharing a pool requires.
        pool = torch.cuda.graph_pool_handle()
        prologue_graph, (features, projection) = capture_graph(prologue, pool)
        step_graph, _ = capture_graph(lambda: step(features, projection),
                                      pool)
        return _CapturedSteps(static_inputs, features, projection, state,
                              prologue_graph, step_graph)

    def _features(self, inputs: Tensor) -> Tensor:
        return self.head._transform_inputs(self.segmentor.extract_feat(inputs))


def warm_up_for_capture(run: Callable[[], object], times: int) -> None:
    """Runs ``run`` ``times`` times on a side stream, as CUDA graph capture
    needs first (lazy initialisation, cuDNN's choice of algorithms)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(times):
            run()
    torch.cuda.current_stream().wait_stream(side)


def capture_graph(run: Callable[[], Result],
                  pool: Optional[tuple] = None
                  ) -> 'tuple[torch.cuda.CUDAGraph, Result]':
    """The CUDA graph of ``run()`` and what it returned during the capture
    (tensors that each replay overwrites)."""
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool):
        result = run()
    return graph, result


def _replay_steps(captured: _CapturedSteps) -> Iterator[Tensor]:
    while True:
        captured.step.replay()
        yield captured.state.canvas.clone()


def _state_tensors(state: RecurrentState) -> List[Tensor]:
    return [tensor for cell in state.lstm for tensor in cell] + [state.canvas]
