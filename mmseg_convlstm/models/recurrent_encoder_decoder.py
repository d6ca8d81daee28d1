import logging
from typing import Callable, Hashable, Iterator, List, Optional, Set, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import OptSampleList, SampleList
from .cuda_graph_steps import CUDAGraphSteps, input_key
from .time_budget import (TimeBudget, check_num_steps, check_time_budget,
                          device_time_ms, take_steps)


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
    :meth:`ConvLSTMCanvasHead.run_until_settled`), and its data sample's
    metainfo ``num_steps_used`` says after how many steps. This needs
    ``test_cfg.mode='whole'`` and ``return_all_steps=False``.

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
    starts, such an input is run untimed, capturing its CUDA graphs or
    running one eager backbone pass and step (cuDNN's choice of algorithms,
    lazy initialisation). Every data sample's metainfo ``num_steps_used``
    says how many ran; the labels are those of a run of that many steps. It
    needs ``mode='whole'`` and cannot be combined with ``adaptive_exit``.

    With ``test_cfg.cuda_graph=True`` on a CUDA device the backbone and one
    recurrent step are replayed from CUDA graphs (see
    :class:`CUDAGraphSteps`; ``test_cfg.cuda_graph_max_shapes``, default 4,
    input shapes are kept captured). Elsewhere, and with adaptive exit,
    whose batch shrinks as images stop, it logs once that it runs eagerly;
    the results are the same. The captured graphs are dropped when the
    model is moved or cast (``.to()``, ``.half()``: ``_apply``) and by
    :meth:`train` (so also when training resumes after a validation).

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

    def _apply(self, fn: Callable[[Tensor], Tensor],
               recurse: bool = True) -> 'RecurrentEncoderDecoder':
        """Moves or casts the model's tensors (``.to()``, ``.half()``, ...)
        as ``nn.Module._apply`` does, and drops the captured CUDA graphs,
        which read the old tensors."""
        self._cuda_graph_steps = None
        return super()._apply(fn, recurse)

    @property
    def time_budget_ms(self) -> Optional[float]:
        """``test_cfg.time_budget_ms``, checked; None when not set."""
        budget = self.test_cfg.get('time_budget_ms')
        if budget is None:
            return None
        if self.test_cfg.get('adaptive_exit') is not None:
            raise ValueError(
                'model.test_cfg.time_budget_ms and model.test_cfg.'
                'adaptive_exit both choose when to stop stepping: set only '
                'one of them')
        return check_time_budget(budget, 'model.test_cfg.time_budget_ms')

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict as :class:`EncoderDecoder` does, with every step's labels
        when ``test_cfg.return_all_steps`` is set, stopping every image when
        its labels settle with ``test_cfg.adaptive_exit``, within
        ``test_cfg.time_budget_ms``, and from CUDA graphs with
        ``test_cfg.cuda_graph``."""
        budget_ms = self.time_budget_ms
        num_steps = self.inference_steps
        if self.test_cfg.get('adaptive_exit') is not None:
            return self._predict_adaptive(inputs, data_samples, num_steps)
        graph_steps = self._graph_steps(inputs)
        return_all_steps = self.test_cfg.get('return_all_steps', False)
        if not return_all_steps and budget_ms is None and graph_steps is None:
            return super().predict(inputs, data_samples)
        self._require_whole_mode('return_all_steps' if return_all_steps else
                                 'time_budget_ms' if budget_ms is not None
                                 else 'cuda_graph')
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        canvases, steps_used = self._anytime_canvases(inputs, graph_steps,
                                                      num_steps,
                                                      return_all_steps,
                                                      budget_ms)
        step_labels = [
            self._labels(canvas, batch_img_metas, data_samples)
            for canvas in canvases[:-1]
        ]
        data_samples = self.postprocess_result(
            self.decode_head.predict_by_feat(canvases[-1], batch_img_metas),
            data_samples)
        step_labels.append(
            [sample.pred_sem_seg.data for sample in data_samples])
        for index, sample in enumerate(data_samples):
            if return_all_steps:
                sample.set_data({
                    'pred_sem_seg_steps':
                    PixelData(data=torch.cat([labels[index]
                                              for labels in step_labels]))
                })
            if budget_ms is not None:
                sample.set_metainfo(dict(num_steps_used=steps_used))
        return data_samples

    def _anytime_canvases(self, inputs: Tensor,
                          graph_steps: Optional[CUDAGraphSteps],
                          num_steps: int, keep_all: bool,
                          budget_ms: Optional[float]
                          ) -> Tuple[List[Tensor], int]:
        """The canvases of the steps run (every step's if ``keep_all``, else
        the last one's) and how many ran: ``num_steps``, or fewer when the
        next step would not fit in ``budget_ms``."""
        budget = None
        if budget_ms is not None:
            self._warm_up_untimed(inputs, graph_steps)
            budget = TimeBudget(budget_ms, inputs.device, self.clock)
        canvases = self._iter_canvases(inputs, graph_steps)
        return take_steps(canvases, num_steps, budget, keep_all)

    def _warm_up_untimed(self, inputs: Tensor,
                         graph_steps: Optional[CUDAGraphSteps]) -> None:
        """Runs what the first input of a shape costs once, so that a
        budget's clock started next does not count it: the capture of its
        graphs, or one eager backbone pass and step."""
        if graph_steps is not None:
            graph_steps.prepare(inputs)
        elif input_key(inputs) not in self._warm_input_keys:
            self._warm_input_keys.add(input_key(inputs))
            next(self._iter_canvases(inputs, None))

    def _iter_canvases(self, inputs: Tensor,
                       graph_steps: Optional[CUDAGraphSteps]
                       ) -> Iterator[Tensor]:
        if graph_steps is not None:
            return graph_steps.iter_canvases(inputs)
        return self.decode_head.iter_canvases(
            self.decode_head._transform_inputs(self.extract_feat(inputs)))

    def _graph_steps(self, inputs: Tensor) -> Optional[CUDAGraphSteps]:
        """The CUDA graph runner with ``test_cfg.cuda_graph`` on a CUDA
        device; None otherwise (logged once when asked for elsewhere)."""
        if not self.test_cfg.get('cuda_graph', False):
            return None
        if not CUDAGraphSteps.backend.supports(inputs.device):
            self._log_eager_once(
                f'model.test_cfg.cuda_graph=True on {inputs.device.type}: '
                'CUDA graphs need a CUDA device, so inference runs eagerly '
                '(same results)')
            return None
        if self._cuda_graph_steps is None:
            self._cuda_graph_steps = CUDAGraphSteps(
                self, self.test_cfg.get('cuda_graph_max_shapes', 4))
        return self._cuda_graph_steps

    def _log_eager_once(self, message: str) -> None:
        if message not in self._eager_messages_logged:
            self._eager_messages_logged.add(message)
            print_log(message, logger='current', level=logging.WARNING)

    def _predict_adaptive(self, inputs: Tensor, data_samples: OptSampleList,
                          num_steps: int) -> SampleList:
        exit_cfg = {'max_steps': num_steps,
                    **self.test_cfg.adaptive_exit}
        unknown = set(exit_cfg) - {'max_steps', 'min_steps', 'change_fraction'}
        if unknown:
            raise ValueError(
                'model.test_cfg.adaptive_exit has unknown keys '
                f'{sorted(unknown)}; it takes min_steps, max_steps and '
                'change_fraction')
        if self.test_cfg.get('return_all_steps', False):
            raise ValueError(
                'model.test_cfg.adaptive_exit stops images at different steps '
                'and cannot be combined with return_all_steps=True: set '
                'model.test_cfg.return_all_steps=False')
        self._require_whole_mode('adaptive_exit')
        if self.test_cfg.get('cuda_graph', False):
            self._log_eager_once(
                'model.test_cfg.cuda_graph=True with adaptive_exit: the batch '
                'shrinks as images stop, so inference runs eagerly (same '
                'results)')
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        canvas, steps_used = self.decode_head.forward_until_settled(
            self.extract_feat(inputs), **exit_cfg)
        data_samples = self.postprocess_result(
            self.decode_head.predict_by_feat(canvas, batch_img_metas),
            data_samples)
        for sample, steps in zip(data_samples, steps_used.tolist()):
            sample.set_metainfo(dict(num_steps_used=steps))
        return data_samples

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
