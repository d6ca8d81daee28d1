"""The measured table of trained models on one validation split: every
model's mIoU and per-class IoU, ours after every step, with adaptive exit
and with a time budget; GMACs, parameters and latency at one input size,
measured side by side in the same run; and the val mIoU during training,
read from each run's logs. A model trained on another machine, whose
checkpoint is not here, is evaluated from its training log (its last
validation) and costed with its config's weights untrained, since weights
change neither MACs nor latency."""
import copy
import glob
import json
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import nn

from mmseg.evaluation import IoUMetric
from mmseg.registry import DATASETS
from ..evaluation.deterministic_iou_metric import count_areas
from ..utils.complexity import (RecurrentSegmentorAtSteps, count_macs,
                                count_params, random_image, recurrent_macs)
from .exit_rules import parse_rule
from .formatting import giga, ratio
from .latency import describe_device, forward_run, median_latencies
from .workload import load_model

matplotlib.use('Agg')

Areas = List[torch.Tensor]
"""Summed ``area_intersect``, ``area_union``, ``area_pred_label`` and
``area_label`` of a split, as :func:`count_areas` counts them."""


@dataclass
class Evaluation:
    """mIoU (%) and per-class IoU (%) after every step (one entry for a
    model without steps), the mean steps that ran, and the mean MACs per
    image where the model counted them as they ran (per-position exit)."""
    step_miou: List[float]
    step_class_iou: List[List[float]]
    mean_steps: float
    mean_macs: Optional[float] = None

    @property
    def best_step(self) -> int:
        """The step (from 1) of the highest mIoU."""
        return int(np.argmax(self.step_miou)) + 1


@dataclass
class ModelRow:
    """Everything measured of one trained model.

    Args:
        name (str): The config's name.
        config (str): Config file.
        checkpoint (str, optional): Weights evaluated; None for a model
            whose accuracy comes from its training log.
        iteration (int, optional): Training iterations of the evaluated
            weights (None where the checkpoint does not say).
        recurrent (bool): Whether the model runs recurrent steps.
        params (int): Parameters (auxiliary head excluded).
        macs (list[float]): MACs per image after every step (one entry for
            a model without steps).
        latency (dict[int, float]): Median seconds per image by steps (0
            for a model without steps).
        evaluation (Evaluation): Accuracy on the split.
        adaptive_exit (Evaluation, optional): With ``test_cfg.adaptive_exit``.
        time_budget (Evaluation, optional): With ``test_cfg.time_budget_ms``.
        position_exits (dict): With per-position exit, by its rule (e.g.
            ``'confidence=0.7'``).
        training_curve (list): (iteration, val mIoU) of the training run.
    """
    name: str
    config: str
    checkpoint: Optional[str]
    iteration: Optional[int]
    recurrent: bool
    params: int
    macs: List[float]
    evaluation: Evaluation
    latency: Dict[int, float] = field(default_factory=dict)
    adaptive_exit: Optional[Evaluation] = None
    time_budget: Optional[Evaluation] = None
    position_exits: Dict[str, Evaluation] = field(default_factory=dict)
    training_curve: List[Tuple[int, float]] = field(default_factory=list)

    def macs_of(self, evaluation: Evaluation) -> float:
        """MACs per image of a rule's evaluation: as counted when the
        model counted them (at the split's own image sizes, which the
        table's input size should match), else :meth:`macs_at` its mean
        steps."""
        if evaluation.mean_macs is not None:
            return evaluation.mean_macs
        return self.macs_at(evaluation.mean_steps)

    def rules(self) -> List[Tuple[str, Evaluation]]:
        """(name, evaluation) of every rule evaluated besides fixed T."""
        named = [('adaptive exit', self.adaptive_exit),
                 ('time budget', self.time_budget)]
        named += [(f'per position, {rule}', evaluation)
                  for rule, evaluation in self.position_exits.items()]
        return [(name, value) for name, value in named if value is not None]

    def macs_at(self, mean_steps: float) -> float:
        """MACs per image after ``mean_steps`` steps on average (linear
        between whole steps, as every step after the first costs alike)."""
        if not self.recurrent:
            return self.macs[0]
        whole = min(max(int(mean_steps), 1), len(self.macs))
        fraction = mean_steps - whole
        if whole == len(self.macs) or fraction <= 0:
            return self.macs[whole - 1]
        return self.macs[whole - 1] + fraction * (
            self.macs[whole] - self.macs[whole - 1])


