import logging
import threading
from dataclasses import dataclass
from typing import (Callable, ContextManager, Dict, Hashable, List, Optional,
                    Set, Tuple, TypeVar)

import torch
from mmengine.logging import print_log
from torch import Tensor

from mmseg.models import BaseSegmentor
from ..exits.step_loop import EagerSteps, StepRunner
from ..layers.recurrent_state import RecurrentState
from .captured_shapes import FrequentShapes, ShapeRun

Result = TypeVar('Result')


def autocast_state(device: torch.device) -> Tuple[bool, torch.dtype]:
    """Whether autocast is on for ``device``'s type, and its dtype.

    Args:
        device (torch.device): The device whose autocast is meant.

    Returns:
        tuple[bool, torch.dtype]: Enabled, and the dtype it casts to.
    """
    return (torch.is_autocast_enabled(device.type),
            torch.get_autocast_dtype(device.type))


def input_key(inputs: Tensor) -> Hashable:
    """What a captured graph is specific to: the shape, dtype and device of
    ``inputs`` and the autocast state (:func:`autocast_state`).

    Args:
        inputs (Tensor): A batch (N, 3, H, W).

    Returns:
        Hashable: ``(shape, dtype, device, autocast state)``.
    """
    return (tuple(inputs.shape), inputs.dtype, inputs.device,
            autocast_state(inputs.device))


def warm_up_for_capture(run: Callable[[], object],
                        times: int,
                        stream: Optional['torch.cuda.Stream'] = None) -> None:
    """Runs ``run`` ``times`` times on a side stream, as CUDA graph capture
    needs first (lazy initialisation, cuDNN's choice of algorithms).

    Args:
        run (callable): What will be captured.
        times (int): How many runs.
        stream (torch.cuda.Stream, optional): The side stream; None for a
            new one.
    """
    side = stream if stream is not None else torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(times):
            run()
    torch.cuda.current_stream().wait_stream(side)


def capture_graph(
    run: Callable[[], Result],
    pool: Optional[tuple] = None,
    stream: Optional['torch.cuda.Stream'] = None
) -> 'tuple[torch.cuda.CUDAGraph, Result]':
    """The CUDA graph of ``run()`` and what it returned during the capture
    (tensors that each replay overwrites).

    Args:
        run (callable): What to capture.
        pool (tuple, optional): The memory pool to capture into; None for a
            new one.
        stream (torch.cuda.Stream, optional): The stream to capture on;
            None for PyTorch's capture stream.

    Returns:
        tuple: The graph and ``run()``'s result.
    """
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool, stream=stream):
        result = run()
    return graph, result


class CUDAGraphBackend:
    """The CUDA calls of :class:`CUDAGraphSteps`, in one place, so that a
    CPU stand-in can take their place in tests."""

    @staticmethod
    def supports(device: torch.device) -> bool:
        """Whether graphs can run on ``device``."""
        return device.type == 'cuda'

    @staticmethod
    def device(device: torch.device) -> ContextManager:
        """The context that makes ``device`` the current CUDA device."""
        return torch.cuda.device(device)

    @staticmethod
    def stream(device: torch.device) -> 'torch.cuda.Stream':
        """A new stream on ``device``."""
        return torch.cuda.Stream(device)

    @staticmethod
    def pool() -> tuple:
        """A new memory pool for graphs."""
        return torch.cuda.graph_pool_handle()

    warm_up = staticmethod(warm_up_for_capture)
    capture = staticmethod(capture_graph)


@dataclass
class _CapturedSteps:
    """The graphs of one input shape, the static tensors they read and
    write, and the iterator whose canvases those tensors hold now."""
    inputs: Tensor
    features: Tensor
    projection: Optional[Tensor]
    state: RecurrentState
    prologue: 'torch.cuda.CUDAGraph'
    step: 'torch.cuda.CUDAGraph'
    owner: Optional['ReplayedSteps'] = None


