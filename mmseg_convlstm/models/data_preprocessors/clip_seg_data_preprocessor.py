from typing import Any, Dict

from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class ClipSegDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` that also takes clips: ``inputs`` of
    shape (F, 3, H, W) each, as :class:`PackClipSegInputs` packs them.

    In training, every frame is converted, normalised and padded as a
    single image is;
    a batch of N clips becomes inputs of shape (N, F, 3, H, W), and each
    clip's data sample (with its ``gt_sem_seg`` of every labelled frame) is
    padded like its frames. Single images (3, H, W) go through
    :class:`SegDataPreProcessor` unchanged, so the same model validates and
    tests on still images.

    Args:
        **kwargs: Arguments of :class:`SegDataPreProcessor`.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Preprocesses a batch of images or of clips."""
        clips = data['inputs']
        if clips[0].ndim != 4:
            return super().forward(data, training)
        num_frames = clips[0].shape[0]
        if any(clip.shape[0] != num_frames for clip in clips):
            raise ValueError(
                'the clips of a batch must have one number of frames, got '
                f'{[clip.shape[0] for clip in clips]}')
        if not training:
            raise ValueError(
                'ClipSegDataPreProcessor takes clips in training only; '
                'evaluate clips with tools/test_video.py (its '
                'video_test_dataloader) and still images with the '
                'val/test dataloaders')
        # stack_batch pads the labels of each entry: the clip's own sample
        # goes with its last frame, throw-away copies with the others.
        frame_samples = [
            sample if index == num_frames - 1 else sample.clone()
            for sample in data['data_samples'] for index in range(num_frames)
        ]
        result = super().forward(
            dict(
                inputs=[frame for clip in clips for frame in clip],
                data_samples=frame_samples), training)
        inputs = result['inputs']
        return dict(
            inputs=inputs.reshape(len(clips), num_frames, *inputs.shape[1:]),
            data_samples=result['data_samples'][num_frames - 1::num_frames])
