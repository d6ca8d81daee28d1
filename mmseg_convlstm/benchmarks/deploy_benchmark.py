"""Latency of the deployed recurrent model in ONNX Runtime and OpenVINO
against PyTorch eager, and against MMSeg's baselines exported the same way
(one graph each), in one interleaved run; how a time budget holds on the
deployed model; mIoU against milliseconds."""
import copy
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from statistics import median
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from ..deploy.backends import BACKENDS, load_graph
from ..deploy.deployed_segmentor import DeployedSegmentor
from ..deploy.export import deployable_copy, export_graph, load_checked_model
from ..deploy.graph_modules import PROLOGUE, STEP, PrologueGraph, StepGraph
from ..deploy.manifest import GraphSpec
from ..utils.model_zoo import load_mmseg_config
from .baselines import model_title
from .formatting import ratio, save_miou_plot
from .latency import median_latencies
from .measured_table import with_test_cfg
from .workload import load_model

EAGER = 'pytorch'
ENGINES = (EAGER, ) + BACKENDS
OURS = 'ours'
PARTS = ('prologue', 'step')


@dataclass
class LatencyRow:
    """Median milliseconds of one part of one model on one engine.

    Args:
        model (str): ``ours`` or a baseline's title.
        engine (str): ``pytorch``, ``onnxruntime`` or ``openvino``.
        part (str): ``prologue``, ``step`` or ``T=<steps>`` (image to
            labels; a baseline's is ``T=-``).
        ms (float): Median milliseconds.
    """
    model: str
    engine: str
    part: str
    ms: float


@dataclass
class BudgetRow:
    """A time budget on the deployed model over a set of images: the steps
    reached and how often the budgeted work (prologue and steps, as
    ``time_budget_ms`` counts it) took longer than the budget.

    Args:
        engine (str): The backend.
        budget_ms (float): The budget.
        steps (list[int]): Steps reached on each image.
        ms (list[float]): Milliseconds of the budgeted work on each image.
    """
    engine: str
    budget_ms: float
    steps: List[int]
    ms: List[float]

    def overrun(self, tolerance: float = 0.0) -> float:
        """Fraction of the images over ``budget_ms * (1 + tolerance)``."""
        limit = self.budget_ms * (1 + tolerance)
        return sum(ms > limit for ms in self.ms) / len(self.ms)


@dataclass
class DeployBenchmark:
    """Everything one run of the deployment benchmark measured.

    Args:
        config (str): The recurrent model's config.
        deploy_dir (str): Its deployed graphs.
        shape (tuple[int, int]): Input (H, W).
        threads (int): Threads of every engine.
        repeats (int): Timed runs of each measure (medians).
        latencies (list[LatencyRow]): The interleaved measures.
        budgets (list[BudgetRow]): The time budgets.
        label_agreement (dict[str, float]): Per backend, the fraction of
            pixels whose label equals PyTorch's after the most steps.
    """
    config: str
    deploy_dir: str
    shape: Tuple[int, int]
    threads: int
    repeats: int
    latencies: List[LatencyRow]
    budgets: List[BudgetRow] = field(default_factory=list)
    label_agreement: Dict[str, float] = field(default_factory=dict)

    def latency(self, model: str, engine: str, part: str) -> Optional[float]:
        """The median milliseconds measured, or None."""
        for row in self.latencies:
            if (row.model, row.engine, row.part) == (model, engine, part):
                return row.ms
        return None

    def markdown(self) -> str:
        """The latency table (with ratios to PyTorch eager), the budget
        table and the label agreement."""
        height, width = self.shape
        lines = [
            f'Deployment benchmark of {self.config} ({self.deploy_dir}), '
            f'{height}x{width} input, CPU, {self.threads} thread(s), median '
            f'of {self.repeats} interleaved runs.', '',
            '| model | part | ' + ' | '.join(f'{engine} (ms)'
                                             for engine in ENGINES) + ' | ' +
            ' | '.join(f'{engine} / {EAGER}' for engine in BACKENDS) + ' |',
            '|---|---|' + '---:|' * (len(ENGINES) + len(BACKENDS))
        ]
        keys = dict.fromkeys((row.model, row.part) for row in self.latencies)
        for model, part in keys:
            values = [self.latency(model, engine, part) for engine in ENGINES]
            cells = [
                '' if value is None else f'{value:.2f}' for value in values
            ]
            cells += [ratio(value, values[0]) for value in values[1:]]
            lines.append(f'| {model} | {part} | ' + ' | '.join(cells) + ' |')
        if self.budgets:
            lines += [
                '', '| engine | budget (ms) | mean steps | steps range | '
                'median ms | over budget | over budget +10% |',
                '|---|---:|---:|---:|---:|---:|---:|'
            ]
            for row in self.budgets:
                lines.append(f'| {row.engine} | {row.budget_ms:g} | '
                             f'{sum(row.steps) / len(row.steps):.2f} | '
                             f'{min(row.steps)}-{max(row.steps)} | '
                             f'{median(row.ms):.2f} | {row.overrun():.0%} | '
                             f'{row.overrun(0.1):.0%} |')
        if self.label_agreement:
            lines += [
                '', 'Labels equal to PyTorch eager\'s: ' +
                ', '.join(f'{engine} {fraction:.4%}'
                          for engine, fraction in self.label_agreement.items())
            ]
        return '\n'.join(lines) + '\n'


