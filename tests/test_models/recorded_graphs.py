"""A CPU stand-in for the CUDA calls of CUDAGraphSteps that replays what it
recorded, as a CUDA graph does.

Capturing records every ATen operation that ``run()`` dispatches, with the
very tensors it read and wrote. Replaying calls those operations again on
the recorded tensors and writes each result into the recorded output
tensor: no Python of the model runs, the same output tensors are
overwritten in place, and whatever the capture read (static inputs,
weights, autocast's cached casts) is read again from the same tensors, so
aliasing, stale tensors and cached casts show as they would on a GPU. As a
CUDA graph capture does, capturing refuses operations that wait for the
device (``.item()``).
"""
import contextlib
from typing import Any, Callable, ContextManager, List, Optional, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

Operation = Tuple[Any, tuple, dict, Any]
ReplayedOp = Callable[[Any, tuple], None]

SYNCHRONISING = {torch.ops.aten._local_scalar_dense.default}


def _tensors(value: Any) -> List[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in _tensors(item)]
    return []


class _Recorder(TorchDispatchMode):
    """Runs and records every ATen operation dispatched while active."""

    def __init__(self) -> None:
        super().__init__()
        self.operations: List[Operation] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in SYNCHRONISING:
            raise RuntimeError(f'{func} synchronises: not capturable')
        outputs = func(*args, **kwargs)
        self.operations.append((func, args, kwargs, outputs))
        return outputs


class RecordedGraph:
    """The operations of one capture, replayed on the recorded tensors.

    Args:
        operations (list): The recorded ``(func, args, kwargs, outputs)``.
        on_replayed_op (callable, optional): Called with ``(func, args)`` of
            every operation replayed (e.g. by a test clock).
    """

    def __init__(self, operations: List[Operation],
                 on_replayed_op: Optional[ReplayedOp]) -> None:
        self.operations = operations
        self.on_replayed_op = on_replayed_op
        self.replays = 0

    def replay(self) -> None:
        """Runs the recorded operations again, results into the recorded
        outputs (views and in-place results already are), as recorded:
        without autograd, and without a caller's autocast casting again."""
        self.replays += 1
        with torch.no_grad(), torch.autocast('cpu', enabled=False):
            self._run()

    def _run(self) -> None:
        for func, args, kwargs, outputs in self.operations:
            fresh = func(*args, **kwargs)
            returns = func._schema.returns
            if len(returns) == 1:
                outputs, fresh = (outputs, ), (fresh, )
            for schema, static, new in zip(returns, outputs, fresh):
                if schema.alias_info is None:
                    for tensor, value in zip(_tensors(static), _tensors(new)):
                        tensor.copy_(value)
            if self.on_replayed_op is not None:
                self.on_replayed_op(func, args)


class RecordingGraphBackend:
    """Stands in for :class:`CUDAGraphBackend` on the CPU: graphs are
    :class:`RecordedGraph`; there are no streams, pools or devices to set.

    Args:
        on_replayed_op (callable, optional): Given to every graph.
        capture_error (str, optional): Make every capture fail with a
            RuntimeError of this message.
    """

    def __init__(self,
                 on_replayed_op: Optional[ReplayedOp] = None,
                 capture_error: Optional[str] = None) -> None:
        self.on_replayed_op = on_replayed_op
        self.capture_error = capture_error
        self.graphs: List[RecordedGraph] = []
        self.warm_up_runs = 0

    @staticmethod
    def supports(device: torch.device) -> bool:
        return True

    @staticmethod
    def device(device: torch.device) -> ContextManager:
        return contextlib.nullcontext()

    @staticmethod
    def stream(device: torch.device) -> None:
        return None

    @staticmethod
    def pool() -> None:
        return None

    def warm_up(self, run: Callable[[], object], times: int,
                stream: None = None) -> None:
        for _ in range(times):
            run()
            self.warm_up_runs += 1

    def capture(self,
                run: Callable[[], Any],
                pool: None = None,
                stream: None = None) -> Tuple[RecordedGraph, Any]:
        if self.capture_error is not None:
            raise RuntimeError(self.capture_error)
        recorder = _Recorder()
        with recorder:
            result = run()
        graph = RecordedGraph(recorder.operations, self.on_replayed_op)
        self.graphs.append(graph)
        return graph, result
