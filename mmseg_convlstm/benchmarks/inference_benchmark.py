"""What the variable budget costs in time and memory, measured in one run on
one machine: latency at T steps with and without the cached input
projection against DeepLabV3 and PSPNet, the one-pass evaluation of every
step against evaluating the last step alone, and peak training memory."""
import copy
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from ..utils.complexity import (RecurrentSegmentorAtSteps,
                                input_projection_cache, random_image)
from ..models.acceleration.cuda_graph_steps import CUDAGraphSteps
from ..models.exits.step_loop import run_until
from ..utils.model_zoo import load_mmseg_config
from .baselines import BENCHMARK_BASELINES, load_baselines, model_title
from .formatting import ratio
from .latency import (autocast_run, describe_device, forward_run, graphed_run,
                      median_latencies)
from .memory import MIB, memory_measure, peak_training_memory
from .workload import check_training_batch, load_model, model_at_steps


@dataclass
class LatencyRow:
    """Median latency of one model; ``steps`` and ``cached`` are None for a
    baseline; ``cuda_graph`` says whether it was replayed from CUDA
    graphs."""
    model: str
    steps: Optional[int]
    cached: Optional[bool]
    latency: float
    cuda_graph: bool = False

    @property
    def title(self) -> str:
        """The model, marked when replayed from CUDA graphs."""
        return self.model + (' (CUDA graph)' if self.cuda_graph else '')


@dataclass
class MemoryRow:
    """Peak memory of one training step; ``steps`` is None for a
    baseline."""
    model: str
    steps: Optional[int]
    peak_bytes: int


@dataclass
class BudgetBenchmark:
    """The measurements of :func:`benchmark_budget`.

    Args:
        shape (tuple[int, int]): Input (H, W) of the latency runs.
        device (str): Where everything ran, in words.
        repeats (int): Timed runs per latency.
        latencies (list[LatencyRow]): Ours at each T with and without the
            cache, then the baselines.
        one_pass (tuple[int, float, float]): T, and the median seconds of
            predicting step T alone and of predicting steps 1..T in one pass.
        train_crop (tuple[int, int]): Crop of the training steps.
        train_batch (int): Batch of the training steps.
        memory (list[MemoryRow]): Ours at each T, then the first baseline.
        memory_measure (str): What ``peak_bytes`` measures.
        amp (str, optional): Autocast dtype of the latency runs ('fp16' or
            'bf16'); None for fp32.
        per_step (dict[str, float]): Seconds that one more step adds to our
            latency (with the cache), between the fewest and the most steps
            measured: 'eager' and, with CUDA graphs, 'CUDA graph'.
    """
    shape: Tuple[int, int]
    device: str
    repeats: int
    latencies: List[LatencyRow]
    one_pass: Tuple[int, float, float]
    train_crop: Tuple[int, int]
    train_batch: int
    memory: List[MemoryRow]
    memory_measure: str
    amp: Optional[str] = None
    per_step: Dict[str, float] = field(default_factory=dict)

    def markdown(self) -> str:
        """Three Markdown tables: latency, one-pass evaluation, memory."""
        baselines = [row for row in self.latencies if row.steps is None]
        height, width = self.shape
        precision = f'autocast {self.amp}' if self.amp else 'fp32'
        lines = [
            f'Latency at {height}x{width}, one image, {precision}, median of '
            f'{self.repeats} interleaved runs, {self.device}:', '',
            '| model | steps | cached input projection | latency (ms) | ' +
            ' | '.join(f'/ {row.title}' for row in baselines) + ' |',
            '| --- | ---: | --- | ---: |' + ' ---: |' * len(baselines)
        ]
        for row in self.latencies:
            cached = '' if row.cached is None else (
                'yes' if row.cached else 'no')
            steps = '' if row.steps is None else row.steps
            ratios = ' | '.join(
                ratio(row.latency, baseline.latency) for baseline in baselines)
            lines.append(f'| {row.title} | {steps} | {cached} | '
                         f'{row.latency * 1e3:.0f} | {ratios} |')
        if self.per_step:
            lines += [
                '', 'One more recurrent step adds (marginal latency): ' +
                ', '.join(f'{seconds * 1e3:.2f} ms {mode}'
                          for mode, seconds in self.per_step.items())
            ]
        steps, alone, one_pass = self.one_pass
        lines += [
            '', f'Evaluation (`model.predict`, labels at {height}x{width}) '
            f'at T={steps}:', '',
            '| step T alone (ms) | steps 1..T in one pass (ms) | ratio |',
            '| ---: | ---: | ---: |',
            f'| {alone * 1e3:.0f} | {one_pass * 1e3:.0f} | '
            f'{ratio(one_pass, alone)} |'
        ]
        if self.memory:
            crop_h, crop_w = self.train_crop
            reference = self.memory[-1]
            lines += [
                '', f'Peak memory of one training step (forward and '
                f'backward), {crop_h}x{crop_w} crop, batch '
                f'{self.train_batch}: {self.memory_measure}.', '',
                f'| model | steps | peak (MiB) | / {reference.model} |',
                '| --- | ---: | ---: | ---: |'
            ]
            for row in self.memory:
                steps = '' if row.steps is None else row.steps
                relative = ratio(row.peak_bytes, reference.peak_bytes)
                lines.append(f'| {row.model} | {steps} | '
                             f'{row.peak_bytes / MIB:.0f} | {relative} |')
        return '\n'.join(lines) + '\n'


