from typing import List, Optional

from mmseg.registry import DATASETS
from .camvid_dataset import CamVidDataset, camvid_frame


@DATASETS.register_module()
class CamVidSequenceDataset(CamVidDataset):
    """CamVid's labelled frames, each with the frames before it in its
    sequence, for :class:`LoadStackedClip` and the video benchmark.

    Every frame of a CamVid split is labelled and the split's frames of one
    sequence are its video in time (the val split is one 15 fps clip of
    ``0016E5``). Each sample gets ``clip_paths``: the ``context_frames``
    frames of the split before it in its sequence and the frame itself,
    oldest first (frame order of :func:`camvid_frame`), and
    ``clip_seg_map_paths``, their labels (for :class:`LoadClipAnnotations`).
    The first ``context_frames`` frames of a sequence have too few frames
    before them and are left out, so that every setting of a benchmark is
    measured on the same frames.

    The train split's frames are 29 to 31 frames (about 1 s) apart, with
    two jumps in ``0016E5`` (270 and 1950 frames): with ``max_frame_gap`` a
    clip holds only frames at most that many frame numbers apart, so a
    larger jump splits a sequence into runs as a sequence boundary does, and
    each run's first ``context_frames`` frames are left out. With
    :class:`LoadClipAnnotations` every frame of a clip has its labels: the
    real-video clips that :class:`ClipRecurrentEncoderDecoder` trains on
    (``max_frame_gap=40`` on the train split).

    Args:
        context_frames (int): Number K of frames before each sample.
            Default: 4.
        max_frame_gap (int, optional): Largest difference of frame numbers
            between consecutive frames of a clip. Default: None (any).
        **kwargs: Arguments of :class:`CamVidDataset`.

    Raises:
        ValueError: When ``max_frame_gap`` is below 1, or when the split has
            frames but none has ``context_frames`` frames before it,
            naming both.
    """

    def __init__(self,
                 context_frames: int = 4,
                 max_frame_gap: Optional[int] = None,
                 **kwargs) -> None:
        if context_frames < 0:
            raise ValueError('context_frames must be at least 0, got '
                             f'{context_frames}')
        if max_frame_gap is not None and max_frame_gap < 1:
            raise ValueError('max_frame_gap must be at least 1 or None, got '
                             f'{max_frame_gap}')
        self.context_frames = context_frames
        self.max_frame_gap = max_frame_gap
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """The frames with ``context_frames`` frames before them in their
        sequence (and run)."""
        runs: List[List[dict]] = []
        previous = None
        for data_info in super().load_data_list():  # in frame order
            sequence, frame = camvid_frame(data_info['img_path'])
            if (previous is None or previous[0] != sequence
                    or (self.max_frame_gap is not None
                        and frame - previous[1] > self.max_frame_gap)):
                runs.append([])
            runs[-1].append(data_info)
            previous = sequence, frame
        data_list = []
        for frames in runs:
            for index in range(self.context_frames, len(frames)):
                clip = frames[index - self.context_frames:index + 1]
                data_info = frames[index]
                data_info['clip_paths'] = [info['img_path'] for info in clip]
                data_info['clip_seg_map_paths'] = [
                    info['seg_map_path'] for info in clip
                ]
                data_list.append(data_info)
        if runs and not data_list:
            raise ValueError(
                f'no frame of {self.data_prefix["img_path"]} has '
                f'context_frames={self.context_frames} frames before it in '
                f'its sequence' +
                ('' if self.max_frame_gap is None else
                 f' at most max_frame_gap={self.max_frame_gap} apart') +
                f' (longest run: {max(map(len, runs))} frames)')
        return data_list
