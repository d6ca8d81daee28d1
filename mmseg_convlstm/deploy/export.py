"""Exports a recurrent model as a few small ONNX graphs with the state
explicit (see :mod:`.graph_modules`), with torch's exporter
(``torch.onnx.export(..., dynamo=True)``), and writes ``deploy.json``."""
import copy
import os
import os.path as osp
from dataclasses import asdict
from typing import Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from torch import Tensor, nn
from torch.export import Dim

from mmseg.apis import init_model
from ..engine.checkpoint_fit import check_checkpoint_fits
from ..models.exits.position_exit import to_rows
from ..utils.complexity import position_macs
from .backends import BACKENDS
from .graph_modules import (FINALIZE, PROJECT_ROWS, PROLOGUE, STEP, STEP_COLD,
                            STEP_ROWS, FinalizeGraph, ProjectRowsGraph,
                            PrologueGraph, StepGraph, next_names,
                            recurrence_output_names, state_names)
from .manifest import CONFIG_FILE, DeployManifest, GraphSpec, plain

MAPS = {0: Dim.DYNAMIC, 2: Dim.DYNAMIC, 3: Dim.DYNAMIC}
ROWS = {0: Dim.DYNAMIC}


def load_checked_model(cfg: Config,
                       checkpoint: str,
                       allow_partial: bool = False) -> nn.Module:
    """The config's model on the CPU with the weights of ``checkpoint``,
    refused unless they fit it (see
    :func:`~..engine.checkpoint_fit.check_checkpoint_fits`)."""
    model = init_model(cfg, None, 'cpu')
    check_checkpoint_fits(model, checkpoint, allow_partial)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='current')
    return model


def deployable_copy(model: nn.Module) -> nn.Module:
    """A copy of a recurrent segmentor to export: on the CPU, in eval mode,
    SyncBN converted to BN, the bottom cell's input projection cached (the
    prologue computes it; the result is the same) and the reference step
    (``torch.compile`` does not export)."""
    model = revert_sync_batchnorm(copy.deepcopy(model)).cpu().eval()
    model.decode_head.cache_input_projection = True
    model.decode_head.fused_step = False
    return model


