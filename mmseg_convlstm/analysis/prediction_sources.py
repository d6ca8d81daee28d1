"""Ground truth and predictions of a dataset, image by image: from a model
run on the dataset, or from prediction PNGs saved earlier. Each source
yields ``(ground_truth, predict)``; ``predict()`` returns the predicted
labels per series name and is called only for the images analysed."""
import copy
import os.path as osp
from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.utils import ProgressBar
from PIL import Image
from torch import nn

from mmseg.registry import DATASETS
from .spectral_report import SpectralComparison, step_series_name
from ..apis.step_inference import predict_dataset_item, step_labels_of

Predictions = Dict[str, np.ndarray]
Source = Iterator[Tuple[np.ndarray, Callable[[], Predictions]]]
SAVED_SERIES = 'prediction'


def read_label_map(path: str) -> np.ndarray:
    """Labels (H, W) from a PNG: a palette image's indices or grey values."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'label map {path} does not exist')
    labels = np.asarray(Image.open(path))
    if labels.ndim != 2:
        raise ValueError(f'{path} is not a label map: a palette or grey PNG '
                         f'(H, W) was expected, got shape {labels.shape}')
    return labels


def build_dataset(cfg: Config,
                  split: str = 'test',
                  pipeline: Optional[list] = None):
    """The dataset of ``cfg.{split}_dataloader``, optionally with another
    pipeline (e.g. only ``LoadAnnotations``)."""
    key = f'{split}_dataloader'
    if cfg.get(key) is None:
        raise KeyError(f'the config has no {key}')
    dataset_cfg = copy.deepcopy(cfg[key]['dataset'])
    if pipeline is not None:
        dataset_cfg['pipeline'] = pipeline
    return DATASETS.build(dataset_cfg)


def model_predictions(model: nn.Module, dataset,
                      steps: Sequence[int]) -> Source:
    """The model's labels after each of ``steps`` (series
    ``'prediction step t'``) for every image of a dataset whose pipeline
    loads the annotations; the model must return every step's labels (see
    :func:`request_steps`)."""
    for index in range(len(dataset)):
        item = dataset[index]
        if 'gt_sem_seg' not in item['data_samples']:
            raise KeyError('the test pipeline does not load the ground truth:'
                           ' add LoadAnnotations to it')
        ground_truth = item['data_samples'].gt_sem_seg.data[0].numpy()

        def predict(item: dict = item) -> Predictions:
            labels = step_labels_of(predict_dataset_item(model, item))
            return {step_series_name(step): labels[step - 1] for step in steps}

        yield ground_truth, predict


def saved_predictions(pred_dir: str, dataset) -> Source:
    """Labels from ``pred_dir/<image name>.png`` (as ``tools/test.py --out``
    writes them) for every image of a dataset built with a pipeline that
    loads the annotations only (series ``'prediction'``)."""
    for index in range(len(dataset)):
        item = dataset[index]
        name = osp.splitext(osp.basename(item['img_path']))[0]
        path = osp.join(pred_dir, f'{name}.png')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'no prediction {path} for image {item["img_path"]}')

        def predict(
            path: str = path,
            reduce_zero_label: bool = item['reduce_zero_label']
        ) -> Predictions:
            labels = read_label_map(path)
            if reduce_zero_label:  # the PNGs hold label + 1
                labels = (labels.astype(np.int64) - 1) % 256
            return {SAVED_SERIES: labels}

        yield item['gt_seg_map'], predict


def compare_spectra(comparison: SpectralComparison,
                    source: Source,
                    num_items: int,
                    max_images: Optional[int] = None,
                    progress: bool = True) -> int:
    """Adds the images of ``source`` that ``comparison`` selects, at most
    ``max_images`` of them, with a progress bar over ``num_items``.

    Returns:
        int: The number of images analysed.
    """
    bar = ProgressBar(num_items) if progress else None
    analysed = 0
    for ground_truth, predict in source:
        if comparison.selects(ground_truth):
            comparison.add(ground_truth, predict())
            analysed += 1
        if bar is not None:
            bar.update()
        if max_images is not None and analysed >= max_images:
            break
    return analysed