class WholeImageGraph(nn.Module):
    """A baseline's whole inference in one graph: image to logits at the
    image's size (its ``encode_decode``) to labels.

    Args:
        segmentor (EncoderDecoder): The baseline, in eval mode.
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        self.segmentor = segmentor

    def forward(self, image: Tensor) -> Tensor:
        logits = self.segmentor.encode_decode(
            image, [dict(img_shape=image.shape[2:])])
        return logits.argmax(dim=1)


def benchmark_deployment(cfg: Config,
                         config: str,
                         deploy_dir: str,
                         out_dir: str,
                         shape: Tuple[int, int],
                         steps: Sequence[int] = (1, 4, 10),
                         baselines: Sequence[str] = (),
                         budgets_ms: Sequence[float] = (),
                         budget_images: int = 20,
                         repeats: int = 5,
                         threads: int = 1,
                         checkpoint: Optional[str] = None) -> DeployBenchmark:
    """Measures the deployed model against PyTorch eager and the baselines.

    Args:
        cfg (Config): The recurrent model's config.
        config (str): Its file, named in the report.
        deploy_dir (str): Its graphs (``tools/deploy.py``; exported for
            OpenVINO, OpenVINO reads the IR, else the ONNX files).
        out_dir (str): Where the baselines' graphs are exported.
        shape (tuple[int, int]): Input (H, W).
        steps (Sequence[int]): Steps T of the whole-image measures.
        baselines (Sequence[str]): Baseline configs (files or
            ``mmseg::...``), measured untrained (weights change no latency).
        budgets_ms (Sequence[float]): Time budgets to run on the deployed
            model.
        budget_images (int): Images of each budget.
        repeats (int): Timed runs of each latency measure.
        threads (int): Threads of PyTorch and of the backends.
        checkpoint (str, optional): Weights of the PyTorch model (for the
            label agreement), refused unless they fit; None keeps it
            untrained.

    Returns:
        DeployBenchmark: The measures.
    """
    torch.set_num_threads(threads)
    model = deployable_copy(
        load_checked_model(cfg, checkpoint) if checkpoint else load_model(cfg))
    deployed = {
        backend: DeployedSegmentor(deploy_dir, backend, threads, cfg, config)
        for backend in BACKENDS
    }
    image = torch.rand(1, 3, *shape)
    runs = ours_runs(model, deployed, image, steps)
    for baseline in baselines:
        runs.update(baseline_runs(baseline, image, out_dir, threads))
    progress = ProgressBar(len(runs) * repeats)
    medians = median_latencies(
        runs, torch.device('cpu'), repeats, progress=progress)
    report = DeployBenchmark(
        config, deploy_dir, tuple(shape), threads, repeats,
        [LatencyRow(*key, seconds * 1e3) for key, seconds in medians.items()])
    report.label_agreement = label_agreement(model, deployed, image,
                                             max(steps))
    for backend, segmentor in deployed.items():
        for budget_ms in budgets_ms:
            report.budgets.append(
                budget_row(segmentor, budget_ms, budget_images, shape,
                           max(steps)))
    return report


Runs = Dict[Tuple[str, str, str], Callable[[], object]]


def ours_runs(model: nn.Module, deployed: Dict[str, DeployedSegmentor],
              image: Tensor, steps: Sequence[int]) -> Runs:
    """Our prologue, one (warm) step and the whole image at every T of
    ``steps``, on PyTorch eager and on every backend."""
    head = model.decode_head
    prologue = PrologueGraph(model)
    with torch.no_grad():
        features, projection, *_ = prologue(image)
        state = head.step(None, projection,
                          head.cold_state(features)).tensors()
    step = StepGraph(head)
    runs = {
        (OURS, EAGER, 'prologue'): lambda: prologue(image),
        (OURS, EAGER, 'step'): lambda: step(projection, tuple(state)),
    }
    for backend, segmentor in deployed.items():
        graphs = segmentor.graphs
        outputs = segmentor.decode_head.state_buffers(projection)
        runs[OURS, backend, 'prologue'] = _bound(graphs[PROLOGUE], [image])
        runs[OURS, backend, 'step'] = _bound(graphs[STEP],
                                             [projection] + state, outputs)
    for num_steps in steps:
        for engine, runner in [(EAGER, model), *deployed.items()]:
            runs[OURS, engine, f'T={num_steps}'] = _predict(
                with_test_cfg(runner, num_steps=num_steps), image)
    return runs


def baseline_runs(config: str, image: Tensor, out_dir: str,
                  threads: int) -> Runs:
    """A baseline's whole image (to labels) on PyTorch eager and, exported
    as one graph, on every backend."""
    model = load_model(load_mmseg_config(config))
    os.makedirs(out_dir, exist_ok=True)
    title = baseline_title(config)
    name = osp.splitext(osp.basename(config))[0]
    spec = GraphSpec(f'{name}.onnx', ['image'], ['labels'])
    export_graph(
        WholeImageGraph(model), (image.repeat(2, 1, 1, 1), ),
        ({
            0: torch.export.Dim.DYNAMIC
        }, ), spec, out_dir, name, 'onnxruntime')
    runs = {(title, EAGER, 'T=-'): _predict(model, image)}
    for backend in BACKENDS:
        runs[title, backend, 'T=-'] = _bound(
            load_graph(out_dir, spec, backend, threads), [image])
    return runs


def baseline_title(config: str) -> str:
    """A baseline's model-zoo title, or else its config's name."""
    title = model_title(config)
    return osp.splitext(osp.basename(config))[0] if title == config else title


def _bound(graph,
           inputs: List[Tensor],
           outputs: Optional[List[Tensor]] = None) -> Callable[[], object]:
    return lambda: graph(inputs, outputs)


def _predict(model, image: Tensor) -> Callable[[], object]:
    return lambda: model.predict(image)


def label_agreement(model: nn.Module, deployed: Dict[str, DeployedSegmentor],
                    image: Tensor, num_steps: int) -> Dict[str, float]:
    """Per backend, the fraction of pixels whose label after ``num_steps``
    equals PyTorch eager's."""
    with torch.no_grad():
        expected = with_test_cfg(
            model, num_steps=num_steps).predict(image)[0].pred_sem_seg.data
    return {
        backend:
        float((with_test_cfg(segmentor, num_steps=num_steps).predict(image)
               [0].pred_sem_seg.data == expected).float().mean())
        for backend, segmentor in deployed.items()
    }


