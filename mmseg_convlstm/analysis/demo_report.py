"""What the demo reports besides the metrics: the all-background baseline
and pictures of the prediction after every step."""
import os
import os.path as osp
from itertools import islice
from typing import List

import mmcv
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from mmseg.evaluation import IoUMetric
from ..evaluation.deterministic_iou_metric import count_areas
from ..models.segmentors.recurrent_encoder_decoder import step_labels_of
from ..visualization.step_pictures import save_step_grid


def all_background_miou(dataset: Dataset, background: int = 0) -> float:
    """mIoU (%) of predicting ``background`` everywhere on ``dataset``,
    computed as :class:`IoUMetric` computes it."""
    num_classes = len(dataset.metainfo['classes'])
    areas = []
    for index in range(len(dataset)):
        label = dataset[index]['data_samples'].gt_sem_seg.data.squeeze(0)
        areas.append(
            count_areas(
                torch.full_like(label, background), label, num_classes,
                dataset.ignore_index))
    totals = [sum(area) for area in zip(*areas)]
    iou = IoUMetric.total_area_to_metrics(*totals, ['mIoU'])['IoU']
    return float(np.round(np.nanmean(iou) * 100, 2))


def save_prediction_pictures(model: torch.nn.Module, dataloader: DataLoader,
                             num_images: int, out_dir: str) -> List[str]:
    """Saves, for the first ``num_images`` of ``dataloader``, a grid of the
    image, the labels after every step and the ground truth.

    The model must run with ``test_cfg.return_all_steps=True``.

    Returns:
        list[str]: The PNG files written.
    """
    os.makedirs(out_dir, exist_ok=True)
    metainfo = dataloader.dataset.metainfo
    model.eval()
    paths = []
    for batch in islice(dataloader, num_images):
        with torch.no_grad():
            (result, ) = model.test_step(batch)
        step_labels = step_labels_of(result)
        path = osp.join(
            out_dir,
            osp.splitext(osp.basename(result.img_path))[0] + '_steps.png')
        save_step_grid(
            path,
            mmcv.imread(result.img_path, channel_order='rgb'),
            step_labels,
            steps=list(range(1,
                             len(step_labels) + 1)),
            palette=metainfo['palette'],
            gt=result.gt_sem_seg.data.squeeze(0).cpu().numpy(),
            class_names=metainfo['classes'])
        paths.append(path)
    return paths
