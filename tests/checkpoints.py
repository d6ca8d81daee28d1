"""Checkpoints of small randomly initialised models, saved as MMEngine
saves them (weights and the dataset's classes and palette in ``meta``)."""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import weights_to_cpu

from mmseg.registry import DATASETS, MODELS


def save_random_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Saves the weights of ``config``'s model, randomly initialised with
    ``seed``, and its test dataset's metainfo to ``path``."""
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    metainfo = DATASETS.get(cfg.test_dataloader.dataset.type).METAINFO
    torch.save(
        dict(
            meta=dict(
                dataset_meta=dict(
                    classes=list(metainfo['classes']),
                    palette=[list(colour) for colour in metainfo['palette']])),
            state_dict=weights_to_cpu(model.state_dict())), path)
    return path