def dataset_classes(cfg: Config) -> Sequence[str]:
    """The class names of the config's validation dataset type."""
    return DATASETS.get(cfg.val_dataloader.dataset.type).METAINFO['classes']


@torch.no_grad()
def evaluate(model: nn.Module,
             dataloader,
             progress: Optional[ProgressBar] = None) -> Evaluation:
    """Accuracy after every step on ``dataloader``'s split.

    A prediction with ``pred_sem_seg_steps`` is counted at every step,
    otherwise its ``pred_sem_seg`` once; ``num_steps_used`` in its metainfo
    (adaptive exit, time budget) gives the steps that ran."""
    dataset = dataloader.dataset
    num_classes = len(dataset.metainfo['classes'])
    areas: List[Areas] = []
    steps_used, macs = [], []
    for batch in dataloader:
        for sample in model.test_step(batch):
            labels = (
                sample.pred_sem_seg_steps.data if 'pred_sem_seg_steps'
                in sample else sample.pred_sem_seg.data)
            ground_truth = sample.gt_sem_seg.data[0].to(labels)
            if not areas:
                areas = [[0] * 4 for _ in labels]
            for step, step_labels in enumerate(labels):
                counted = count_areas(step_labels, ground_truth, num_classes,
                                      dataset.ignore_index)
                areas[step] = [
                    total + area for total, area in zip(areas[step], counted)
                ]
            steps_used.append(
                sample.metainfo.get(
                    'mean_position_steps',
                    sample.metainfo.get('num_steps_used', len(labels))))
            if 'macs' in sample.metainfo:
                macs.append(sample.metainfo['macs'])
            if progress is not None:
                progress.update()
    metrics = [_miou(step_areas) for step_areas in areas]
    return Evaluation([miou for miou, _ in metrics],
                      [class_iou for _, class_iou in metrics],
                      float(np.mean(steps_used)),
                      float(np.mean(macs)) if macs else None)


def _miou(areas: Areas) -> Tuple[float, List[float]]:
    class_iou = IoUMetric.total_area_to_metrics(*areas, ['mIoU'])['IoU']
    class_iou = np.asarray(class_iou, np.float64) * 100
    return (round(float(np.nanmean(class_iou)),
                  2), [round(float(value), 2) for value in class_iou])


def with_test_cfg(model: nn.Module, **test_cfg) -> nn.Module:
    """The model evaluated with these ``test_cfg`` keys (the labels of the
    last step only)."""
    variant = copy.copy(model)
    variant.test_cfg = copy.deepcopy(model.test_cfg)
    variant.test_cfg.update(test_cfg, return_all_steps=False)
    return variant


def read_training_curve(work_dir: str) -> List[Tuple[int, float]]:
    """(iteration, val mIoU) of every validation of the newest run in
    ``work_dir`` (MMEngine's ``<timestamp>/vis_data/scalars.json``)."""
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')),
            reverse=True):
        with open(path) as file:
            records = [json.loads(line) for line in file if line.strip()]
        curve = [(int(record['step']), float(record['mIoU']))
                 for record in records if 'mIoU' in record]
        if curve:
            return curve
    return []


PER_CLASS_ROW = re.compile(
    r'^\|\s*(?P<name>[^|]*?)\s*\|\s*(?P<iou>[0-9.]+|nan)\s*\|')


def evaluation_from_log(
        work_dir: str,
        classes: Sequence[str]) -> Optional[Tuple[Evaluation, int]]:
    """The last validation of the newest run in ``work_dir`` and its
    iteration: mIoU after every step (``mIoU@t`` of MMEngine's
    ``scalars.json``, or ``mIoU`` once for a model without steps) and the
    per-class IoU of the run log's last "per class results" table (the
    last step's, as MMSeg's metric prints it). None if the run never
    validated."""
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data')))
    if not runs:
        return None
    run = osp.dirname(runs[-1])
    with open(osp.join(run, 'vis_data', 'scalars.json')) as file:
        records = [json.loads(line) for line in file if line.strip()]
    validations = [record for record in records if 'mIoU' in record]
    if not validations:
        return None
    last = validations[-1]
    step_miou = [
        round(float(last[f'mIoU@{step}']), 2)
        for step in range(1,
                          len(last) + 1) if f'mIoU@{step}' in last
    ] or [round(float(last['mIoU']), 2)]
    class_iou = _last_class_table(
        osp.join(run, f'{osp.basename(run)}.log'), classes)
    step_class_iou = [[float('nan')] * len(classes)] * (len(step_miou) - 1)
    return Evaluation(step_miou, step_class_iou + [class_iou],
                      float(len(step_miou))), int(last['step'])


