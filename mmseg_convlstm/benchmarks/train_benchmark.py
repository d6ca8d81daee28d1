"""What a training iteration costs, measured in one run on one machine: the
seconds of one iteration (data preprocessing, forward, losses, backward and
the SGD update, as ``Runner.train`` runs them) of the recurrent model at
chosen numbers of steps against DeepLabV3 and PSPNet R-101-D8, in fp32 and
mixed precision, with the share of the head and its losses in ours, and the
peak memory of each."""
import copy
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.utils import ProgressBar

from mmseg.models.segmentors import BaseSegmentor
from ..engine.mixed_precision import PRECISIONS, optim_wrapper_in_precision
from ..utils.complexity import build_segmentor
from ..utils.model_zoo import load_mmseg_config
from .baselines import BENCHMARK_BASELINES, model_title
from .formatting import ratio
from .latency import describe_device, median_latencies
from .memory import MIB, memory_measure, peak_training_memory
from .workload import check_training_batch, model_at_steps, random_batch


@dataclass
class TrainRow:
    """One model in one precision; ``steps`` and ``head_share`` are None for
    a baseline, ``peak_bytes`` when memory was not measured."""
    model: str
    steps: Optional[int]
    precision: str
    seconds: float
    head_share: Optional[float]
    peak_bytes: Optional[int]


@dataclass
class TrainBenchmark:
    """The measurements of :func:`benchmark_train`.

    Args:
        crop (tuple[int, int]): Training crop (H, W).
        batch (int): Images per iteration.
        device (str): Where everything ran, in words.
        repeats (int): Timed iterations per row.
        rows (list[TrainRow]): Ours at each T, then the baselines, in each
            precision.
        memory_measure (str): What ``peak_bytes`` measures.
    """
    crop: Tuple[int, int]
    batch: int
    device: str
    repeats: int
    rows: List[TrainRow]
    memory_measure: str

    def markdown(self) -> str:
        """One Markdown table: seconds per iteration, the ratio to each
        baseline in the same precision, the head-and-loss share, memory."""
        titles = list(
            dict.fromkeys(row.model for row in self.rows if row.steps is None))
        reference = {
            (row.model, row.precision): row.seconds
            for row in self.rows if row.steps is None
        }
        height, width = self.crop
        lines = [
            f'Training iteration (SGD update included) at {height}x{width}, '
            f'batch {self.batch}, median of {self.repeats} interleaved '
            f'iterations, {self.device}. Memory: {self.memory_measure}.', '',
            '| model | steps | precision | s / iteration | ' +
            ' | '.join(f'/ {title}' for title in titles) +
            ' | head and losses | peak memory (MiB) |',
            '| --- | ---: | --- | ---: |' + ' ---: |' * len(titles) +
            ' ---: | ---: |'
        ]
        for row in self.rows:
            ratios = ' | '.join(
                ratio(row.seconds, reference.get((title, row.precision)))
                for title in titles)
            share = '' if row.head_share is None else f'{row.head_share:.0%}'
            peak = ('' if row.peak_bytes is None else
                    f'{row.peak_bytes / MIB:.0f}')
            steps = '' if row.steps is None else row.steps
            lines.append(f'| {row.model} | {steps} | {row.precision} | '
                         f'{row.seconds:.3f} | {ratios} | {share} | {peak} |')
        return '\n'.join(lines) + '\n'


