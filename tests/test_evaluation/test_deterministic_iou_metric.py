"""Deterministic counting: MMSeg's areas, on any device, under
torch.use_deterministic_algorithms(True)."""
import pytest
import torch
from mmengine.structures import PixelData

from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample
from mmseg_convlstm.evaluation import (AnytimeIoUMetric,
                                       DeterministicIoUMetric, count_areas)

NUM_CLASSES, IGNORE_INDEX = 5, 255


def random_label_maps(seed, size=(37, 53)):
    """Predictions and ground truth with every kind of value IoUMetric
    meets: class ids, ignored pixels, and ids outside the classes."""
    generator = torch.Generator().manual_seed(seed)
    pred = torch.randint(NUM_CLASSES + 1, size, generator=generator)
    label = torch.randint(NUM_CLASSES + 1, size, generator=generator)
    label[torch.rand(size, generator=generator) < 0.1] = 200
    label[torch.rand(size, generator=generator) < 0.2] = IGNORE_INDEX
    return pred, label


@pytest.fixture
def deterministic_algorithms():
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize('seed', range(5))
def test_the_counts_equal_mmseg_counts(seed, deterministic_algorithms):
    pred, label = random_label_maps(seed)
    ours = count_areas(pred, label, NUM_CLASSES, IGNORE_INDEX)
    mmseg = IoUMetric.intersect_and_union(pred, label, NUM_CLASSES,
                                          IGNORE_INDEX)
    for counted, expected in zip(ours, mmseg):
        assert counted.dtype == torch.int64
        assert torch.equal(counted.float(), expected)


def _evaluate(metric, seeds):
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(NUM_CLASSES)])
    for seed in seeds:
        pred, label = random_label_maps(seed)
        sample = SegDataSample()
        sample.pred_sem_seg = PixelData(data=pred[None])
        sample.gt_sem_seg = PixelData(data=label[None])
        metric.process({}, [sample.to_dict()])
    return metric.evaluate(len(seeds))


def test_the_metrics_equal_iou_metric():
    metrics = ['mIoU', 'mDice', 'mFscore']
    ours = _evaluate(DeterministicIoUMetric(iou_metrics=metrics), range(4))
    assert ours == _evaluate(IoUMetric(iou_metrics=metrics), range(4))
    assert set(ours) >= {'aAcc', 'mIoU', 'mDice', 'mFscore'}


def test_the_recurrent_metric_counts_every_step_exactly():
    pred, label = random_label_maps(0)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=label[None])
    sample.set_field(PixelData(data=torch.stack([pred, label])),
                     'pred_sem_seg_steps')
    metric = AnytimeIoUMetric(json_file=None)
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(NUM_CLASSES)])
    metric.process({}, [sample.to_dict()])

    (first_step, second_step), = metric.results
    expected = count_areas(pred, label, NUM_CLASSES, IGNORE_INDEX)
    for counted, wanted in zip(first_step, expected):
        assert counted.dtype == torch.int64
        assert torch.equal(counted, wanted)
    # Predicting the ground truth: every evaluated pixel intersects.
    assert torch.equal(second_step[0], second_step[3])


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_counts_equal_cpu_counts_in_deterministic_mode(
        deterministic_algorithms):
    for seed in range(3):
        pred, label = random_label_maps(seed, size=(513, 513))
        on_cpu = count_areas(pred, label, NUM_CLASSES, IGNORE_INDEX)
        on_cuda = count_areas(pred.cuda(), label.cuda(), NUM_CLASSES,
                              IGNORE_INDEX)
        for cpu_counts, cuda_counts in zip(on_cpu, on_cuda):
            assert cuda_counts.device.type == 'cpu'
            assert torch.equal(cpu_counts, cuda_counts)


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_mmseg_counting_has_no_deterministic_cuda_version(
        deterministic_algorithms):
    pred, label = random_label_maps(0)
    with pytest.raises(RuntimeError, match='deterministic'):
        IoUMetric.intersect_and_union(pred.cuda(), label.cuda(), NUM_CLASSES,
                                      IGNORE_INDEX)
