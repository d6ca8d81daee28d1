"""The inference engines that run the exported graphs on the CPU: ONNX
Runtime and OpenVINO, behind one call that reads torch tensors and writes
into given output tensors (no copy in or out)."""
import os.path as osp
from typing import List, Optional, Sequence

import torch
from torch import Tensor

from .manifest import GraphSpec

BACKENDS = ('onnxruntime', 'openvino')


class Graph:
    """One exported graph, loaded for a backend.

    Calling it runs the graph on its ``inputs`` (CPU tensors, in the
    graph's input order; made contiguous): with ``outputs`` (contiguous
    CPU tensors of the outputs' shapes and dtypes) the graph writes into
    them, which is how a step reuses the buffers of its state; without,
    new tensors are returned.
    """

    def __init__(self, spec: GraphSpec) -> None:
        self.spec = spec

    def __call__(self,
                 inputs: Sequence[Tensor],
                 outputs: Optional[Sequence[Tensor]] = None) -> List[Tensor]:
        raise NotImplementedError


class OnnxRuntimeGraph(Graph):
    """A graph in an ONNX Runtime session on the CPU, run with IO binding.

    The session runs sequentially with ``threads`` intra-op threads and
    one inter-op thread, every graph optimisation on
    (``ORT_ENABLE_ALL``), so that the work of one call uses the threads
    it is given and nothing else.

    Args:
        path (str): The ONNX file.
        spec (GraphSpec): Its inputs and outputs.
        threads (int): Intra-op threads.
    """

    def __init__(self, path: str, spec: GraphSpec, threads: int) -> None:
        super().__init__(spec)
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        self.session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])

    def __call__(self,
                 inputs: Sequence[Tensor],
                 outputs: Optional[Sequence[Tensor]] = None) -> List[Tensor]:
        binding = self.session.io_binding()
        inputs = [tensor.contiguous() for tensor in inputs]
        for name, tensor in zip(self.spec.inputs, inputs):
            _bind(binding.bind_input, name, tensor)
        for index, name in enumerate(self.spec.outputs):
            if outputs is None:
                binding.bind_output(name, 'cpu')
            else:
                _bind(binding.bind_output, name, outputs[index])
        self.session.run_with_iobinding(binding)
        if outputs is not None:
            return list(outputs)
        return [
            torch.from_numpy(array) for array in binding.copy_outputs_to_cpu()
        ]


def _bind(bind, name: str, tensor: Tensor) -> None:
    """Binds a contiguous CPU tensor's memory to an input or output."""
    bind(name, 'cpu', 0,
         tensor.numpy().dtype.type, tuple(tensor.shape), tensor.data_ptr())


class OpenVINOGraph(Graph):
    """A graph compiled by OpenVINO for its CPU plugin, run in one infer
    request whose input and output tensors share the torch tensors'
    memory.

    The plugin runs one stream of ``threads`` threads for latency, in
    float32 (the plugin's default on CPUs with bfloat16 units is
    bfloat16, whose rounding would drift step after step).

    Args:
        path (str): The OpenVINO IR (``.xml``) or ONNX file.
        spec (GraphSpec): Its inputs and outputs.
        threads (int): Inference threads.
    """

    def __init__(self, path: str, spec: GraphSpec, threads: int) -> None:
        super().__init__(spec)
        import openvino as ov
        self.ov = ov
        compiled = ov.Core().compile_model(
            path, 'CPU', {
                'INFERENCE_NUM_THREADS': threads,
                'NUM_STREAMS': 1,
                'PERFORMANCE_HINT': 'LATENCY',
                'INFERENCE_PRECISION_HINT': 'f32',
            })
        self.request = compiled.create_infer_request()

    def __call__(self,
                 inputs: Sequence[Tensor],
                 outputs: Optional[Sequence[Tensor]] = None) -> List[Tensor]:
        inputs = [tensor.contiguous() for tensor in inputs]
        for index, tensor in enumerate(inputs):
            self.request.set_input_tensor(index, self._shared(tensor))
        if outputs is not None:
            for index, tensor in enumerate(outputs):
                self.request.set_output_tensor(index, self._shared(tensor))
        self.request.infer()
        if outputs is not None:
            return list(outputs)
        return [
            torch.from_numpy(
                self.request.get_output_tensor(index).data.copy())
            for index in range(len(self.spec.outputs))
        ]

    def _shared(self, tensor: Tensor):
        return self.ov.Tensor(tensor.numpy(), shared_memory=True)


def load_graph(work_dir: str, spec: GraphSpec, backend: str,
               threads: int) -> Graph:
    """The graph ``spec`` of ``work_dir`` for ``backend`` (OpenVINO reads
    its IR when exported for it, else the ONNX file)."""
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    check_backend_installed(backend)
    if backend == 'openvino':
        return OpenVINOGraph(
            osp.join(work_dir, spec.ir_file or spec.file), spec, threads)
    return OnnxRuntimeGraph(osp.join(work_dir, spec.file), spec, threads)


def check_backend_installed(backend: str) -> None:
    """Raises ``ImportError`` with the install command when ``backend``'s
    package is missing."""
    try:
        __import__(backend)
    except ImportError as error:
        raise ImportError(
            f'the {backend} backend needs the package {backend}: pip '
            'install -e ".[deploy]" (requirements/deploy.txt)') from error