def _last_class_table(log_path: str, classes: Sequence[str]) -> List[float]:
    """IoU of each of ``classes`` in the last per-class table of the log
    (NaN for a class the log has no table of)."""
    table: Dict[str, float] = {}
    with open(log_path) as file:
        for line in file:
            if 'per class results' in line:
                table = {}
            match = PER_CLASS_ROW.match(line.strip())
            if match and match['name'] in classes:
                table[match['name']] = float(match['iou'])
    return [table.get(name, float('nan')) for name in classes]


def checkpoint_iteration(checkpoint: str) -> Optional[int]:
    """The training iteration a checkpoint records in its ``meta``."""
    meta = torch.load(
        checkpoint, map_location='cpu', weights_only=True).get('meta', {})
    return meta.get('iter')


def measure_costs(rows: Sequence[ModelRow],
                  models: Sequence[nn.Module],
                  shape: Tuple[int, int],
                  latency_steps: Sequence[int],
                  repeats: int,
                  device: str = 'cpu') -> str:
    """Fills every row's ``params``, ``macs`` and ``latency`` at ``shape``;
    our models are timed at each of ``latency_steps``, all runs interleaved.

    Returns:
        str: The device, in words.
    """
    runs = {}
    for index, (row, model) in enumerate(zip(rows, models)):
        image = random_image(model, shape)
        row.params = count_params(_without_auxiliary_head(model))
        if row.recurrent:
            max_steps = len(row.evaluation.step_miou)
            macs = recurrent_macs(model, shape, max_steps)
            row.macs = [
                float(macs.total(steps)) for steps in range(1, max_steps + 1)
            ]
            for steps in latency_steps:
                module = RecurrentSegmentorAtSteps(model, steps)
                runs[(index, steps)] = forward_run(module, image)
        else:
            row.macs = [float(count_macs(model, (image, )))]
            runs[(index, 0)] = forward_run(model, image)
    if repeats:
        latencies = median_latencies(
            runs, torch.device(device), repeats=repeats)
        for (index, steps), seconds in latencies.items():
            rows[index].latency[steps] = seconds
    return describe_device(torch.device(device))


def _without_auxiliary_head(model: nn.Module) -> nn.Module:
    """What inference runs: the model less its auxiliary head."""
    module = nn.Module()
    module.backbone = model.backbone
    module.decode_head = model.decode_head
    return module


def evaluate_row(
    name: str,
    cfg: Config,
    checkpoint: Optional[str],
    work_dir: str,
    adaptive_exit: Optional[dict] = None,
    time_budget_ms: Optional[float] = None,
    device: str = 'cpu',
    position_exits: Sequence[str] = ()
) -> Tuple[ModelRow, nn.Module]:
    """Evaluates one trained model on its ``val_dataloader`` (see
    :func:`~.workload.load_model`): every step, and for a recurrent model
    (which returns the labels after every step) also with ``adaptive_exit``,
    ``time_budget_ms`` and per-position exit with each rule of
    ``position_exits`` (``'KEY=VALUE'`` of ``test_cfg.adaptive_exit``,
    e.g. ``'confidence=0.7'``) when given. Without a ``checkpoint`` its
    accuracy is its training log's last validation
    (:func:`evaluation_from_log`) and the model returned is untrained, for
    the costs, which :func:`measure_costs` fills.

    Raises:
        FileNotFoundError: Without a checkpoint and a validation in the
            log.
    """
    recurrent = 'num_steps' in cfg.model.get('test_cfg', {})
    if recurrent:
        cfg = copy.deepcopy(cfg)
        cfg.model.test_cfg.return_all_steps = True
    model = load_model(cfg, checkpoint, device)
    if checkpoint is None:
        logged = evaluation_from_log(work_dir, dataset_classes(cfg))
        if logged is None:
            raise FileNotFoundError(
                f'{work_dir} has neither a last_checkpoint nor a validation '
                f'in a training log: train {cfg.filename} first (--train)')
        evaluation, iteration = logged
        row = ModelRow(name, cfg.filename, None, iteration, recurrent, 0, [],
                       evaluation)
        row.training_curve = read_training_curve(work_dir)
        return row, model
    dataloader = Runner.build_dataloader(cfg.val_dataloader)
    variants = int(recurrent) * (
        (adaptive_exit is not None) +
        (time_budget_ms is not None) + len(position_exits))
    progress = ProgressBar(len(dataloader.dataset) * (1 + variants))
    row = ModelRow(name, cfg.filename, checkpoint,
                   checkpoint_iteration(checkpoint), recurrent, 0, [],
                   evaluate(model, dataloader, progress))
    if recurrent and adaptive_exit is not None:
        row.adaptive_exit = evaluate(
            with_test_cfg(model, adaptive_exit=adaptive_exit), dataloader,
            progress)
    if recurrent and time_budget_ms is not None:
        row.time_budget = evaluate(
            with_test_cfg(model, time_budget_ms=time_budget_ms), dataloader,
            progress)
    for rule in position_exits if recurrent else ():
        row.position_exits[rule] = evaluate(
            with_test_cfg(model, adaptive_exit=position_exit_config(rule)),
            dataloader, progress)
    row.training_curve = read_training_curve(work_dir)
    return row, model