def benchmark_budget(cfg: Config,
                     shape: Tuple[int, int],
                     steps: Sequence[int] = (1, 4, 10),
                     baselines: Sequence[str] = BENCHMARK_BASELINES,
                     repeats: int = 5,
                     device: str = 'cpu',
                     train_crop: Optional[Tuple[int, int]] = None,
                     train_batch: int = 2,
                     measure_memory: bool = True,
                     cuda_graph: bool = False,
                     amp: Optional[str] = None) -> BudgetBenchmark:
    """Measures latency, one-pass evaluation and training memory.

    Args:
        cfg (Config): Our config.
        shape (tuple[int, int]): Input (H, W) of the latency runs.
        steps (Sequence[int]): Numbers of steps to measure.
            Default: (1, 4, 10).
        baselines (Sequence[str]): Baseline configs (files or
            ``mmseg::...``); the first is the reference of the memory table.
            Default: DeepLabV3 R-101-D8, PSPNet R-101-D8.
        repeats (int): Timed runs per latency. Default: 5.
        device (str): Device. Default: 'cpu'.
        train_crop (tuple[int, int], optional): Crop of the training steps;
            default ``shape``.
        train_batch (int): Batch of the training steps, at least 2.
            Default: 2.
        measure_memory (bool): Whether to measure training memory.
        cuda_graph (bool): Whether to measure ours and the baselines also
            replayed from CUDA graphs (ours step by step with
            :class:`CUDAGraphSteps`, the baselines' whole forward), and to
            predict with ``test_cfg.cuda_graph``. Without CUDA it says so
            and runs eagerly. Default: False.
        amp (str, optional): Run the latency measurements under autocast to
            'fp16' or 'bf16'; the training memory stays fp32. Default: None.

    Returns:
        BudgetBenchmark: The measurements.
    """
    if measure_memory:
        check_training_batch(train_batch, 'train_batch')
    model = load_model(cfg, device=device)
    baseline_models = load_baselines(baselines, device)
    titles = [model_title(config) for config in baselines]
    image = random_image(model, shape)
    graphed = _graphs_available(cuda_graph, device)
    runs = _latency_runs(model, dict(zip(titles, baseline_models)), steps,
                         image, graphed)
    last = max(steps)
    for all_steps in (False, True):
        runs[('predict', all_steps)] = _predict_run(model, last, all_steps,
                                                    image, graphed)
    runs = {
        key: autocast_run(run, torch.device(device), amp)
        for key, run in runs.items()
    }
    memory_runs = len(steps) + 1 if measure_memory else 0
    progress = ProgressBar(repeats * len(runs) + memory_runs)
    latencies = median_latencies(
        runs, torch.device(device), repeats=repeats, progress=progress)
    rows = [
        LatencyRow(key[0], key[1], key[2], seconds, key[3])
        for key, seconds in latencies.items() if key[0] != 'predict'
    ]
    memory = []
    if measure_memory:
        crop = tuple(train_crop or shape)
        for num_steps in steps:
            memory.append(
                MemoryRow(
                    'ours', num_steps,
                    peak_training_memory(
                        model_at_steps(cfg.model, num_steps), crop,
                        train_batch, device)))
            progress.update()
        memory.append(
            MemoryRow(
                titles[0], None,
                peak_training_memory(
                    load_mmseg_config(baselines[0]).model, crop, train_batch,
                    device)))
        progress.update()
    return BudgetBenchmark(
        shape=tuple(shape),
        device=describe_device(torch.device(device)),
        repeats=repeats,
        latencies=rows,
        one_pass=(last, latencies[('predict', False)], latencies[('predict',
                                                                  True)]),
        train_crop=tuple(train_crop or shape),
        train_batch=train_batch,
        memory=memory,
        memory_measure=memory_measure(device),
        amp=amp,
        per_step=per_step_latency(rows))