def budget_row(segmentor: DeployedSegmentor, budget_ms: float, images: int,
               shape: Tuple[int, int], max_steps: int) -> BudgetRow:
    """Runs ``budget_ms`` on ``images`` random images, one at a time, and
    times what the budget counts (the prologue and the steps)."""
    budgeted = copy.copy(segmentor)
    budgeted.test_cfg = copy.deepcopy(segmentor.test_cfg)
    budgeted.test_cfg.update(
        num_steps=max_steps, time_budget_ms=budget_ms, return_all_steps=False)
    budgeted.test_cfg.pop('adaptive_exit', None)
    policy = budgeted.step_policy
    row = BudgetRow(segmentor.backend, budget_ms, [], [])
    for index in range(images + 1):
        image = torch.rand(1, 3, *shape)
        budgeted.warm_up_untimed(image)
        start = time.perf_counter()
        run = policy.run(budgeted, image, None, False)
        elapsed = (time.perf_counter() - start) * 1e3
        if index > 0:  # the first image warms the backend up
            row.steps.append(run.metainfo[0]['num_steps_used'])
            row.ms.append(elapsed)
    return row


def plot_miou_against_ms(
        report: DeployBenchmark,
        step_miou: Dict[int, float],
        path: str,
        baseline_miou: Optional[Dict[str, float]] = None) -> None:
    """Saves a PNG of our mIoU after T steps (``step_miou``, e.g. read by
    :func:`~.budget_curve.read_anytime_json`) against the whole-image
    milliseconds measured at T, one curve per engine; the baselines on the
    backends as points with their mIoU in ``baseline_miou`` (by title),
    else as vertical lines at their milliseconds."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5))
    colours = {engine: f'C{index}' for index, engine in enumerate(ENGINES)}
    for engine in ENGINES:
        points = sorted(
            (row.ms, step_miou[int(row.part[2:])]) for row in report.latencies
            if row.model == OURS and row.engine == engine
            and row.part.startswith('T=') and int(row.part[2:]) in step_miou)
        if points:
            axes.plot(
                *zip(*points),
                'o-',
                color=colours[engine],
                label=f'ours, {engine}')
    baseline_miou = baseline_miou or {}
    baselines = list(dict.fromkeys(
        row.model for row in report.latencies if row.model != OURS))
    for row in report.latencies:
        if row.model == OURS or row.engine == EAGER:
            continue
        style = dict(
            color=colours[row.engine], label=f'{row.model}, {row.engine}')
        if row.model in baseline_miou:
            axes.plot(row.ms, baseline_miou[row.model], 'sd'[
                baselines.index(row.model) % 2], **style)
        else:
            axes.axvline(
                row.ms,
                linestyle=('--', ':')[baselines.index(row.model) % 2],
                **style)
    height, width = report.shape
    axes.set_xlabel(f'ms per {height}x{width} image (CPU, {report.threads} '
                    'thread(s))')
    save_miou_plot(figure, axes,
                   'Accuracy against latency of the deployed model', path)
