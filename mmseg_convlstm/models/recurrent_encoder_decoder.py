from typing import List, Optional

import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import OptSampleList, SampleList


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

    Args:
        **kwargs: Arguments of :class:`EncoderDecoder`.
    """

    @property
    def inference_steps(self) -> int:
        """Recurrent steps run in inference."""
        return self.test_cfg.get('num_steps', self.decode_head.num_steps)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict as :class:`EncoderDecoder` does, with every step's labels
        when ``test_cfg.return_all_steps`` is set, or stopping every image
        when its labels settle with ``test_cfg.adaptive_exit``."""
        if self.test_cfg.get('adaptive_exit') is not None:
            return self._predict_adaptive(inputs, data_samples)
        if not self.test_cfg.get('return_all_steps', False):
            return super().predict(inputs, data_samples)
        self._require_whole_mode('return_all_steps')
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        canvases = self.decode_head.forward_steps(
            self.extract_feat(inputs), self.inference_steps)
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
            sample.set_data({
                'pred_sem_seg_steps':
                PixelData(data=torch.cat([labels[index]
                                          for labels in step_labels]))
            })
        return data_samples

    def _predict_adaptive(self, inputs: Tensor,
                          data_samples: OptSampleList) -> SampleList:
        exit_cfg = {'max_steps': self.inference_steps,
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
