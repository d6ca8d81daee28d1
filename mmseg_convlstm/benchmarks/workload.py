"""What the benchmarks run: a config's segmentor with its weights, random
batches to run it on, and our model configured to train a number of
steps."""
import copy
from typing import Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner import CheckpointLoader, load_state_dict
from mmengine.structures import PixelData

from mmseg.models import BaseSegmentor
from mmseg.structures import SegDataSample
from ..utils.complexity import build_segmentor

AUXILIARY_HEAD = 'auxiliary_head.'


def load_model(cfg: Config,
               checkpoint: Optional[str] = None,
               device: str = 'cpu') -> BaseSegmentor:
    """The config's segmentor for inference, as
    :func:`~mmseg_convlstm.utils.complexity.build_segmentor` builds it (no
    auxiliary head, plain BatchNorm, eval mode), with the weights of
    ``checkpoint`` but its auxiliary head's, and ``cfg`` as its ``cfg`` (as
    :func:`mmseg.apis.init_model` sets it).

    Args:
        cfg (Config): The config.
        checkpoint (str, optional): The weights; None keeps them untrained
            (they change neither MACs nor latency). Default: None.
        device (str): Device. Default: 'cpu'.

    Returns:
        BaseSegmentor: The model.
    """
    model = build_segmentor(cfg.model, device)
    if checkpoint is not None:
        weights = CheckpointLoader.load_checkpoint(
            checkpoint, map_location='cpu')
        weights = weights.get('state_dict', weights)
        load_state_dict(
            model, {
                key: value
                for key, value in weights.items()
                if not key.startswith(AUXILIARY_HEAD)
            })
    model.cfg = cfg
    return model


def random_batch(model: BaseSegmentor,
                 shape: Tuple[int, int],
                 batch_size: int,
                 clip_frames: Optional[int] = None,
                 loaded: bool = False,
                 seed: Optional[int] = None) -> dict:
    """A batch of random images (or clips) with random labels of the model's
    classes, as :meth:`BaseSegmentor.loss` takes it (``model.loss(**batch)``)
    or, when ``loaded``, as the dataloader gives it to ``train_step``.

    Args:
        model (BaseSegmentor): The model whose device and classes to use.
        shape (tuple[int, int]): Image (H, W).
        batch_size (int): Images (or clips) in the batch.
        clip_frames (int, optional): Frames K of each clip; None for single
            images. Default: None.
        loaded (bool): Whether the images are 8-bit, a list on the CPU, as
            the dataloader gives them (the model's data preprocessor moves
            and normalizes them); otherwise a float tensor in [0, 1) on the
            model's device. Default: False.
        seed (int, optional): Seed of the draw; None draws from torch's
            global generator. Default: None.

    Returns:
        dict: ``inputs``, images (N, 3, H, W) or clips (N, K, 3, H, W), and
        ``data_samples``, each with labels (1, H, W) or (K, H, W).
    """
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    frames = () if clip_frames is None else (clip_frames, )
    size = (batch_size, *frames, 3, *shape)
    if loaded:
        images = torch.randint(
            256, size, dtype=torch.uint8, generator=generator)
    else:
        images = torch.rand(size, generator=generator)
    labels = torch.randint(
        model.decode_head.num_classes, (batch_size, clip_frames or 1, *shape),
        generator=generator)
    device = 'cpu' if loaded else next(model.parameters()).device
    data_samples = [
        SegDataSample(
            metainfo=dict(img_shape=tuple(shape), pad_shape=tuple(shape)),
            gt_sem_seg=PixelData(data=label.to(device))) for label in labels
    ]
    inputs = list(images) if loaded else images.to(device)
    return dict(inputs=inputs, data_samples=data_samples)


def model_at_steps(model_cfg: ConfigDict, num_steps: int) -> ConfigDict:
    """A copy of our ``model_cfg`` that runs ``num_steps`` steps, with equal
    step loss weights, as the configs train (the weights change neither time
    nor memory).

    Args:
        model_cfg (ConfigDict): Our model's config.
        num_steps (int): Recurrent steps.

    Returns:
        ConfigDict: The changed copy.
    """
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.decode_head.update(num_steps=num_steps, step_loss_weights=None)
    return model_cfg


def check_training_batch(batch: int, name: str = 'batch') -> None:
    """Refuses a training batch of one image.

    Args:
        batch (int): Images per training step.
        name (str): The argument's name in the error. Default: 'batch'.

    Raises:
        ValueError: When ``batch`` is below 2: BatchNorm after DeepLabV3's
            image pooling cannot train on one image.
    """
    if batch < 2:
        raise ValueError(
            f'{name} must be at least 2, got {batch}: BatchNorm after '
            "DeepLabV3's image pooling cannot train on one image")