def benchmark_train(cfg: Config,
                    crop: Tuple[int, int],
                    steps: Sequence[int] = (10, ),
                    baselines: Sequence[str] = BENCHMARK_BASELINES,
                    precisions: Sequence[str] = ('fp32', ),
                    batch: int = 2,
                    repeats: int = 5,
                    device: str = 'cpu',
                    measure_memory: bool = True) -> TrainBenchmark:
    """Measures training iterations of ours and the baselines side by side.

    Args:
        cfg (Config): Our config; its ``optim_wrapper`` (SGD, momentum
            0.95) trains every model.
        crop (tuple[int, int]): Training crop (H, W) of every model.
        steps (Sequence[int]): Numbers of recurrent steps to train with.
            Default: (10, ).
        baselines (Sequence[str]): Baseline configs (files or
            ``mmseg::...``). Default: DeepLabV3 R-101-D8, PSPNet R-101-D8.
        precisions (Sequence[str]): Any of 'fp32', 'fp16', 'bf16'; the
            last two train with MMEngine's ``AmpOptimWrapper`` as
            ``tools/train.py --amp`` does. Default: ('fp32', ).
        batch (int): Images per iteration, at least 2 (BatchNorm after
            DeepLabV3's image pooling). Default: 2.
        repeats (int): Timed iterations per row. Default: 5.
        device (str): Device. Default: 'cpu'.
        measure_memory (bool): Whether to measure peak memory, each model
            in a fresh process. Default: True.

    Returns:
        TrainBenchmark: The measurements.
    """
    _check_arguments(precisions, batch, device)
    models = {
        ('ours', num_steps): model_at_steps(cfg.model, num_steps)
        for num_steps in steps
    }
    for config in baselines:
        models[(model_title(config), None)] = load_mmseg_config(config).model
    models = {
        key: _with_crop(model_cfg, crop)
        for key, model_cfg in models.items()
    }
    optim_wrappers = {
        precision: optim_wrapper_in_precision(cfg.optim_wrapper, precision)
        for precision in precisions
    }
    runs, head_runs = {}, {}
    for (title, num_steps), model_cfg in models.items():
        model = build_segmentor(model_cfg, device, training=True)
        data = random_batch(model, crop, batch, loaded=True)
        for precision in precisions:
            optim_wrapper = build_optim_wrapper(model,
                                                optim_wrappers[precision])
            runs[(title, num_steps,
                  precision)] = _iteration_run(model, data, optim_wrapper)
            if num_steps is not None:
                head_runs[(title, num_steps,
                           precision)] = _head_run(model, data, optim_wrapper)
    memory_runs = len(models) * len(precisions) if measure_memory else 0
    progress = ProgressBar(repeats * (len(runs) + len(head_runs)) +
                           memory_runs)
    head_runs = {('head', *key): run for key, run in head_runs.items()}
    seconds = median_latencies({
        **runs,
        **head_runs
    },
                               torch.device(device),
                               repeats=repeats,
                               progress=progress,
                               with_grad=True)
    rows = []
    for (title, num_steps, precision) in runs:
        key = (title, num_steps, precision)
        peak = None
        if measure_memory:
            peak = peak_training_memory(models[(title, num_steps)], crop,
                                        batch, device,
                                        optim_wrappers[precision])
            progress.update()
        head_share = (None if num_steps is None else seconds[('head', *key)] /
                      seconds[key])
        rows.append(
            TrainRow(title, num_steps, precision, seconds[key], head_share,
                     peak))
    return TrainBenchmark(
        crop=tuple(crop),
        batch=batch,
        device=describe_device(torch.device(device)),
        repeats=repeats,
        rows=rows,
        memory_measure=memory_measure(device))


def _check_arguments(precisions: Sequence[str], batch: int,
                     device: str) -> None:
    unknown = set(precisions) - set(PRECISIONS)
    if unknown:
        raise ValueError(f'unknown precisions {sorted(unknown)}: choose from '
                         f'{PRECISIONS}')
    if set(precisions) - {'fp32'} and torch.device(device).type == 'cpu':
        raise ValueError(
            'fp16 and bf16 train with MMEngine\'s AmpOptimWrapper, which '
            'needs a GPU (CUDA, NPU, MLU or MUSA): measure them with --device '
            'cuda, or measure fp32 on the CPU')
    check_training_batch(batch)


def _with_crop(model_cfg: dict, crop: Tuple[int, int]) -> dict:
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.data_preprocessor.size = tuple(crop)
    return model_cfg


def _iteration_run(model: BaseSegmentor, data: dict,
                   optim_wrapper: OptimWrapper) -> Callable[[], object]:
    return lambda: model.train_step(data, optim_wrapper)


def _head_run(model: BaseSegmentor, data: dict,
              optim_wrapper: OptimWrapper) -> Callable[[], object]:
    """Forward and backward of the head and its losses alone, from the
    backbone features of ``data`` (computed once), in the precision of
    ``optim_wrapper``."""
    data = model.data_preprocessor(data, True)
    with torch.no_grad(), optim_wrapper.optim_context(model):
        features = [
            feature.detach().requires_grad_()
            for feature in model.extract_feat(data['inputs'])
        ]
    head = model.decode_head

    def run():
        with optim_wrapper.optim_context(model):
            losses = head.loss(features, data['data_samples'], model.train_cfg)
            loss, _ = model.parse_losses(losses)
        loss.backward()
        head.zero_grad(set_to_none=True)

    return run
