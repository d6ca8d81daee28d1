import json
from collections import Counter
from typing import Dict, List, Optional, Sequence

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

    With per-position exit (``adaptive_exit=dict(per_position=True,
    ...)``), whose predictions also carry ``mean_position_steps``,
    ``head_macs`` and ``macs``, it reports ``mean_position_steps`` (steps
    per feature position, averaged over the images), ``mean_gmacs`` and
    ``mean_head_gmacs`` (GMACs spent per image by the whole model and by
    its head), and writes them to the JSON file too.

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
        """Stores each image's areas, as IoUMetric does, with its steps (and
        with per-position exit its mean steps per position and MACs)."""
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
            costs = {
                key: data_sample[key]
                for key in POSITION_EXIT_KEYS if key in data_sample
            }
            self.results[index] = (*self.results[index],
                                   int(data_sample['num_steps_used']), costs)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """IoUMetric's metrics, ``mean_steps`` and, with per-position exit,
        ``mean_position_steps``, ``mean_gmacs`` and ``mean_head_gmacs``."""
        if self.format_only:
            return super().compute_metrics(results)
        steps = [result[-2] for result in results]
        costs = _mean_costs([result[-1] for result in results])
        metrics = super().compute_metrics(
            [result[:-2] for result in results])
        mean_steps = float(np.mean(steps))
        logger = MMLogger.get_current_instance()
        print_log(
            f'adaptive exit: {mean_steps:.2f} recurrent steps per image on '
            f'average (from {min(steps)} to {max(steps)})',
            logger=logger)
        if costs:
            print_log(
                'per-position exit: '
                f"{costs['mean_position_steps']:.2f} steps per position, "
                f"{costs['mean_gmacs']:.3f} GMACs per image (head: "
                f"{costs['mean_head_gmacs']:.3f})",
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
                        **costs,
                        num_images=len(steps),
                        steps_histogram=dict(sorted(Counter(steps).items()))),
                    file,
                    indent=2)
            print_log(f'adaptive-exit results written to {path}', logger)
        metrics['mean_steps'] = mean_steps
        metrics.update(costs)
        return metrics


POSITION_EXIT_KEYS = ('mean_position_steps', 'macs', 'head_macs')
"""What per-position exit adds to a prediction's metainfo."""


def _mean_costs(costs: List[dict]) -> Dict[str, float]:
    """``mean_position_steps``, ``mean_gmacs`` and ``mean_head_gmacs`` over
    the images, when every image has them (per-position exit); else none.
    """
    if not all(set(POSITION_EXIT_KEYS) <= set(cost) for cost in costs):
        return {}
    return dict(
        mean_position_steps=float(
            np.mean([cost['mean_position_steps'] for cost in costs])),
        mean_gmacs=float(np.mean([cost['macs'] for cost in costs])) / 1e9,
        mean_head_gmacs=float(np.mean([cost['head_macs']
                                       for cost in costs])) / 1e9)
