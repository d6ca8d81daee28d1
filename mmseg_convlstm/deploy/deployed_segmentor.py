"""A recurrent model deployed in ONNX Runtime or OpenVINO, with the step
policies of the PyTorch model (fixed steps, time budget, per-image and
per-position exit) chosen from ``test_cfg`` at run time."""
import copy
from typing import Optional, Sequence

import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import OptSampleList, SampleList
from ..models.exits.exit_settings import check_num_steps
from ..models.exits.step_policies import StepPolicy, build_step_policy
from ..models.exits.time_budget import device_time_ms
from ..utils.complexity import PositionMACs, backbone_macs, build_segmentor
from .backends import load_graph
from .deployed_head import DeployedHead
from .deployed_steps import DeployedSteps
from .graph_modules import FINALIZE, PROLOGUE
from .manifest import DeployManifest, load_deployed_config


class DeployedSegmentor:
    """A model exported by ``tools/deploy.py`` (see
    :func:`~.export.export_model`), run by ONNX Runtime or OpenVINO on the
    CPU.

    It predicts as :class:`RecurrentEncoderDecoder` does, from the same
    ``test_cfg`` keys (``num_steps``, ``time_budget_ms``, ``adaptive_exit``,
    ``return_all_steps``), whose policies
    (:func:`~..models.exits.step_policies.build_step_policy`) drive its
    steps through the project's step loop; change :attr:`test_cfg` between
    calls to change them. Its data samples get the same fields
    (``pred_sem_seg``, ``pred_sem_seg_steps``, ``num_steps_used``, ...),
    without ``seg_logits``. For video see
    :class:`~.deployed_video.DeployedVideoInferencer`.

    Images go through the config's data preprocessor (:meth:`test_step`);
    the labels are the canvas upsampled to the network input, so the test
    pipeline must keep the image's size (no ``Resize``, no padding).

    Args:
        work_dir (str): What ``tools/deploy.py`` wrote.
        backend (str, optional): ``'onnxruntime'`` or ``'openvino'``.
            Default: the one exported for.
        threads (int, optional): Intra-op threads of every graph. Default:
            ``torch.get_num_threads()`` (so that PyTorch and the backend
            compare at equal threads; ``OMP_NUM_THREADS`` sets both).
        cfg (Config, optional): A config whose model must be the exported
            one (checked); its ``test_cfg``, data preprocessor, pipelines
            and ``video_cfg`` are used. Default: the config saved with the
            graphs.
        cfg_source (str): What ``cfg`` is, named in errors.
            Default: 'the config'.
    """

    clock = staticmethod(device_time_ms)
    """What times the steps under ``test_cfg.time_budget_ms`` (see
    :class:`RecurrentEncoderDecoder`)."""

    def __init__(self,
                 work_dir: str,
                 backend: Optional[str] = None,
                 threads: Optional[int] = None,
                 cfg: Optional[Config] = None,
                 cfg_source: str = 'the config') -> None:
        self.manifest = DeployManifest.load(work_dir)
        if cfg is None:
            cfg = load_deployed_config(work_dir)
        else:
            self.manifest.check_model(cfg.model, cfg_source)
        self.cfg = cfg
        self.backend = backend or self.manifest.backend
        self.threads = threads or torch.get_num_threads()
        self.graphs = {
            name: load_graph(work_dir, spec, self.backend, self.threads)
            for name, spec in self.manifest.graphs.items()
        }
        self.decode_head = DeployedHead(self.graphs, self.manifest)
        self.data_preprocessor = MODELS.build(
            copy.deepcopy(cfg.model.data_preprocessor))
        self.test_cfg = ConfigDict(cfg.model.get('test_cfg', {}))
        self._warm_shapes = set()
        self._architecture = None
        self._backbone_macs = {}

    @property
    def inference_steps(self) -> int:
        """``test_cfg.num_steps`` (checked), default the head's
        ``num_steps``."""
        if 'num_steps' not in self.test_cfg:
            return self.cfg.model.decode_head.num_steps
        return check_num_steps(self.test_cfg.num_steps,
                               'model.test_cfg.num_steps')

    @property
    def step_policy(self) -> StepPolicy:
        """When the steps stop, as :attr:`test_cfg` chooses."""
        return build_step_policy(self.test_cfg, self.inference_steps)

    def head_features(self, inputs: Tensor) -> Tensor:
        """Runs the prologue on preprocessed ``inputs`` (N, 3, H, W): the
        features, whose projection (and initial canvas) the head keeps for
        the steps on them."""
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError(
                'the deployed model reads preprocessed images (N, 3, H, W), '
                f'got a tensor of shape {tuple(inputs.shape)}')
        features, *recurrence = self.graphs[PROLOGUE]([inputs.float()])
        self.decode_head.remember(features, recurrence)
        return features

    def step_runner(self, inputs: Tensor, graph_steps=None) -> DeployedSteps:
        """The steps on ``inputs``, whose prologue runs now."""
        return DeployedSteps(self.decode_head, self.head_features(inputs))

    def warm_up_untimed(self, inputs: Tensor, graph_steps=None) -> None:
        """Runs the prologue and a step once for the first input of each
        shape, so that a budget's clock does not count what the backend
        does once per shape."""
        if tuple(inputs.shape) not in self._warm_shapes:
            self._warm_shapes.add(tuple(inputs.shape))
            self.step_runner(inputs).step()

    def backbone_macs(self, shape: Sequence[int]) -> int:
        """MACs of what runs once per image at ``shape``, counted (once per
        shape) on the config's model architecture, which the graphs
        compute."""
        shape = tuple(shape)
        if shape not in self._backbone_macs:
            if self._architecture is None:
                self._architecture = build_segmentor(self.cfg.model)
            self._backbone_macs[shape] = backbone_macs(self._architecture,
                                                       shape)
        return self._backbone_macs[shape]

    def position_macs(self) -> PositionMACs:
        """MACs of the head at one feature position, as counted at
        export."""
        return PositionMACs(*self.manifest.position_macs)

    def finalize(self, canvas: Tensor, inputs: Tensor) -> Tensor:
        """Labels (N, H, W) at the size of ``inputs`` (N, 3, H, W) of a
        canvas (N, num_classes, h, w)."""
        return self.graphs[FINALIZE]([canvas, inputs])[0]

    def test_step(self, data: dict) -> SampleList:
        """Preprocesses a batch of the test dataloader and predicts."""
        data = self.data_preprocessor(data, False)
        return self.predict(data['inputs'], data['data_samples'])

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predicts as :meth:`RecurrentEncoderDecoder.predict` does, with
        the steps that :attr:`step_policy` says.

        Args:
            inputs (Tensor): Preprocessed images (N, 3, H, W).
            data_samples (list[SegDataSample], optional): Their data
                samples, whose image sizes must be those of ``inputs``.

        Returns:
            list[SegDataSample]: The data samples with the predictions.
        """
        policy = self.step_policy
        return_all_steps = self.test_cfg.get('return_all_steps', False)
        if return_all_steps and not policy.same_steps_for_all:
            raise ValueError(
                f'model.test_cfg.{policy.key} stops images at different '
                'steps: set model.test_cfg.return_all_steps=False')
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(len(inputs))]
        for sample in data_samples:
            check_same_size(sample.metainfo, inputs.shape[2:])
        run = policy.run(self, inputs, None, return_all_steps)
        step_labels = [
            self.finalize(canvas, inputs).unsqueeze(1)
            for canvas in run.canvases
        ]
        for index, sample in enumerate(data_samples):
            sample.set_data(
                {'pred_sem_seg': PixelData(data=step_labels[-1][index])})
        run.store(data_samples, step_labels, return_all_steps)
        return data_samples


def check_same_size(metainfo: dict, input_shape: Sequence[int]) -> None:
    """Raises ``ValueError`` unless an image's prediction is the network
    input's size: no padding, no resize back to another original size and
    no flip (what the deployed ``finalize`` graph cannot undo)."""
    padding = metainfo.get('img_padding_size', metainfo.get('padding_size'))
    original = metainfo.get('ori_shape')
    resized = original is not None and tuple(
        original[:2]) != tuple(input_shape)
    if any(padding or []) or metainfo.get('flip') or resized:
        raise ValueError(
            'the deployed model gives the labels at the size of the '
            f'network input {tuple(input_shape)}, but this image has '
            f'ori_shape={original}, padding_size={padding}, '
            f"flip={metainfo.get('flip')}: use a test pipeline that keeps "
            'the image size (no Resize, no padding, no flip)')
