"""Running a recurrent model on images as MMSeg's ``mmseg.apis`` does, with
the labels after every recurrent step."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model import revert_sync_batchnorm
from torch import nn

from mmseg.apis import inference_model, init_model
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample
from ..models.segmentors.recurrent_encoder_decoder import step_labels_of
from ..models.exits.exit_settings import check_num_steps


def configured_steps(cfg: Config) -> int:
    """Steps the config's model runs in inference: ``test_cfg.num_steps``
    (checked), default the head's ``num_steps``."""
    test_cfg = cfg.model.get('test_cfg', {})
    if 'num_steps' not in test_cfg:
        return cfg.model.decode_head.num_steps
    return check_num_steps(test_cfg['num_steps'], 'model.test_cfg.num_steps')


def request_steps(cfg: Config,
                  steps: Optional[Sequence[int]] = None) -> List[int]:
    """Makes the config's model return the labels after every step up to the
    largest of ``steps`` (default: its configured number of steps) in one
    forward pass (``test_cfg.return_all_steps``).

    Returns:
        list[int]: The steps asked for, sorted; all steps when None.
    """
    steps = sorted(set(steps)) if steps else list(
        range(1,
              configured_steps(cfg) + 1))
    if steps[0] < 1:
        raise ValueError(f'steps are counted from 1, got {steps[0]}')
    test_cfg = cfg.model.setdefault('test_cfg', {})
    test_cfg.update(num_steps=steps[-1], return_all_steps=True)
    return steps


def init_step_model(config: Union[str, Config],
                    checkpoint: Optional[str],
                    steps: Optional[Sequence[int]] = None,
                    device: str = 'cpu') -> nn.Module:
    """:func:`mmseg.apis.init_model` for a model that returns the labels
    after every step up to ``max(steps)`` (see :func:`request_steps`).
    Without a checkpoint the weights are random."""
    if isinstance(config, str):
        config = Config.fromfile(config)
    cfg = copy.deepcopy(config)
    request_steps(cfg, steps)
    model = init_model(cfg, checkpoint, device=device)
    if device == 'cpu':
        model = revert_sync_batchnorm(model)
    return model


def dataset_meta(model: nn.Module) -> Dict[str, list]:
    """Class names and palette of a model from :func:`init_model`: those
    saved in its checkpoint, else those of its config's test dataset."""
    meta = getattr(model, 'dataset_meta', None)
    if meta and meta.get('palette'):
        return meta
    dataset_type = model.cfg.test_dataloader.dataset.type
    metainfo = DATASETS.get(dataset_type).METAINFO
    return dict(
        classes=list(metainfo['classes']), palette=list(metainfo['palette']))


def predict_step_labels(model: nn.Module,
                        image: Union[str, np.ndarray]) -> np.ndarray:
    """Labels (T, H, W) of one image (a path, or a BGR array as
    :func:`mmseg.apis.inference_model` takes) after every step."""
    return step_labels_of(inference_model(model, image))


def predict_dataset_item(model: nn.Module, item: dict) -> SegDataSample:
    """The prediction for one item of a dataset built with its test
    pipeline (ground truth included when the pipeline loads it)."""
    with torch.no_grad():
        return model.test_step(pseudo_collate([item]))[0]
