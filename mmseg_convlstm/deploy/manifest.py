"""``deploy.json``: what a deployed work dir holds and for which model, read
and checked before any graph loads."""
import json
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

from mmengine.config import Config, ConfigDict

from ..version import __version__

MANIFEST = 'deploy.json'
CONFIG_FILE = 'config.py'
FORMAT = 'mmseg-convlstm-deploy'
FORMAT_VERSION = 1
# Settings that do not change what inference computes from the weights.
RUN_TIME_KEYS = ('test_cfg', 'train_cfg', 'pretrained', 'init_cfg')


@dataclass
class GraphSpec:
    """One exported graph: its files and its inputs and outputs, in order.

    Args:
        file (str): The ONNX file, relative to the work dir.
        inputs (list[str]): Input names.
        outputs (list[str]): Output names.
        ir_file (str, optional): The OpenVINO IR (``.xml``) converted from
            it, when exported for OpenVINO.
    """
    file: str
    inputs: List[str]
    outputs: List[str]
    ir_file: Optional[str] = None


@dataclass
class DeployManifest:
    """The contents of ``deploy.json``.

    Args:
        backend (str): The backend it was exported for.
        model_cfg (dict): The config's ``model``, as plain data, that the
            graphs compute (its run-time keys aside, see
            :func:`model_identity`).
        checkpoint (str, optional): The checkpoint whose weights the graphs
            hold; None for the model's initial weights.
        num_classes (int): Classes of the canvas.
        hidden_channels (list[int]): Channels of the cells, bottom to top.
        kernel_size (int): Kernel size of the cells.
        init_canvas (bool): A cold start starts from an initial canvas.
        state_order (list[str]): Names of a state's tensors, in the order of
            ``RecurrentState.tensors``.
        test_cfg (dict): The config's ``model.test_cfg``.
        graphs (dict[str, GraphSpec]): The graphs, by name.
        position_macs (list[int]): MACs of the head at one feature position
            (projection, first step, later step; see
            :class:`~..utils.complexity.PositionMACs`).
        opset (int): The ONNX opset.
        torch_version (str): The torch that exported the graphs.
        version (str): The mmseg-convlstm that exported the graphs.
        format (str): Always ``'mmseg-convlstm-deploy'``.
        format_version (int): Version of this layout.
    """
    backend: str
    model_cfg: Dict[str, Any]
    checkpoint: Optional[str]
    num_classes: int
    hidden_channels: List[int]
    kernel_size: int
    init_canvas: bool
    state_order: List[str]
    test_cfg: Dict[str, Any]
    graphs: Dict[str, GraphSpec]
    position_macs: List[int]
    opset: int
    torch_version: str
    version: str = __version__
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def save(self, work_dir: str) -> str:
        """Writes ``work_dir/deploy.json``; returns its path."""
        path = osp.join(work_dir, MANIFEST)
        with open(path, 'w') as file:
            json.dump(asdict(self), file, indent=2)
        return path

    @classmethod
    def load(cls, work_dir: str) -> 'DeployManifest':
        """Reads and checks ``work_dir/deploy.json``: its format, its
        version, and that every graph file it names exists.

        Raises:
            FileNotFoundError: The work dir, its ``deploy.json`` or a graph
                is missing (named).
            ValueError: ``deploy.json`` is not one this version reads.
        """
        path = osp.join(work_dir, MANIFEST)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path} does not exist: {work_dir} is not a deployed '
                'model (export one with tools/deploy.py CONFIG CHECKPOINT '
                f'--work-dir {work_dir})')
        with open(path) as file:
            content = json.load(file)
        if (content.get('format') != FORMAT
                or content.get('format_version') != FORMAT_VERSION):
            raise ValueError(
                f"{path} is format {content.get('format')!r} version "
                f"{content.get('format_version')!r}, but mmseg-convlstm "
                f'{__version__} reads {FORMAT!r} version {FORMAT_VERSION}: '
                'export the model again with this version')
        content['graphs'] = {
            name: GraphSpec(**spec)
            for name, spec in content['graphs'].items()
        }
        manifest = cls(**content)
        manifest.check_files(work_dir)
        return manifest

    def check_files(self, work_dir: str) -> None:
        """Raises ``FileNotFoundError`` naming a graph file that
        ``deploy.json`` lists and ``work_dir`` lacks."""
        for name, spec in self.graphs.items():
            for file in (spec.file, spec.ir_file):
                if file is not None and not osp.isfile(
                        osp.join(work_dir, file)):
                    raise FileNotFoundError(
                        f'{osp.join(work_dir, file)} (graph {name!r} of '
                        f'{osp.join(work_dir, MANIFEST)}) does not exist: '
                        'export the model again')

    def check_model(self, model_cfg: ConfigDict, source: str) -> None:
        """Raises ``ValueError`` naming the first key where ``model_cfg``
        (from ``source``) computes another model than the graphs."""
        difference = first_difference(
            model_identity(self.model_cfg), model_identity(model_cfg), 'model')
        if difference is not None:
            raise ValueError(
                f'the deployed model was exported from another model than '
                f'that of {source}: {difference}. Export {source} again '
                'with tools/deploy.py, or use the config it was exported '
                'from')


def plain(value: Any) -> Any:
    """A config value as JSON data (tuples as lists)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def model_identity(model_cfg: Dict[str, Any]) -> Dict[str, Any]:
    """What in a model config decides the computation: all but its
    run-time keys (``test_cfg``, ``train_cfg``, ``pretrained``,
    ``init_cfg``), at every level."""
    if isinstance(model_cfg, dict):
        return {
            key: model_identity(value)
            for key, value in model_cfg.items() if key not in RUN_TIME_KEYS
        }
    if isinstance(model_cfg, (list, tuple)):
        return [model_identity(value) for value in model_cfg]
    return model_cfg


def first_difference(expected: Any, actual: Any, key: str) -> Optional[str]:
    """The first key (dotted from ``key``) where two configs differ, with
    both values; None when they are equal."""
    expected, actual = plain(expected), plain(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        for name in list(expected) + [
                name for name in actual if name not in expected
        ]:
            difference = first_difference(
                expected.get(name), actual.get(name), f'{key}.{name}')
            if difference is not None:
                return difference
        return None
    if expected != actual:
        return f'{key} is {actual!r} there but {expected!r} in the graphs'
    return None


def load_deployed_config(work_dir: str) -> Config:
    """The config saved with the graphs (``work_dir/config.py``)."""
    path = osp.join(work_dir, CONFIG_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist: export the model again')
    return Config.fromfile(path)
