import json
from collections import Counter
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log

from mmseg.registry import METRICS
from .anytime_iou_metric import path_in_log_dir
from .deterministic_iou_metric import DeterministicIoUMetric


@METRICS.register_module()
class AdaptiveExitIoUMetric(DeterministicIoUMetric):
    """IoU metrics of a model run with adaptive exit, and the recurrent steps
    it spent.

    The model must run with ``model.test_cfg.adaptive_exit`` (or
    ``time_budget_ms``) so that every prediction carries ``num_steps_used``
    in its metainfo. Besides the metrics
    of :class:`IoUMetric`, computed the same way, it reports ``mean_steps``
    (steps per image, averaged over the images) and writes both, with the
    histogram of steps, to a JSON file that
    ``tools/analysis_tools/budget_curve.py --adaptive-json`` reads.

    Args:
        json_file (str, optional): Where to write the results. A relative
            path goes into the run's log directory (the current directory
            when there is none). None writes nothing.
            Default: 'adaptive_exit.json'.
        **kwargs: Arguments of :class:`IoUMetric`.
    """

    def __init__(self,
                 json_file: Optional[str] = 'adaptive_exit.json',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.json_file = json_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Stores each image's areas, as IoUMetric does, with its steps."""
        first_new = len(self.results)
        super().process(data_batch, data_samples)
        if self.format_only:
            return
        for index, data_sample in enumerate(data_samples, first_new):
            if 'num_steps_used' not in data_sample:
                raise KeyError(
                    'AdaptiveExitIoUMetric needs the steps of every image: '
                    'set model.test_cfg.adaptive_exit or '
                    'model.test_cfg.time_budget_ms')
            self.results[index] = (*self.results[index],
                                   int(data_sample['num_steps_used']))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """IoUMetric's metrics and ``mean_steps``."""
        if self.format_only:
            return super().compute_metrics(results)
        steps = [result[-1] for result in results]
        metrics = super().compute_metrics(
            [result[:-1] for result in results])
        mean_steps = float(np.mean(steps))
        logger = MMLogger.get_current_instance()
        print_log(
            f'adaptive exit: {mean_steps:.2f} recurrent steps per image on '
            f'average (from {min(steps)} to {max(steps)})',
            logger=logger)
        if self.json_file is not None:
            path = path_in_log_dir(self.json_file)
            with open(path, 'w') as file:
                json.dump(
                    dict(
                        # IoUMetric's float32 numbers, rounded to 2 decimals.
                        **{key: round(float(value), 2)
                           for key, value in metrics.items()},
                        mean_steps=mean_steps,
                        num_images=len(steps),
                        steps_histogram=dict(sorted(Counter(steps).items()))),
                    file,
                    indent=2)
            print_log(f'adaptive-exit results written to {path}', logger)
        metrics['mean_steps'] = mean_steps
        return metrics