def position_exit_config(rule: str) -> dict:
    """``test_cfg.adaptive_exit`` of per-position exit with one rule such as
    ``'confidence=0.7'`` or ``'settle_steps=2,min_steps=2'`` (see
    :func:`~.exit_rules.parse_rule`, which names a bad rule in
    its ValueError)."""
    return dict(per_position=True, **parse_rule(rule))


def reference_row(rows: Sequence[ModelRow],
                  name_part: str = 'deeplabv3') -> Optional[ModelRow]:
    """The first model whose name contains ``name_part``."""
    return next((row for row in rows if name_part in row.name), None)


def _ms(seconds: Optional[float]) -> str:
    return '' if seconds is None else f'{seconds * 1e3:.1f}'


def markdown_tables(rows: Sequence[ModelRow], classes: Sequence[str],
                    shape: Tuple[int, int], device: str) -> str:
    """The summary, per-class, per-step and training-curve tables."""
    return '\n\n'.join([
        _summary_table(rows, shape, device),
        _class_table(rows, classes),
        _step_table(rows),
        _training_table(rows)
    ]) + '\n'


def _summary_table(rows: Sequence[ModelRow], shape: Tuple[int, int],
                   device: str) -> str:
    reference = reference_row(rows)
    lines = [
        f'Input {shape[0]}x{shape[1]}; latency: median seconds per image on '
        f'{device}, every model timed in the same run, interleaved; GMACs: '
        "MMEngine's counter (multiply-accumulates), backbone and decode "
        'head; iterations: training iterations of the weights evaluated '
        '(log: accuracy from the training log\'s last validation).', '',
        '| model | iterations | steps | params (M) | GMACs | ratio to '
        'DeepLabV3 GMACs | latency (ms) | ratio to DeepLabV3 latency | '
        'val mIoU |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
    ]
    reference_macs = reference.macs[0] if reference else None
    reference_latency = reference.latency.get(0) if reference else None
    for row in rows:
        trained = f'{row.iteration}' + (' (log)'
                                        if row.checkpoint is None else '')
        for steps in sorted(row.latency) or [0]:
            index = max(steps, 1) - 1
            macs = row.macs[index]
            latency = row.latency.get(steps)
            lines.append(f'| {row.name} | {trained} | {steps or ""} | '
                         f'{row.params / 1e6:.2f} | {giga(macs)} | '
                         f'{ratio(macs, reference_macs)} | {_ms(latency)} | '
                         f'{ratio(latency, reference_latency)} | '
                         f'{row.evaluation.step_miou[index]:.2f} |')
    return '\n'.join(lines)


def _class_table(rows: Sequence[ModelRow], classes: Sequence[str]) -> str:
    lines = [
        '| model | step | mIoU | ' + ' | '.join(classes) + ' |',
        '| --- | ---: | ---: |' + ' ---: |' * len(classes)
    ]
    for row in rows:
        step = row.evaluation.best_step
        values = row.evaluation.step_class_iou[step - 1]
        lines.append(f'| {row.name} | {step if row.recurrent else ""} | '
                     f'{row.evaluation.step_miou[step - 1]:.2f} | ' +
                     ' | '.join(f'{value:.2f}' for value in values) + ' |')
    return '\n'.join(lines)


def _step_table(rows: Sequence[ModelRow]) -> str:
    lines = [
        '| model | rule | mean steps | GMACs | val mIoU |',
        '| --- | --- | ---: | ---: | ---: |'
    ]
    for row in rows:
        if not row.recurrent:
            continue
        for step, miou in enumerate(row.evaluation.step_miou, 1):
            lines.append(f'| {row.name} | {step} steps | {step} | '
                         f'{giga(row.macs[step - 1])} | {miou:.2f} |')
        for rule, evaluation in row.rules():
            lines.append(
                f'| {row.name} | {rule} | {evaluation.mean_steps:.2f} | '
                f'{giga(row.macs_of(evaluation))} | '
                f'{evaluation.step_miou[-1]:.2f} |')
    return '\n'.join(lines)


