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
