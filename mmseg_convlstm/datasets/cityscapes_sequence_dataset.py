import os.path as osp
from typing import List

from mmengine import fileio

from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CityscapesSequenceDataset(CityscapesDataset):
    """Cityscapes' annotated frames, each with the video frames before it.

    The samples are the annotated frames of ``gtFine``, listed as
    :class:`CityscapesDataset` lists them. Each also gets ``clip_paths``: the
    ``context_frames`` frames before it and the annotated frame itself,
    oldest first, from the official sequence layout
    ``{sequence_path}/{city}/{city}_{seq}_{frame:06d}_leftImg8bit.png``
    (``leftImg8bit_sequence/{split}``). :class:`LoadStackedClip` loads them
    and :class:`PackClipSegInputs` packs them as a (K + 1, 3, H, W) clip.

    Args:
        context_frames (int): Number K of frames before each annotated frame.
            Default: 4.
        data_prefix (dict): ``img_path`` and ``seg_map_path`` as for
            :class:`CityscapesDataset`, and ``sequence_path``: the split's
            folder of ``leftImg8bit_sequence``. Optionally
            ``sequence_seg_map_path``: a folder of labels of every frame in
            the same layout (the generated sequences' ``gtFine_sequence``;
            Cityscapes has none), which gives each sample
            ``clip_seg_map_paths`` for :class:`LoadClipAnnotations`.
        **kwargs: Arguments of :class:`CityscapesDataset`.

    Raises:
        FileNotFoundError: When a frame of a clip does not exist, naming it.
    """

    def __init__(self,
                 context_frames: int = 4,
                 data_prefix: dict = dict(
                     img_path='leftImg8bit/val',
                     seg_map_path='gtFine/val',
                     sequence_path='leftImg8bit_sequence/val'),
                 **kwargs) -> None:
        if context_frames < 0:
            raise ValueError('context_frames must be at least 0, got '
                             f'{context_frames}')
        if 'sequence_path' not in data_prefix:
            raise KeyError(
                'CityscapesSequenceDataset needs data_prefix.sequence_path, '
                "e.g. 'leftImg8bit_sequence/val'")
        self.context_frames = context_frames
        super().__init__(data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """The annotated frames, each with its ``clip_paths``."""
        data_list = super().load_data_list()
        for data_info in data_list:
            data_info['clip_paths'] = self._clip_paths(
                data_info['img_path'], 'sequence_path', self.img_suffix)
            if 'sequence_seg_map_path' in self.data_prefix:
                data_info['clip_seg_map_paths'] = self._clip_paths(
                    data_info['img_path'], 'sequence_seg_map_path',
                    self.seg_map_suffix)
        return data_list

    def _clip_paths(self, img_path: str, folder_key: str,
                    suffix: str) -> List[str]:
        folder, name = osp.split(
            osp.relpath(img_path, self.data_prefix['img_path']))
        prefix, _, frame = name[:-len(self.img_suffix)].rpartition('_')
        if not prefix or not frame.isdigit():
            raise ValueError(
                f'{img_path} is not named {{city}}_{{sequence}}_{{frame}}'
                f'{self.img_suffix} as Cityscapes names its frames')
        annotated = int(frame)
        paths = []
        for index in range(annotated - self.context_frames, annotated + 1):
            path = osp.join(self.data_prefix[folder_key], folder,
                            f'{prefix}_{index:06d}{suffix}')
            if not fileio.exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'frame {path} does not exist: the clip of {img_path} '
                    f'with context_frames={self.context_frames} needs frames '
                    f'{annotated - self.context_frames}..{annotated}')
            paths.append(path)
        return paths