def _training_table(rows: Sequence[ModelRow]) -> str:
    iterations = sorted({it for row in rows for it, _ in row.training_curve})
    lines = [
        '| iteration | ' + ' | '.join(row.name for row in rows) + ' |',
        '| ---: |' + ' ---: |' * len(rows)
    ]
    for iteration in iterations:
        values = [dict(row.training_curve).get(iteration) for row in rows]
        lines.append(f'| {iteration} | ' +
                     ' | '.join('' if value is None else f'{value:.2f}'
                                for value in values) + ' |')
    return '\n'.join(lines)


def target_findings(rows: Sequence[ModelRow],
                    tolerance: float = 1.5) -> List[str]:
    """Each recurrent model against DeepLabV3: best T within ``tolerance``
    mIoU, some T within it at no more than half the GMACs, and step 1 at
    least 0.85x the best; each as met or not met with its numbers."""
    reference = reference_row(rows)
    findings = []
    if reference is None:
        return findings
    target = reference.evaluation.step_miou[0] - tolerance
    for row in rows:
        if not row.recurrent:
            continue
        mious = row.evaluation.step_miou
        best = max(mious)
        cheap = [(miou, macs) for miou, macs in zip(mious, row.macs)
                 if macs <= 0.5 * reference.macs[0]]
        cheap_best = max(cheap, default=None)
        findings += [
            f'{row.name}: best T ({row.evaluation.best_step}) {best:.2f} '
            f'against DeepLabV3 {reference.evaluation.step_miou[0]:.2f}: '
            f'{_met(best >= target)}',
            f'{row.name}: best mIoU at <= 0.5x DeepLabV3 GMACs ' +
            (f'{cheap_best[0]:.2f} at {cheap_best[1] / reference.macs[0]:.3f}'
             f'x: {_met(cheap_best[0] >= target)}'
             if cheap_best else 'no step is that cheap: not met'),
            f'{row.name}: step 1 {mious[0]:.2f} = '
            f'{mious[0] / best:.3f}x the best: {_met(mious[0] >= 0.85 * best)}'
        ]
    return findings


def _met(condition: bool) -> str:
    return 'met' if condition else 'not met'


RULE_MARKERS = {'adaptive exit': '*', 'time budget': 'D', 'per position': '^'}


def short_names(names: Sequence[str]) -> List[str]:
    """``names`` without the ``_``-separated parts they all share at their
    start and end (the backbone, schedule and dataset of one table)."""
    parts = [name.split('_') for name in names]
    if len(parts) < 2:
        return list(names)
    shared_start = 0
    while (shared_start < min(map(len, parts)) - 1
           and len({p[shared_start]
                    for p in parts}) == 1):
        shared_start += 1
    shared_end = 0
    while (shared_end < min(map(len, parts)) - shared_start - 1
           and len({p[-1 - shared_end]
                    for p in parts}) == 1):
        shared_end += 1
    return ['_'.join(p[shared_start:len(p) - shared_end]) for p in parts]


def plot_accuracy_against_macs(rows: Sequence[ModelRow], path: str,
                               shape: Tuple[int, int]) -> None:
    """mIoU against GMACs: ours after every step (with the adaptive-exit and
    time-budget points), the baselines as points; the legend, beside the
    axes, names the models by what tells them apart."""
    figure = Figure(figsize=(9, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for row, name in zip(rows, short_names([row.name for row in rows])):
        gmacs = np.asarray(row.macs) / 1e9
        if not row.recurrent:
            axes.plot(gmacs, row.evaluation.step_miou, 's', ms=8, label=name)
            continue
        (line, ) = axes.plot(
            gmacs,
            row.evaluation.step_miou,
            'o-',
            ms=3,
            label=f'{name}, T = 1..{len(row.macs)}')
        for rule, evaluation in row.rules():
            axes.plot(
                row.macs_of(evaluation) / 1e9,
                evaluation.step_miou[-1],
                RULE_MARKERS[rule.split(',')[0]],
                color=line.get_color(),
                ms=8,
                label=f'{name}, {rule}')
    axes.set_xlabel(f'GMACs per {shape[0]}x{shape[1]} image')
    axes.set_ylabel('val mIoU (%)')
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=150)
