"""The budget curve: cost (MACs, parameters, latency) and accuracy of the
recurrent model at every number of steps, next to MMSeg's PSPNet and
DeepLabV3 measured in the same run."""
import json
import math
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.utils import ProgressBar

from ..utils.complexity import (RecurrentSegmentorAtSteps, count_macs,
                                count_params, per_step_macs, random_image,
                                recurrent_macs)
from ..utils.model_zoo import zoo_model
from .baselines import BASELINE_CONFIGS, load_baselines, model_title
from .formatting import giga, ratio, save_miou_plot
from .latency import describe_device, forward_run, median_latencies
from .workload import load_model

OURS = 'ours'
ADAPTIVE_EXIT = 'ours, adaptive exit'


@dataclass
class BudgetPoint:
    """Cost and accuracy of one model at one budget.

    Args:
        model (str): ``ours``, ``ours, adaptive exit`` or a baseline's name.
        steps (float, optional): Recurrent steps (their mean over images
            with adaptive exit); None for a baseline.
        macs (float): Multiply-accumulates per image.
        params (int): Parameters.
        latency (float, optional): Median seconds per image; None when not
            measured.
        miou (float, optional): mIoU in percent; None when unknown.
        miou_source (str): Where the mIoU comes from.
    """
    model: str
    steps: Optional[float]
    macs: float
    params: int
    latency: Optional[float] = None
    miou: Optional[float] = None
    miou_source: str = ''


@dataclass
class BudgetCurve:
    """Everything one run of the budget curve measured.

    Args:
        config (str): Our config file.
        shape (tuple[int, int]): Input (H, W).
        device (str): Where latency was measured, in words.
        repeats (int): Timed runs per latency (0: latency not measured).
        step_macs (tuple[int, int]): MACs of a step after the first, with
            and without the cached input projection.
        ours (list[BudgetPoint]): Our model at 1, 2, ... steps.
        baselines (list[BudgetPoint]): The baselines.
        adaptive_exit (BudgetPoint, optional): Our model with adaptive exit.
    """
    config: str
    shape: Tuple[int, int]
    device: str
    repeats: int
    step_macs: Tuple[int, int]
    ours: List[BudgetPoint]
    baselines: List[BudgetPoint]
    adaptive_exit: Optional[BudgetPoint] = None

    @property
    def points(self) -> List[BudgetPoint]:
        """Ours, the adaptive-exit point, the baselines."""
        extra = [self.adaptive_exit] if self.adaptive_exit else []
        return self.ours + extra + self.baselines

    def markdown(self) -> str:
        """The table and the ratios to each baseline, in Markdown."""
        height, width = self.shape
        latency = (f'median of {self.repeats} runs, {self.device}'
                   if self.repeats else 'not measured')
        lines = [
            f'Budget curve of `{self.config}` at {height}x{width} input, one '
            'image. GMACs: multiply-accumulates (MMEngine\'s counter, which '
            f'calls them "flops"); latency: {latency}.', '',
            '| model | steps | GMACs | params (M) | latency (ms) | mIoU | '
            'mIoU from |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |'
        ]
        lines += [_table_row(point) for point in self.points]
        cached, uncached = self.step_macs
        lines += [
            '', f'Each recurrent step after the first costs '
            f'{giga(cached)} GMACs with the cached input projection, '
            f'{giga(uncached)} without.'
        ]
        last = self.ours[-1]
        for baseline in self.baselines:
            lines.append(f'- ours at {last.steps:g} steps / '
                         f'{baseline.model}: '
                         f'{ratio(last.macs, baseline.macs)}x GMACs' +
                         _latency_ratio(last, baseline))
        return '\n'.join(lines) + '\n'


def _table_row(point: BudgetPoint) -> str:
    steps = '' if point.steps is None else f'{point.steps:.2f}'.rstrip(
        '0').rstrip('.')
    latency = ('n/a'
               if point.latency is None else f'{point.latency * 1e3:.0f}')
    miou = 'n/a' if point.miou is None else f'{point.miou:.2f}'
    return (f'| {point.model} | {steps} | {giga(point.macs)} | '
            f'{point.params / 1e6:.1f} | {latency} | {miou} | '
            f'{point.miou_source} |')


