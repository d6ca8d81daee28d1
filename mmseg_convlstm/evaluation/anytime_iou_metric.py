import json
import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmseg.registry import METRICS
from .deterministic_iou_metric import DeterministicIoUMetric


@METRICS.register_module()
class AnytimeIoUMetric(DeterministicIoUMetric):
    """IoU metrics after every recurrent step, from one evaluation pass.

    The model must run with ``model.test_cfg.return_all_steps=True`` so that
    every prediction carries ``pred_sem_seg_steps``. For each step ``t`` the
    metric reports ``aAcc@t``, ``mIoU@t`` and ``mAcc@t`` (and the other
    requested metrics the same way), computed exactly as :class:`IoUMetric`
    computes them; the plain keys (``mIoU`` ...) are those of the last step,
    so best-checkpoint selection works unchanged. It logs a per-step table
    and writes per-step, per-class results to a JSON file.

    ``output_dir`` and ``format_only`` work as in :class:`IoUMetric`, with the
    last step's labels. The areas are counted deterministically, as
    :class:`DeterministicIoUMetric` counts them.

    Args:
        json_file (str, optional): Where to write the per-step results. A
            relative path goes into the run's log directory (next to the log
            file), or the current directory when there is none. None writes
            nothing. Default: 'anytime_iou.json'.
        **kwargs: Arguments of :class:`IoUMetric` (``iou_metrics``,
            ``ignore_index``, ``nan_to_num``, ``beta``, ...).
    """

    def __init__(self,
                 json_file: Optional[str] = 'anytime_iou.json',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.json_file = json_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Stores each image's areas after every step; with ``output_dir``
        also saves the last step's labels as PNGs, as IoUMetric does."""
        if self.output_dir is not None:
            first_new = len(self.results)
            super().process(data_batch, data_samples)
            del self.results[first_new:]
        if self.format_only:
            return
        num_classes = len(self.dataset_meta['classes'])
        for data_sample in data_samples:
            if 'pred_sem_seg_steps' not in data_sample:
                raise KeyError(
                    'AnytimeIoUMetric needs the labels of every step: set '
                    'model.test_cfg.return_all_steps=True')
            step_labels = data_sample['pred_sem_seg_steps']['data']
            label = data_sample['gt_sem_seg']['data'].squeeze().to(
                step_labels)
            self.results.append([
                self.intersect_and_union(labels, label, num_classes,
                                         self.ignore_index)
                for labels in step_labels
            ])

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Per-step summaries (``mIoU@t`` ...) and the last step's."""
        if self.format_only:
            return super().compute_metrics(results)
        step_counts = sorted({len(steps) for steps in results})
        if len(step_counts) > 1:
            raise ValueError(
                'AnytimeIoUMetric needs the same steps for every image, got '
                f'{step_counts} (model.test_cfg.time_budget_ms?): evaluate '
                'a time budget with AdaptiveExitIoUMetric, which reports the '
                'mIoU and the mean steps used')
        step_summaries, step_class_metrics = [], []
        for step_results in zip(*results):
            summary, class_metrics = self._metrics_of(step_results)
            step_summaries.append(summary)
            step_class_metrics.append(class_metrics)
        metrics = dict(step_summaries[-1])
        for step, summary in enumerate(step_summaries, 1):
            metrics.update(
                {f'{key}@{step}': value
                 for key, value in summary.items()})
        self._log_table(step_summaries)
        if self.json_file is not None:
            self._write_json(step_summaries, step_class_metrics)
        return metrics

    def _metrics_of(self, results: Sequence[tuple]) -> tuple:
        """Summary and per-class metrics of one step, as IoUMetric does."""
        areas = [sum(area) for area in zip(*results)]
        ret_metrics = self.total_area_to_metrics(*areas, self.metrics,
                                                 self.nan_to_num, self.beta)
        summary = OrderedDict()
        for key, value in ret_metrics.items():
            name = key if key == 'aAcc' else 'm' + key
            summary[name] = np.round(np.nanmean(value) * 100, 2)
        ret_metrics.pop('aAcc', None)
        class_metrics = {
            key: np.round(value * 100, 2)
            for key, value in ret_metrics.items()
        }
        return summary, class_metrics

    def _log_table(self, step_summaries: List[dict]) -> None:
        table = PrettyTable()
        table.field_names = ['step', *step_summaries[0].keys()]
        for step, summary in enumerate(step_summaries, 1):
            table.add_row([step, *summary.values()])
        print_log('results after every recurrent step:\n' + table.get_string(),
                  logger=MMLogger.get_current_instance())

    def _write_json(self, step_summaries: List[dict],
                    step_class_metrics: List[dict]) -> None:
        path = self._json_path()
        classes = list(self.dataset_meta['classes'])
        steps = []
        for step, (summary, class_metrics) in enumerate(
                zip(step_summaries, step_class_metrics), 1):
            steps.append(
                dict(
                    step=step,
                    **{key: _plain(value)
                       for key, value in summary.items()},
                    per_class={
                        key: dict(zip(classes, map(_plain, values)))
                        for key, values in class_metrics.items()
                    }))
        with open(path, 'w') as file:
            json.dump(dict(classes=classes, steps=steps), file, indent=2)
        print_log(f'per-step results written to {path}',
                  logger=MMLogger.get_current_instance())

    def _json_path(self) -> str:
        return path_in_log_dir(self.json_file)


def path_in_log_dir(path: str) -> str:
    """``path`` itself when absolute, else joined to the current run's log
    directory (the current directory when there is none)."""
    if osp.isabs(path):
        return path
    log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
    log_dir = osp.dirname(log_file) if log_file else '.'
    return osp.join(log_dir, path)


def _plain(value: float) -> Optional[float]:
    """A JSON-friendly float; NaN (a class absent everywhere) becomes None."""
    value = float(value)
    return None if math.isnan(value) else value
