"""AdaptiveExitIoUMetric: IoUMetric's numbers and the steps spent."""
import json

import pytest
import torch
from mmengine.structures import PixelData

from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample
from mmseg_convlstm.evaluation import AdaptiveExitIoUMetric

CLASSES = ('background', 'car', 'person')


def samples(steps_used):
    torch.manual_seed(0)
    batch = []
    for steps in steps_used:
        sample = SegDataSample(metainfo=dict(num_steps_used=steps))
        sample.pred_sem_seg = PixelData(data=torch.randint(3, (1, 8, 8)))
        sample.gt_sem_seg = PixelData(data=torch.randint(3, (1, 8, 8)))
        batch.append(sample.to_dict())
    return batch


def evaluate(metric, batches):
    metric.dataset_meta = dict(classes=CLASSES)
    for batch in batches:
        metric.process({}, batch)
    return metric.evaluate(sum(len(batch) for batch in batches))


def test_metrics_equal_iou_metric_and_steps_are_averaged(tmp_path):
    batches = [samples([2, 5]), samples([3])]
    json_file = tmp_path / 'exit.json'
    adaptive = evaluate(
        AdaptiveExitIoUMetric(json_file=str(json_file)), batches)
    plain = evaluate(IoUMetric(), batches)

    assert adaptive.pop('mean_steps') == pytest.approx(10 / 3)
    assert adaptive == plain
    with open(json_file) as file:
        written = json.load(file)
    assert written['mIoU'] == round(float(plain['mIoU']), 2)
    assert written['mean_steps'] == pytest.approx(10 / 3)
    assert written['steps_histogram'] == {'2': 1, '3': 1, '5': 1}
    assert written['num_images'] == 3


def test_missing_steps_are_explained():
    batch = samples([2])
    del batch[0]['num_steps_used']
    with pytest.raises(KeyError, match='model.test_cfg.adaptive_exit'):
        evaluate(AdaptiveExitIoUMetric(json_file=None), [batch])


def position_exit_samples(costs):
    """Samples of per-position exit: (steps, mean steps per position,
    MACs, head MACs) for each image."""
    batch = samples([steps for steps, *_ in costs])
    for sample, (_, position_steps, macs, head_macs) in zip(batch, costs):
        sample.update(
            mean_position_steps=position_steps,
            macs=macs,
            head_macs=head_macs)
    return batch


def test_per_position_exit_reports_steps_per_position_and_gmacs(tmp_path):
    batches = [
        position_exit_samples([(4, 1.5, 3_000_000_000, 1_000_000_000),
                               (6, 2.5, 5_000_000_000, 3_000_000_000)]),
        position_exit_samples([(2, 2.0, 4_000_000_000, 2_000_000_000)])
    ]
    json_file = tmp_path / 'exit.json'
    adaptive = evaluate(
        AdaptiveExitIoUMetric(json_file=str(json_file)), batches)
    plain = evaluate(IoUMetric(), batches)

    assert adaptive.pop('mean_steps') == pytest.approx(4.0)
    assert adaptive.pop('mean_position_steps') == pytest.approx(2.0)
    assert adaptive.pop('mean_gmacs') == pytest.approx(4.0)
    assert adaptive.pop('mean_head_gmacs') == pytest.approx(2.0)
    assert adaptive == plain
    with open(json_file) as file:
        written = json.load(file)
    assert written['mean_position_steps'] == pytest.approx(2.0)
    assert written['mean_gmacs'] == pytest.approx(4.0)
    assert written['mean_head_gmacs'] == pytest.approx(2.0)


def test_per_image_exit_reports_no_costs():
    metrics = evaluate(
        AdaptiveExitIoUMetric(json_file=None), [samples([2, 3])])
    assert 'mean_gmacs' not in metrics
    assert 'mean_position_steps' not in metrics
