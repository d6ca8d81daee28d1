"""AnytimeIoUMetric refuses images that ran different numbers of steps (a
time budget) instead of truncating them to the fewest."""
import pytest
import torch

from mmseg_convlstm.evaluation import AnytimeIoUMetric


def sample(num_steps: int) -> dict:
    return dict(
        pred_sem_seg_steps=dict(data=torch.zeros(num_steps, 4, 4).long()),
        gt_sem_seg=dict(data=torch.zeros(1, 4, 4).long()))


def test_images_with_different_step_counts_are_refused():
    metric = AnytimeIoUMetric(json_file=None)
    metric.dataset_meta = dict(classes=('background', 'thing'))
    metric.process({}, [sample(3), sample(2)])
    with pytest.raises(ValueError, match=r'\[2, 3\].*AdaptiveExitIoUMetric'):
        metric.compute_metrics(metric.results)
