from collections import defaultdict
from typing import List

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

    Args:
        context_frames (int): Number K of frames before each sample.
            Default: 4.
        **kwargs: Arguments of :class:`CamVidDataset`.
    """

    def __init__(self, context_frames: int = 4, **kwargs) -> None:
        if context_frames < 0:
            raise ValueError('context_frames must be at least 0, got '
                             f'{context_frames}')
        self.context_frames = context_frames
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """The frames with ``context_frames`` frames before them."""
        sequences = defaultdict(list)
        for data_info in super().load_data_list():
            sequence, _ = camvid_frame(data_info['img_path'])
            sequences[sequence].append(data_info)
        data_list = []
        for frames in sequences.values():
            for index in range(self.context_frames, len(frames)):
                clip = frames[index - self.context_frames:index + 1]
                data_info = frames[index]
                data_info['clip_paths'] = [info['img_path'] for info in clip]
                data_info['clip_seg_map_paths'] = [
                    info['seg_map_path'] for info in clip
                ]
                data_list.append(data_info)
        return data_list