def _graphs_available(cuda_graph: bool, device: str) -> bool:
    if cuda_graph and torch.device(device).type != 'cuda':
        print_log(
            f'--cuda-graph: CUDA graphs need a CUDA device; on {device} '
            'everything runs eagerly',
            logger='current')
        return False
    return cuda_graph


def _latency_runs(model: torch.nn.Module,
                  baselines: Dict[str, torch.nn.Module], steps: Sequence[int],
                  image: torch.Tensor, graphed: bool) -> dict:
    """The runs to time, keyed by (model, steps, cached, cuda_graph): ours
    at every T with and without the cache, and the baselines; with
    ``graphed`` also ours (cached) and the baselines from CUDA graphs."""
    runs = {}
    for cached in (True, False):
        for num_steps in steps:
            runs[('ours', num_steps, cached,
                  False)] = _steps_run(model, num_steps, cached, image)
    if graphed:
        # Captured at the first (untimed, warm-up) use of the image.
        graph_steps = CUDAGraphSteps(model, capture_after=1)
        for num_steps in steps:
            runs[('ours', num_steps, True,
                  True)] = _graphed_steps_run(graph_steps, num_steps, image)
    for title, baseline in baselines.items():
        runs[(title, None, None, False)] = forward_run(baseline, image)
        if graphed:
            runs[(title, None, None,
                  True)] = graphed_run(forward_run(baseline, image))
    return runs


def per_step_latency(rows: List[LatencyRow]) -> Dict[str, float]:
    """Seconds one more step adds with the cache, between the fewest and
    the most steps measured, eager and from CUDA graphs."""
    per_step = {}
    for mode, graphed in (('eager', False), ('CUDA graph', True)):
        ours = sorted((row.steps, row.latency) for row in rows
                      if row.cached and row.cuda_graph == graphed)
        if len(ours) >= 2 and ours[-1][0] > ours[0][0]:
            (fewest, first), (most, last) = ours[0], ours[-1]
            per_step[mode] = (last - first) / (most - fewest)
    return per_step


def _graphed_steps_run(graph_steps: CUDAGraphSteps, num_steps: int,
                       image: torch.Tensor) -> Callable[[], object]:
    return lambda: run_until(graph_steps.steps(image), num_steps)


def _steps_run(model: torch.nn.Module, num_steps: int, cached: bool,
               image: torch.Tensor) -> Callable[[], object]:
    at_steps = RecurrentSegmentorAtSteps(model, num_steps)

    def run():
        with input_projection_cache(model, cached):
            return at_steps(image)

    return run


def _predict_run(model: torch.nn.Module, num_steps: int, all_steps: bool,
                 image: torch.Tensor,
                 cuda_graph: bool) -> Callable[[], object]:
    """Predicts labels after ``num_steps`` steps, with those of every step
    before when ``all_steps``."""
    test_cfg = copy.deepcopy(model.test_cfg)
    test_cfg.pop('adaptive_exit', None)
    test_cfg.pop('time_budget_ms', None)
    test_cfg.update(
        num_steps=num_steps, return_all_steps=all_steps, cuda_graph=cuda_graph)

    def run():
        model.test_cfg = test_cfg
        return model.predict(image)

    return run
