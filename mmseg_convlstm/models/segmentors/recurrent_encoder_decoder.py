import logging
from typing import Callable, Dict, Hashable, List, Optional, Set, Tuple

import numpy as np
from mmengine.logging import print_log
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import OptSampleList, SampleList
from ...utils.complexity import PositionMACs, backbone_macs, position_macs
from ..acceleration.cuda_graph_steps import CUDAGraphSteps, input_key
from ..exits.exit_settings import check_num_steps
from ..exits.step_loop import EagerSteps, StepRunner
from ..exits.step_policies import StepPolicy, build_step_policy
from ..exits.time_budget import device_time_ms


@MODELS.register_module()
class RecurrentEncoderDecoder(EncoderDecoder):
    """Encoder-decoder whose prediction can be read after every recurrent
    step of its :class:`ConvLSTMCanvasHead`.

    ``test_cfg.num_steps`` chooses the steps run in inference (default: the
    head's ``num_steps``). With ``test_cfg.return_all_steps=True`` one forward
    pass of T steps also stores ``pred_sem_seg_steps`` in every data sample:
    the labels after steps 1..T as a :class:`PixelData` of shape (T, H, W),
    at the cost of T steps. ``pred_sem_seg`` and ``seg_logits`` stay those of
    the last step. This needs ``test_cfg.mode='whole'``.

    With ``test_cfg.adaptive_exit=dict(min_steps=2, max_steps=10,
    change_fraction=0.01)`` (``max_steps`` defaults to ``test_cfg.num_steps``)
    every image stops stepping once its labels settle (see
    :func:`~..exits.image_exit.run_until_settled`), and its data sample's
    metainfo ``num_steps_used`` says after how many steps. With
    ``adaptive_exit=dict(per_position=True, min_steps=1, settle_steps=2,
    confidence=0.9)`` each feature position stops on its own (see
    :class:`~.step_policies.PositionExit`: its exit steps, their mean and
    the MACs spent go into the data sample). Both need
    ``test_cfg.mode='whole'`` and ``return_all_steps=False``.

    Which of these rules runs is :attr:`step_policy`, chosen from
    ``test_cfg`` by :func:`~.step_policies.build_step_policy`.

    With ``test_cfg.time_budget_ms=B`` inference runs recurrent steps while
    the next one fits in what is left of B milliseconds, at least one and at
    most ``num_steps``; the next step is expected to take as long as the
    last one, timed as it runs with :attr:`clock`. The budget counts the
    backbone, the bottom cell's input projection (before the first step, so
    that the first step's time is that of a step alone) and the steps; it
    does not count what runs before (the data preprocessor) or after
    (upsampling the canvas to the image, the labels, the data samples).
    Nor does it count what the first input of each shape (see
    :func:`~.cuda_graph_steps.input_key`) costs once: before the clock
    starts, such an input is run untimed, capturing its CUDA graphs (at the
    use that captures them) or running one eager backbone pass and step
    (cuDNN's choice of algorithms, lazy initialisation). Every data
    sample's metainfo ``num_steps_used`` says how many ran; the labels are
    those of a run of that many steps. It needs ``mode='whole'`` and cannot
    be combined with ``adaptive_exit``.

    With ``test_cfg.cuda_graph=True`` on a CUDA device the backbone and one
    recurrent step are replayed from CUDA graphs (see
    :class:`CUDAGraphSteps`). An input shape is captured at its
    ``test_cfg.cuda_graph_capture_after``-th use (default 2; until then it
    runs eagerly, with no capture cost), and the
    ``test_cfg.cuda_graph_max_shapes`` (default 4) most used shapes are
    kept captured, so that a stream of varying sizes captures its frequent
    sizes only (see :class:`~.captured_shapes.FrequentShapes`). Elsewhere,
    and with adaptive exit, whose batch shrinks as images stop, it logs
    once that it runs eagerly; the results are the same. The captured
    graphs are dropped when the model is moved or cast (``.to()``,
    ``.half()``: ``_apply``) and by :meth:`train` (so also when training
    resumes after a validation).

    Args:
        **kwargs: Arguments of :class:`EncoderDecoder`.
    """

    clock = staticmethod(device_time_ms)
    """What times the steps under ``test_cfg.time_budget_ms``: a function
    of the device returning milliseconds (replaceable, e.g. in tests)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._cuda_graph_steps: Optional[CUDAGraphSteps] = None
        self._warm_input_keys: Set[Hashable] = set()
        self._eager_messages_logged: Set[str] = set()
        self._backbone_macs: Dict[Tuple[int, ...], int] = {}

    @property
    def inference_steps(self) -> int:
        """Recurrent steps run in inference: ``test_cfg.num_steps``
        (checked), default the head's ``num_steps``."""
        if 'num_steps' not in self.test_cfg:
            return self.decode_head.num_steps
        return check_num_steps(self.test_cfg.num_steps,
                               'model.test_cfg.num_steps')

    def train(self, mode: bool = True) -> 'RecurrentEncoderDecoder':
        """Sets training or eval mode as ``nn.Module.train`` does, and drops
        the captured CUDA graphs (captured in eval mode, they would replay
        eval-mode layers).

        Args:
            mode (bool): Training (True) or eval mode. Default: True.

        Returns:
            RecurrentEncoderDecoder: The model.
        """
        self._cuda_graph_steps = None
        return super().train(mode)

    def _apply(self,
               fn: Callable[[Tensor], Tensor],
               recurse: bool = True) -> 'RecurrentEncoderDecoder':
        """Moves or casts the model's tensors (``.to()``, ``.half()``, ...)
        as ``nn.Module._apply`` does, and drops the captured CUDA graphs,
        which read the old tensors."""
        self._cuda_graph_steps = None
        return super()._apply(fn, recurse)

    @property
    def step_policy(self) -> StepPolicy:
        """When inference stops stepping, as ``test_cfg`` chooses (see
        :func:`~.step_policies.build_step_policy`), its settings checked."""
        return build_step_policy(self.test_cfg, self.inference_steps)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict as :class:`EncoderDecoder` does, running the steps that
        :attr:`step_policy` says (``test_cfg.num_steps``,
        ``time_budget_ms`` or ``adaptive_exit``), with every step's labels
        when ``test_cfg.return_all_steps`` is set, and from CUDA graphs with
        ``test_cfg.cuda_graph``."""
        policy = self.step_policy
        return_all_steps = self.test_cfg.get('return_all_steps', False)
        if return_all_steps and not policy.same_steps_for_all:
            raise ValueError(
                f'model.test_cfg.{policy.key} stops images at different '
                'steps and cannot be combined with return_all_steps=True: '
                'set model.test_cfg.return_all_steps=False')
        graph_steps = self._graph_steps(inputs, policy)
        option = 'return_all_steps' if return_all_steps else policy.key
        if option is None and graph_steps is not None:
            option = 'cuda_graph'
        if option is None:
            return super().predict(inputs, data_samples)
        self._require_whole_mode(option)
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        run = policy.run(self, inputs, graph_steps, return_all_steps)
        step_labels = [
            self._labels(canvas, batch_img_metas, data_samples)
            for canvas in run.canvases[:-1]
        ]
        data_samples = self.postprocess_result(
            self.decode_head.predict_by_feat(run.canvases[-1],
                                             batch_img_metas), data_samples)
        step_labels.append(
            [sample.pred_sem_seg.data for sample in data_samples])
        run.store(data_samples, step_labels, return_all_steps)
        return data_samples

    def backbone_macs(self, shape: Tuple[int, int]) -> int:
        """MACs of :meth:`head_features` (the backbone and any context
        module) on one image of ``shape`` (H, W), counted once per shape by
        MMEngine's counter
        (:func:`~mmseg_convlstm.utils.complexity.backbone_macs`)."""
        shape = tuple(shape)
        if shape not in self._backbone_macs:
            self._backbone_macs[shape] = backbone_macs(self, shape)
        return self._backbone_macs[shape]

    def position_macs(self) -> PositionMACs:
        """MACs of the head at one feature position
        (:func:`~mmseg_convlstm.utils.complexity.position_macs`)."""
        return position_macs(self.decode_head)

    def warm_up_untimed(self, inputs: Tensor,
                        graph_steps: Optional[CUDAGraphSteps]) -> None:
        """Runs what the first input of a shape costs once, so that a
        budget's clock started next does not count it: the capture of its
        graphs when this use captures them, or else (eager run) one eager
        backbone pass and step."""
        if graph_steps is not None and graph_steps.prepare(inputs):
            return
        if input_key(inputs) not in self._warm_input_keys:
            self._warm_input_keys.add(input_key(inputs))
            self.step_runner(inputs, None).step()

    def head_features(self, inputs: Tensor) -> Tensor:
        """What the recurrent steps read (N, C, h, w) of preprocessed
        ``inputs`` (N, 3, H, W): the backbone features, through the head's
        context module when it has one. Everything that runs once per image
        or frame is here; the steps, video and the MAC counters start from
        it."""
        head = self.decode_head
        return head.recurrence_input(
            head._transform_inputs(self.extract_feat(inputs)))

    def step_runner(self, inputs: Tensor,
                    graph_steps: Optional[CUDAGraphSteps]) -> StepRunner:
        """The steps on ``inputs``, whose backbone (and the bottom cell's
        input projection) runs now: replayed from ``graph_steps`` or, when
        None, eager."""
        if graph_steps is not None:
            return graph_steps.steps(inputs)
        return EagerSteps(self.decode_head, self.head_features(inputs))

    def _graph_steps(self, inputs: Tensor,
                     policy: StepPolicy) -> Optional[CUDAGraphSteps]:
        """The CUDA graph runner with ``test_cfg.cuda_graph`` on a CUDA
        device, for a ``policy`` that runs the same steps for the whole
        batch; None otherwise (logged once when asked for elsewhere)."""
        if not self.test_cfg.get('cuda_graph', False):
            return None
        if not policy.same_steps_for_all:
            self._log_eager_once(
                f'model.test_cfg.cuda_graph=True with {policy.key}: the '
                'batch shrinks as images (or positions) stop, so inference '
                'runs eagerly (same results)')
            return None
        if not CUDAGraphSteps.backend.supports(inputs.device):
            self._log_eager_once(
                f'model.test_cfg.cuda_graph=True on {inputs.device.type}: '
                'CUDA graphs need a CUDA device, so inference runs eagerly '
                '(same results)')
            return None
        if self._cuda_graph_steps is None:
            self._cuda_graph_steps = CUDAGraphSteps(
                self,
                max_shapes=self.test_cfg.get('cuda_graph_max_shapes', 4),
                capture_after=self.test_cfg.get('cuda_graph_capture_after', 2))
        return self._cuda_graph_steps

    def _log_eager_once(self, message: str) -> None:
        if message not in self._eager_messages_logged:
            self._eager_messages_logged.add(message)
            print_log(message, logger='current', level=logging.WARNING)

    def _require_whole_mode(self, option: str) -> None:
        if self.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError(
                f"model.test_cfg.{option} needs model.test_cfg.mode="
                f"'whole', got '{self.test_cfg.mode}'")

    @staticmethod
    def _batch_img_metas(inputs: Tensor,
                         data_samples: OptSampleList) -> List[dict]:
        if data_samples is not None:
            return [sample.metainfo for sample in data_samples]
        shape = inputs.shape[2:]
        return [
            dict(
                ori_shape=shape,
                img_shape=shape,
                pad_shape=shape,
                padding_size=[0, 0, 0, 0])
        ] * inputs.shape[0]

    def _labels(self, canvas: Tensor, batch_img_metas: List[dict],
                data_samples: Optional[SampleList]) -> List[Tensor]:
        """Labels (1, H, W) of each image from one step's canvas, post-
        processed (padding, flip, original size) like the final ones."""
        blanks = None if data_samples is None else [
            SegDataSample(metainfo=sample.metainfo) for sample in data_samples
        ]
        logits = self.decode_head.predict_by_feat(canvas, batch_img_metas)
        return [
            sample.pred_sem_seg.data
            for sample in self.postprocess_result(logits, blanks)
        ]


def step_labels_of(sample: SegDataSample) -> np.ndarray:
    """The labels (T, H, W) after every step stored in a prediction."""
    if 'pred_sem_seg_steps' not in sample:
        raise KeyError('the prediction has no pred_sem_seg_steps: run the '
                       'model with model.test_cfg.return_all_steps=True')
    return sample.pred_sem_seg_steps.data.cpu().numpy()