class CUDAGraphSteps:
    """Anytime inference of a recurrent segmentor replayed from CUDA graphs.

    For each input shape (with dtype, device and autocast state, see
    :func:`input_key`) two graphs are captured: the prologue (backbone, the
    head's input transform and any context module, the bottom cell's input
    projection, and setting the state tensors to a cold start) and one
    recurrent step (:meth:`ConvLSTMCanvasHead.step` from the state tensors,
    which it updates in place). Because the state starts as tensors instead
    of None, every step is the same graph, so T steps replay it T times.
    Which keys are captured is :class:`~.captured_shapes.FrequentShapes`': a
    key is captured at its ``capture_after``-th use, and the graphs of the
    ``max_shapes`` most used keys are kept (a key evicts the least used
    captured one only when used more often). Until captured, a key runs
    eagerly, paying no capture: inputs of varying sizes (VOC at each
    image's own size) capture their frequent sizes only.

    Warm-up and capture run on the inputs' device (current for the capture,
    with a side stream of that device) and under the caller's autocast
    state with autocast's weight cache off, so that the graphs read the
    weights themselves, not cached casts that autocast frees on exit. A
    capture that fails is logged once and its shape runs eagerly.

    Replaying launches the captured kernels without the Python and launch
    overhead of eager PyTorch. The segmentor must be in eval mode (capture
    is refused in training mode) and its modules must not be replaced;
    weights loaded in place are read by the graphs. The static tensors of a
    shape hold one run: a canvas iterator started later on the same shape
    makes an older one raise at its next step instead of reading the newer
    run's state.

    Args:
        segmentor (BaseSegmentor): A segmentor with a
            :class:`ConvLSTMCanvasHead`, on a CUDA device.
        max_shapes (int): Input shapes whose graphs are kept. Default: 4.
        warmup (int): Eager runs before a capture, as CUDA graph capture
            needs (lazy initialisation, cuDNN algorithm choice). Default: 3.
        capture_after (int): Uses of a shape before it is captured; 1
            captures it at its first use. Default: 2.
    """

    backend = CUDAGraphBackend()
    """The CUDA calls (replaced by a CPU stand-in in tests)."""

    def __init__(self,
                 segmentor: BaseSegmentor,
                 max_shapes: int = 4,
                 warmup: int = 3,
                 capture_after: int = 2) -> None:
        self.shapes = FrequentShapes(max_shapes, capture_after)
        self.segmentor = segmentor
        self.head = segmentor.decode_head
        self.warmup = warmup
        self._captured: Dict[Hashable, _CapturedSteps] = {}
        self._failed: Set[Hashable] = set()
        self._streams: Dict[torch.device, 'torch.cuda.Stream'] = {}
        self._lock = threading.Lock()

    @property
    def captured_keys(self) -> List[Hashable]:
        """The :func:`input_key` of the captured inputs, least recently used
        first."""
        return self.shapes.kept

    def prepare(self, inputs: Tensor) -> bool:
        """Captures the graphs for ``inputs`` if their next use (the next
        :meth:`steps`) is to capture them, so that a timed run does
        not pay for it.

        Args:
            inputs (Tensor): A batch (N, 3, H, W).

        Returns:
            bool: Whether the next use replays graphs (False: it runs
            eagerly).
        """
        with self._lock:
            uses = self.shapes.uses[input_key(inputs)] + 1
            return self._get(inputs, uses) is not None

    def steps(self, inputs: Tensor) -> StepRunner:
        """Counts a use of ``inputs``' key, replays the prologue on
        ``inputs`` now (capturing first when this use is to capture), and
        returns the runner of the steps, whose :meth:`ReplayedSteps.step`
        replays the step graph. Where the key is not captured (yet), or its
        capture failed, the steps run eagerly.

        Args:
            inputs (Tensor): A batch (N, 3, H, W).

        Returns:
            StepRunner: The steps on ``inputs``.
        """
        with self._lock:
            captured = self._get(inputs, self.shapes.use(input_key(inputs)))
            if captured is None:
                return EagerSteps(self.head,
                                  self.segmentor.head_features(inputs))
            runner = ReplayedSteps(self, captured)
            captured.owner = runner
            with self.backend.device(inputs.device):
                captured.inputs.copy_(inputs)
                captured.prologue.replay()
        return runner

    def _get(self, inputs: Tensor, uses: int) -> Optional[_CapturedSteps]:
        """The graphs of ``inputs``' key after ``uses`` uses, captured now
        if :attr:`shapes` says so; None to run eagerly."""
        key = input_key(inputs)
        run = self.shapes.run(key, uses)
        if run is ShapeRun.REPLAY:
            return self._captured[key]
        if run is ShapeRun.EAGER or key in self._failed:
            return None
        captured = self._capture_or_log(inputs)
        if captured is None:
            self._failed.add(key)
            return None
        self._captured.pop(self.shapes.keep(key), None)
        self._captured[key] = captured
        return captured

    def _capture_or_log(self, inputs: Tensor) -> Optional[_CapturedSteps]:
        if self.segmentor.training:
            raise RuntimeError(
                'model.test_cfg.cuda_graph=True captures CUDA graphs in eval '
                'mode only (training-mode layers such as BatchNorm would be '
                'frozen into the graph): call model.eval() first')
        try:
            return self._capture(inputs)
        except RuntimeError as error:
            if not self._failed:
                print_log(
                    'model.test_cfg.cuda_graph=True: capturing the CUDA '
                    f'graphs of inputs {tuple(inputs.shape)} failed '
                    f'({error}), so such inputs run eagerly (same results); '
                    'later failures are not logged',
                    logger='current',
                    level=logging.WARNING)
            return None

    @torch.no_grad()
    def _capture(self, inputs: Tensor) -> _CapturedSteps:
        device = inputs.device
        enabled, dtype = autocast_state(device)
        with self.backend.device(device), torch.autocast(
                device.type, dtype, enabled, cache_enabled=False):
            return self._capture_on_device(inputs, self._stream(device))

    def _capture_on_device(self, inputs: Tensor,
                           stream: 'torch.cuda.Stream') -> _CapturedSteps:
        static_inputs = inputs.clone()
        features = self.segmentor.head_features(static_inputs)
        state = self.head.dense_state(features)
        tensors = state.tensors()

        def prologue() -> tuple:
            features = self.segmentor.head_features(static_inputs)
            for tensor in tensors:
                tensor.zero_()
            cold = self.head.cold_state(features)
            if cold.canvas is not None:  # init_canvas
                state.canvas.copy_(cold.canvas)
            return features, self.head.bottom_projection(features)

        def step(features: Tensor, projection: Optional[Tensor]) -> None:
            new_state = self.head.step(features, projection, state)
            for tensor, new in zip(tensors, new_state.tensors()):
                tensor.copy_(new)

        self.backend.warm_up(lambda: step(*prologue()), self.warmup, stream)
        # One memory pool per shape: its two graphs always replay in the
        # order they were captured, which sharing a pool requires.
        pool = self.backend.pool()
        prologue_graph, (features, projection) = self.backend.capture(
            prologue, pool, stream)
        step_graph, _ = self.backend.capture(
            lambda: step(features, projection), pool, stream)
        return _CapturedSteps(static_inputs, features, projection, state,
                              prologue_graph, step_graph)

    def _stream(self, device: torch.device) -> 'torch.cuda.Stream':
        """The side stream of ``device`` for warm-ups and captures."""
        if device not in self._streams:
            self._streams[device] = self.backend.stream(device)
        return self._streams[device]


class ReplayedSteps(StepRunner):
    """The steps of :meth:`CUDAGraphSteps.steps`: each replays the step
    graph; the canvas of the state it returns is a copy (the next replay
    overwrites the graph's own), its LSTM states are the graph's.

    Args:
        graph_steps (CUDAGraphSteps): Whose lock and backend it uses.
        captured (_CapturedSteps): The graphs and tensors of its key.
    """

    def __init__(self, graph_steps: CUDAGraphSteps,
                 captured: _CapturedSteps) -> None:
        self.graph_steps = graph_steps
        self.captured = captured
        self.batch_size = captured.inputs.shape[0]

    def step(self) -> RecurrentState:
        captured = self.captured
        with self.graph_steps._lock:
            if captured.owner is not self:
                raise RuntimeError(
                    'these steps of CUDAGraphSteps were overtaken: a later '
                    'steps() call on inputs of shape '
                    f'{tuple(captured.inputs.shape)} reuses the static '
                    'tensors of its graphs. Finish one run before starting '
                    'the next on the same shape, or give each thread its '
                    'own CUDAGraphSteps')
            with self.graph_steps.backend.device(captured.inputs.device):
                captured.step.replay()
                return captured.state._replace(
                    canvas=captured.state.canvas.clone())
