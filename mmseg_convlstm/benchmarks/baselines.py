"""MMSeg's models that the benchmarks measure ours against, and their
names in the tables."""
from typing import List, Sequence

from mmseg.models import BaseSegmentor
from ..utils.model_zoo import load_mmseg_config, zoo_model
from .workload import load_model

BASELINE_CONFIGS = (
    'mmseg::pspnet/pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py',
    'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-20k_voc12aug-512x512.py',
    'mmseg::deeplabv3/'
    'deeplabv3_r101-d16-mg124_4xb2-40k_cityscapes-512x1024.py',
)
"""The budget curve's baselines: PSPNet R-101-D8, DeepLabV3 R-101-D8 and
DeepLabV3 R-101-D16-MG124."""
BENCHMARK_BASELINES = (BASELINE_CONFIGS[1], BASELINE_CONFIGS[0])
"""The latency, memory and training benchmarks' baselines: DeepLabV3
R-101-D8, then PSPNet R-101-D8."""


def model_title(config: str) -> str:
    """The model-zoo title of a baseline config, or the config itself.

    Args:
        config (str): A config file or ``mmseg::algorithm/name.py``.

    Returns:
        str: E.g. 'DeepLabV3 R-101-D8'.
    """
    zoo = zoo_model(config)
    return zoo.title if zoo else config


def load_baselines(configs: Sequence[str],
                   device: str = 'cpu') -> List[BaseSegmentor]:
    """The baselines' segmentors, untrained (weights change neither MACs nor
    latency), as :func:`~.workload.load_model` gives them.

    Args:
        configs (Sequence[str]): Config files or ``mmseg::...``.
        device (str): Device. Default: 'cpu'.

    Returns:
        list[BaseSegmentor]: One model per config.
    """
    return [
        load_model(load_mmseg_config(config), device=device)
        for config in configs
    ]
