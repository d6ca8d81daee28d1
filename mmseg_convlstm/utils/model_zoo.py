"""MMSeg's shipped configs (``mmseg::...``) and the model-zoo results in
their metafiles (``mmseg/.mim/configs/<algorithm>/metafile.yaml``)."""
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

import yaml
from mmengine.config import Config

import mmseg

MMSEG_PREFIX = 'mmseg::'
# The model zoo's name of the datasets our configs use, and the training crop
# it reports them at (its other crops are variants, e.g. 769x769).
ZOO_DATASETS = {
    'PascalVOCDataset': ('Pascal VOC 2012 + Aug', '512x512'),
    'CityscapesDataset': ('Cityscapes', '512x1024'),
}


@dataclass
class ZooResult:
    """One model-zoo entry: its config name and single-scale mIoU."""
    name: str
    dataset: str
    miou: float


@dataclass
class ZooModel:
    """What the model zoo says about a shipped config.

    Args:
        title (str): Method and backbone, e.g. ``PSPNet R-101-D8``.
        architecture (tuple[str]): The metafile's architecture, e.g.
            ``('R-101-D8', 'PSPNet')``.
        results (list[ZooResult]): Single-scale results of every entry with
            this architecture.
    """
    title: str
    architecture: Tuple[str, ...]
    results: List[ZooResult]

    def best_result(self, dataset_type: Optional[str]) -> Optional[ZooResult]:
        """The best single-scale result, over training schedules, on the
        dataset of MMSeg class ``dataset_type`` at the zoo's standard crop
        for it; None when the zoo has none."""
        if dataset_type not in ZOO_DATASETS:
            return None
        dataset, crop = ZOO_DATASETS[dataset_type]
        candidates = [
            result for result in self.results
            if result.dataset == dataset and result.name.endswith(crop)
        ]
        return max(candidates, key=lambda result: result.miou, default=None)


def mmseg_config_path(path: str) -> str:
    """The file of ``path``, where ``mmseg::algorithm/name.py`` means a
    config shipped with MMSeg."""
    if path.startswith(MMSEG_PREFIX):
        path = osp.join(
            osp.dirname(mmseg.__file__), '.mim', 'configs',
            path[len(MMSEG_PREFIX):])
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    return path


def load_mmseg_config(path: str) -> Config:
    """The config at ``path`` (a file or ``mmseg::algorithm/name.py``)."""
    return Config.fromfile(mmseg_config_path(path))


def zoo_model(path: str) -> Optional[ZooModel]:
    """The model-zoo entry of the config at ``path`` and the results of its
    architecture, read from the metafile next to it; None when the config is
    not in a metafile."""
    config_file = mmseg_config_path(path)
    metafile = osp.join(osp.dirname(config_file), 'metafile.yaml')
    if not osp.isfile(metafile):
        return None
    with open(metafile) as file:
        entries = yaml.safe_load(file).get('Models', [])
    name = osp.splitext(osp.basename(config_file))[0]
    entry = next((entry for entry in entries if entry['Name'] == name), None)
    if entry is None:
        return None
    architecture = tuple(entry['Metadata']['Architecture'])
    results = [
        result for other in entries
        if tuple(other['Metadata']['Architecture']) == architecture
        for result in _single_scale_results(other)
    ]
    title = f'{entry["In Collection"]} {architecture[0]}'
    return ZooModel(title, architecture, results)


def _single_scale_results(entry: dict) -> List[ZooResult]:
    results = entry.get('Results', [])
    if isinstance(results, dict):
        results = [results]
    return [
        ZooResult(entry['Name'], result['Dataset'],
                  float(result['Metrics']['mIoU'])) for result in results
        if 'mIoU' in result.get('Metrics', {})
    ]