def _latency_ratio(point: BudgetPoint, baseline: BudgetPoint) -> str:
    latency = ratio(point.latency, baseline.latency)
    return f', {latency}x latency' if latency else ''


def read_anytime_json(path: str) -> Dict[int, float]:
    """mIoU after every step from an :class:`AnytimeIoUMetric` JSON."""
    content = _read_json(path)
    try:
        return {int(step['step']): step['mIoU'] for step in content['steps']}
    except (KeyError, TypeError) as error:
        raise ValueError(
            f'{path} is not an AnytimeIoUMetric JSON: it needs a "steps" list '
            f'of objects with "step" and "mIoU" (missing {error})') from None


def read_adaptive_exit_json(path: str) -> Tuple[float, float]:
    """Mean steps and mIoU from an :class:`AdaptiveExitIoUMetric` JSON."""
    content = _read_json(path)
    try:
        return float(content['mean_steps']), float(content['mIoU'])
    except (KeyError, TypeError) as error:
        raise ValueError(
            f'{path} is not an AdaptiveExitIoUMetric JSON: it needs '
            f'"mean_steps" and "mIoU" (missing {error})') from None


def _read_json(path: str):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    with open(path) as file:
        try:
            return json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f'{path} is not valid JSON: {error}') from None


def measure_budget_curve(cfg: Config,
                         shape: Tuple[int, int],
                         max_steps: int,
                         checkpoint: Optional[str] = None,
                         anytime_json: Optional[str] = None,
                         adaptive_json: Optional[str] = None,
                         baselines: Sequence[str] = BASELINE_CONFIGS,
                         repeats: int = 5,
                         device: str = 'cpu') -> BudgetCurve:
    """Measures our model at 1..``max_steps`` steps and the baselines.

    Args:
        cfg (Config): Our config.
        shape (tuple[int, int]): Input (H, W).
        max_steps (int): Most recurrent steps to measure.
        checkpoint (str, optional): Our weights (they change no cost).
        anytime_json (str, optional): :class:`AnytimeIoUMetric` JSON giving
            our mIoU at every step.
        adaptive_json (str, optional): :class:`AdaptiveExitIoUMetric` JSON
            giving our mean steps and mIoU with adaptive exit.
        baselines (Sequence[str]): Configs of the baselines, files or
            ``mmseg::...``; their mIoU comes from MMSeg's model zoo, for the
            dataset of ``cfg.test_dataloader``. Default: PSPNet R-101-D8,
            DeepLabV3 R-101-D8 and DeepLabV3 R-101-D16-MG124.
        repeats (int): Timed runs per latency; 0 skips latency.
        device (str): Device of the latency runs. Default: 'cpu'.

    Returns:
        BudgetCurve: The measurements.
    """
    if max_steps < 1:
        raise ValueError(f'max_steps must be at least 1, got {max_steps}')
    model = load_model(cfg, checkpoint, device)
    dataset_type = cfg.get('test_dataloader', {}).get('dataset',
                                                      {}).get('type')
    baseline_models = load_baselines(baselines, device)
    progress = ProgressBar(1 + len(baselines) + repeats *
                           (max_steps + len(baselines)))
    macs = recurrent_macs(model, shape, max_steps)
    step_macs = per_step_macs(model, shape)
    progress.update()
    image = random_image(model, shape)
    params = count_params(model)
    anytime_miou = read_anytime_json(anytime_json) if anytime_json else {}
    ours = [
        BudgetPoint(
            OURS,
            steps,
            macs.total(steps),
            params,
            miou=anytime_miou.get(steps),
            miou_source='anytime JSON' if steps in anytime_miou else '')
        for steps in range(1, max_steps + 1)
    ]
    baseline_points = []
    for config, baseline in zip(baselines, baseline_models):
        baseline_points.append(
            _baseline_point(config, baseline, image, dataset_type))
        progress.update()
    if repeats:
        modules = [
            RecurrentSegmentorAtSteps(model, point.steps) for point in ours
        ] + baseline_models
        latencies = median_latencies(
            {
                index: forward_run(module, image)
                for index, module in enumerate(modules)
            },
            torch.device(device),
            repeats=repeats,
            progress=progress)
        for index, point in enumerate(ours + baseline_points):
            point.latency = latencies[index]
    adaptive_point = None
    if adaptive_json:
        mean_steps, miou = read_adaptive_exit_json(adaptive_json)
        adaptive_point = BudgetPoint(ADAPTIVE_EXIT, mean_steps,
                                     macs.mean(mean_steps), params, None, miou,
                                     'adaptive-exit JSON')
    return BudgetCurve(
        config=cfg.filename or '',
        shape=tuple(shape),
        device=describe_device(torch.device(device)),
        repeats=repeats,
        step_macs=step_macs,
        ours=ours,
        baselines=baseline_points,
        adaptive_exit=adaptive_point)


