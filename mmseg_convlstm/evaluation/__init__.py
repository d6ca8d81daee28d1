from .adaptive_exit_iou_metric import AdaptiveExitIoUMetric
from .anytime_iou_metric import AnytimeIoUMetric
from .deterministic_iou_metric import DeterministicIoUMetric, count_areas

__all__ = [
    'AdaptiveExitIoUMetric', 'AnytimeIoUMetric', 'DeterministicIoUMetric',
    'count_areas'
]
