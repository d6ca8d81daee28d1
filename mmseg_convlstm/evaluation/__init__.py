from .adaptive_exit_iou_metric import AdaptiveExitIoUMetric
from .anytime_iou_metric import AnytimeIoUMetric

__all__ = ['AdaptiveExitIoUMetric', 'AnytimeIoUMetric']