def _baseline_point(config: str, model: torch.nn.Module, image: torch.Tensor,
                    dataset_type: Optional[str]) -> BudgetPoint:
    zoo = zoo_model(config)
    result = zoo.best_result(dataset_type) if zoo else None
    return BudgetPoint(
        model_title(config),
        None,
        count_macs(model, (image, )),
        count_params(model),
        miou=result.miou if result else None,
        miou_source=f'model zoo: {result.name}' if result else '')


def plot_budget_curve(curve: BudgetCurve, path: str) -> None:
    """Saves a PNG of mIoU against GMACs: our steps as a curve (as a band of
    GMACs when their mIoU is unknown), the adaptive-exit point and the
    baselines."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5))
    known = [point for point in curve.ours if point.miou is not None]
    if known:
        axes.plot([point.macs / 1e9 for point in known],
                  [point.miou for point in known],
                  'o-',
                  label='ours, T steps')
        every = max(1, math.ceil((len(known) - 1) / 4))
        for point in known[::-every]:
            axes.annotate(
                f'T={point.steps:g}', (point.macs / 1e9, point.miou),
                textcoords='offset points',
                xytext=(6, -10),
                fontsize=8)
    else:
        first, last = curve.ours[0].macs / 1e9, curve.ours[-1].macs / 1e9
        axes.axvspan(
            first,
            max(last, first * 1.01),
            color='tab:blue',
            alpha=0.2,
            label=f'ours, T=1..{len(curve.ours)} (mIoU unknown: pass '
            '--anytime-json)')
    if curve.adaptive_exit is not None:
        point = curve.adaptive_exit
        _plot_point(
            axes, point, '*', 14,
            f'ours, adaptive exit ({point.steps:.2f} steps on average)')
    for point in curve.baselines:
        if point.miou is None:
            axes.axvline(
                point.macs / 1e9,
                color='grey',
                linestyle='--',
                label=f'{point.model} (no model-zoo mIoU)')
        else:
            _plot_point(axes, point, 's', 8,
                        f'{point.model} (model zoo: {point.miou:.2f})')
    mious = [point.miou for point in curve.points if point.miou is not None]
    if mious:
        margin = max(2.0, 0.1 * (max(mious) - min(mious)))
        axes.set_ylim(min(mious) - margin, max(mious) + margin)
    height, width = curve.shape
    axes.set_xlim(0, 1.08 * max(point.macs / 1e9 for point in curve.points))
    axes.set_xlabel(f'GMACs per {height}x{width} image')
    save_miou_plot(figure, axes, 'Accuracy against computational budget', path)


def _plot_point(axes, point: BudgetPoint, marker: str, size: int,
                label: str) -> None:
    axes.plot(
        point.macs / 1e9, point.miou, marker, markersize=size, label=label)