def export_model(model: nn.Module,
                 cfg: Config,
                 work_dir: str,
                 backend: str = 'onnxruntime',
                 shape: Tuple[int, int] = (64, 96),
                 checkpoint: Optional[str] = None) -> DeployManifest:
    """Exports the graphs of a :class:`RecurrentEncoderDecoder` into
    ``work_dir``, with its config (``config.py``) and ``deploy.json``.

    Every graph takes a dynamic batch (or number of rows) and spatial size;
    ``shape`` is only that of the sample image traced.

    Args:
        model (RecurrentEncoderDecoder): The model, weights loaded.
        cfg (Config): Its config (saved with the graphs).
        work_dir (str): Where to write.
        backend (str): ``'onnxruntime'`` (ONNX files) or ``'openvino'``
            (also converted to OpenVINO IR, float32).
        shape (tuple[int, int]): Size (H, W) of the sample image, at least
            two feature positions each way. Default: (64, 96).
        checkpoint (str, optional): The checkpoint loaded, recorded.

    Returns:
        DeployManifest: What ``deploy.json`` says.
    """
    if backend not in BACKENDS:
        raise ValueError(f'--backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    model = deployable_copy(model)
    os.makedirs(work_dir, exist_ok=True)
    graphs = {}
    exports = graph_exports(model, sample_image(model, shape))
    progress = ProgressBar(len(exports))
    for name, module, args, dynamic_shapes, spec in exports:
        export_graph(module, args, dynamic_shapes, spec, work_dir, name,
                     backend)
        graphs[name] = spec
        progress.update()
    cfg.dump(osp.join(work_dir, CONFIG_FILE))
    head = model.decode_head
    manifest = DeployManifest(
        backend=backend,
        model_cfg=plain(cfg.model.to_dict()),
        checkpoint=checkpoint,
        num_classes=head.out_channels,
        hidden_channels=[cell.hidden_channels for cell in head.cells],
        kernel_size=head.kernel_size,
        init_canvas=head.canvas_classifier is not None,
        state_order=state_names(len(head.cells)),
        test_cfg=plain(cfg.model.get('test_cfg', {})),
        graphs=graphs,
        position_macs=list(asdict(position_macs(head)).values()),
        opset=graph_opset(osp.join(work_dir, graphs[STEP].file)),
        torch_version=torch.__version__)
    manifest.save(work_dir)
    return manifest


def sample_image(model: nn.Module, shape: Tuple[int, int]) -> Tensor:
    """A batch of two random images of ``shape``, checked to give at least
    two feature positions each way (a size of 1 would be traced as a
    constant)."""
    image = torch.randn(2, 3, *shape)
    with torch.no_grad():
        features = model.head_features(image)
    if min(features.shape[2:]) < 2:
        raise ValueError(
            f'the sample image {tuple(shape)} gives features of '
            f'{tuple(features.shape[2:])}: export with a larger --shape, '
            'of at least two feature positions each way')
    return image


def graph_exports(model: nn.Module, image: Tensor) -> list:
    """Every graph to export: (name, module, sample arguments, dynamic
    shapes, spec)."""
    head = model.decode_head
    with torch.no_grad():
        features, projection, *canvas = PrologueGraph(model)(image)
        state = head.dense_state(features).tensors()
    names = state_names(len(head.cells))
    outputs = next_names(names)
    recurrence = recurrence_output_names(bool(canvas))
    cold_inputs = ['projection'] + names[-1:] * len(canvas)
    row_state = tuple(to_rows(tensor) for tensor in state)
    return [
        (PROLOGUE, PrologueGraph(model), (image, ), (MAPS, ),
         _spec(PROLOGUE, ['image'], ['features'] + recurrence)),
        (PROJECT_ROWS, ProjectRowsGraph(head), (to_rows(features), ), (ROWS, ),
         _spec(PROJECT_ROWS, ['features'], recurrence)),
        (STEP, StepGraph(head), (projection, tuple(state)),
         (MAPS, (MAPS, ) * len(state)),
         _spec(STEP, ['projection'] + names, outputs)),
        (STEP_COLD, StepGraph(head, cold=True), (projection, tuple(canvas)),
         (MAPS, (MAPS, ) * len(canvas)), _spec(STEP_COLD, cold_inputs,
                                               outputs)),
        (STEP_ROWS, StepGraph(head, rows=True),
         (to_rows(projection), row_state), (ROWS, (ROWS, ) * len(state)),
         _spec(STEP_ROWS, ['projection'] + names, outputs)),
        (FINALIZE, FinalizeGraph(head), (state[-1], image), (MAPS, MAPS),
         _spec(FINALIZE, ['canvas', 'image'], ['labels'])),
    ]


def _spec(name: str, inputs: Sequence[str],
          outputs: Sequence[str]) -> GraphSpec:
    return GraphSpec(f'{name}.onnx', list(inputs), list(outputs))


def export_graph(module: nn.Module, args: tuple, dynamic_shapes: tuple,
                 spec: GraphSpec, work_dir: str, name: str,
                 backend: str) -> None:
    """Exports one graph to ``work_dir/spec.file`` with torch's ONNX
    exporter, its weights in the file; for OpenVINO also converts it to IR
    (float32), recorded in ``spec.ir_file``."""
    path = osp.join(work_dir, spec.file)
    torch.onnx.export(
        module.eval(),
        args,
        path,
        dynamo=True,
        input_names=spec.inputs,
        output_names=spec.outputs,
        dynamic_shapes=dynamic_shapes,
        external_data=False,
        verbose=False)
    if backend == 'openvino':
        import openvino as ov
        spec.ir_file = f'{name}.xml'
        ov.save_model(
            ov.convert_model(path),
            osp.join(work_dir, spec.ir_file),
            compress_to_fp16=False)


def graph_opset(path: str) -> int:
    """The default-domain opset of an ONNX file."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return next(
        entry.version for entry in model.opset_import
        if entry.domain in ('', 'ai.onnx'))
