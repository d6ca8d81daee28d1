"""What per-position exit costs in wall time, measured in one interleaved
run on one machine: the head's time per image for the dense T steps and
for per-position exit with each rule, and the time of one step from a
carried state on a fraction of the positions (as a video frame with
per-position steps runs it) against that fraction, beside a dense step."""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch import Tensor

from ..models.decode_heads.convlstm_canvas_head import ConvLSTMCanvasHead
from ..models import RecurrentEncoderDecoder
from ..models.exits.position_exit import (PositionExitRule, advance_positions,
                                          run_until_positions_settle)
from .exit_rules import parse_rule
from .latency import describe_device, median_latencies
from .workload import random_batch

DEFAULT_FRACTIONS = (1.0, 0.5, 0.25, 0.1, 0.02)
DENSE = 'dense'


@dataclass
class HeadRow:
    """The head's median time per image (seconds) for one way of stepping;
    ``rule`` is None for the dense run."""
    rule: Optional[str]
    seconds: float
    ratio: float
    mean_steps: float


@dataclass
class FractionRow:
    """The median time (seconds per image) of one step on ``positions``
    rows, about ``fraction`` of the feature positions."""
    fraction: float
    positions: int
    seconds: float
    ratio: float


@dataclass
class PositionExitReport:
    """Both tables of :func:`benchmark_position_exit`."""
    device: str
    images: int
    feature_shape: Tuple[int, int]
    steps: int
    repeats: int
    head: List[HeadRow]
    dense_step: float
    fractions: List[FractionRow]

    def markdown(self) -> str:
        """Two Markdown tables: the head per image, one step per
        running fraction."""
        height, width = self.feature_shape
        lines = [
            f'Head time per image on {self.images} images (features '
            f'{height}x{width}), max {self.steps} steps, median of '
            f'{self.repeats} interleaved runs, {self.device}:', '',
            '| run | mean steps per position | head (ms per image) | '
            '/ dense |', '| --- | ---: | ---: | ---: |'
        ]
        for row in self.head:
            name = (f'dense T = {self.steps}'
                    if row.rule is None else f'per position, `{row.rule}`')
            lines.append(f'| {name} | {row.mean_steps:.2f} | '
                         f'{row.seconds * 1e3:.1f} | {row.ratio:.3f} |')
        lines += [
            '', 'One step against the fraction of positions running, from a '
            'carried state (state to rows, step on the running rows, state '
            'written back: a video frame with per-position steps), per '
            'image:', '',
            '| running fraction | positions | step (ms) | / dense step |',
            '| ---: | ---: | ---: | ---: |',
            f'| dense step | {height * width} | '
            f'{self.dense_step * 1e3:.2f} | 1.000 |'
        ]
        for row in self.fractions:
            lines.append(f'| {row.fraction:g} | {row.positions} | '
                         f'{row.seconds * 1e3:.2f} | {row.ratio:.3f} |')
        return '\n'.join(lines) + '\n'


def make_rule(rule: Dict[str, float]) -> PositionExitRule:
    """A fresh :class:`PositionExitRule` of a parsed rule (``min_steps``
    defaults to 1, as in ``test_cfg.adaptive_exit``)."""
    return PositionExitRule(
        int(rule.get('min_steps', 1)), rule.get('settle_steps'),
        rule.get('confidence'))


def check_fractions(fractions: Sequence[float]) -> None:
    """Raises ``ValueError`` unless every fraction is in (0, 1]."""
    bad = [fraction for fraction in fractions if not 0 < fraction <= 1]
    if not fractions or bad:
        raise ValueError(
            f'fractions must be in (0, 1] (and at least one), got {bad}')


def check_model(model: torch.nn.Module) -> None:
    """Refuses a model the benchmark cannot step.

    Args:
        model (torch.nn.Module): The segmentor (see
            :func:`~.workload.load_model`).

    Raises:
        ValueError: Unless it is a :class:`RecurrentEncoderDecoder` with a
            :class:`ConvLSTMCanvasHead`.
    """
    if not (isinstance(model, RecurrentEncoderDecoder)
            and isinstance(model.decode_head, ConvLSTMCanvasHead)):
        raise ValueError('the benchmark needs model.type='
                         "'RecurrentEncoderDecoder' with model.decode_head a "
                         'ConvLSTMCanvasHead')


def dataset_images(cfg: Config, num_images: int) -> List[dict]:
    """The first ``num_images`` batches of one image of the config's test
    dataloader (its val dataloader when it has none)."""
    loader_cfg = cfg.get('test_dataloader') or cfg.val_dataloader
    loader_cfg = dict(
        loader_cfg, batch_size=1, num_workers=0, persistent_workers=False)
    batches = []
    for batch in Runner.build_dataloader(loader_cfg):
        if len(batches) == num_images:
            break
        batches.append(batch)
    return batches


def backbone_features(model: torch.nn.Module,
                      batches: Sequence[dict]) -> List[Tensor]:
    """The head's input feature map (1, C, h, w) of every batch, computed
    once."""
    features = []
    with torch.no_grad():
        for batch in batches:
            data = model.data_preprocessor(batch, False)
            features.append(model.head_features(data['inputs']))
    return features


def random_features(model: torch.nn.Module, num_images: int,
                    shape: Tuple[int, int]) -> List[Tensor]:
    """The head's input feature maps of ``num_images`` random images of
    ``shape`` (H, W), seeded."""
    images = random_batch(model, shape, num_images, seed=0)['inputs']
    with torch.no_grad():
        return [model.head_features(image) for image in images.split(1)]


def mean_position_steps(head: ConvLSTMCanvasHead, features: Sequence[Tensor],
                        steps: int, rule: Dict[str, float]) -> float:
    """The mean steps a feature position runs under ``rule``, over all
    positions of all ``features``."""
    with torch.no_grad():
        exit_steps = [
            run_until_positions_settle(head, feature, steps,
                                       make_rule(rule))[1].flatten()
            for feature in features
        ]
    return float(torch.cat(exit_steps).float().mean())


def head_runs(head: ConvLSTMCanvasHead, features: Sequence[Tensor], steps: int,
              rules: Dict[str, Dict[str, float]]) -> Dict[str, Callable]:
    """One run per way of stepping, each over every feature map: the dense
    ``steps`` steps (key :data:`DENSE`) and per-position exit with each
    rule (keyed by its text)."""

    def dense() -> None:
        for feature in features:
            head.run_steps(feature, steps)

    def per_position(rule: Dict[str, float]) -> Callable[[], None]:

        def run() -> None:
            for feature in features:
                run_until_positions_settle(head, feature, steps,
                                           make_rule(rule))

        return run

    runs = {DENSE: dense}
    runs.update({text: per_position(rule) for text, rule in rules.items()})
    return runs


def fraction_step_run(head: ConvLSTMCanvasHead,
                      features: Sequence[Tensor],
                      fraction: float,
                      seed: int = 0) -> Tuple[Callable[[], None], int]:
    """One step of a random ``fraction`` of every feature map's positions
    from the state after step 1, the others keeping their state, as
    :func:`~..models.exits.position_exit.advance_positions` runs it: the
    state as rows, the running positions' projection and step as matrix
    products, every position's state written back. This is what a video
    frame with per-position steps (``video_cfg.position_exit``, at most one
    step) costs when ``fraction`` of its positions run.

    Args:
        head (ConvLSTMCanvasHead): The head.
        features (Sequence[Tensor]): Feature maps (1, C, h, w).
        fraction (float): Fraction of the positions running, in (0, 1].
        seed (int): Seed of the choice of positions. Default: 0.

    Returns:
        tuple: The run (one step per feature map) and the positions
        running in the first feature map.
    """
    generator = torch.Generator().manual_seed(seed)
    # One step per call: the exit rule is never asked.
    rule = PositionExitRule(1, None, None)
    prepared = []
    with torch.no_grad():
        for feature in features:
            total = feature.shape[2:].numel()
            count = max(1, round(fraction * total))
            runs = torch.zeros(total, dtype=torch.bool)
            runs[torch.randperm(total, generator=generator)[:count]] = True
            # The state as a frame with per-position steps leaves it.
            state = advance_positions(head, feature, 1, rule)[0]
            prepared.append(
                (feature, state,
                 runs.view(1, *feature.shape[2:]).to(feature.device), count))

    def run() -> None:
        for feature, state, runs, _ in prepared:
            advance_positions(head, feature, 1, rule, state, runs)

    return run, prepared[0][3]


def dense_step_run(head: ConvLSTMCanvasHead,
                   features: Sequence[Tensor]) -> Callable[[], None]:
    """Step 2 of every feature map, dense (from the state after step
    1)."""
    prepared = []
    with torch.no_grad():
        for feature in features:
            projection = head.bottom_projection(feature)
            state = head.step(feature, projection, head.initial_state())
            prepared.append((feature, projection, state))

    def run() -> None:
        for feature, projection, state in prepared:
            head.step(feature, projection, state)

    return run


def benchmark_position_exit(
        head: ConvLSTMCanvasHead,
        features: Sequence[Tensor],
        steps: int,
        rules: Sequence[str],
        fractions: Sequence[float] = DEFAULT_FRACTIONS,
        repeats: int = 3,
        device: Optional[torch.device] = None) -> PositionExitReport:
    """The head per image (dense and per-position exit with each rule) and
    one step per running fraction, timed interleaved in one run.

    Args:
        head (ConvLSTMCanvasHead): The head, in eval mode.
        features (Sequence[Tensor]): Its input feature maps (1, C, h, w),
            one per image.
        steps (int): The dense run's steps and the per-position maximum.
        rules (Sequence[str]): Exit rules as :func:`parse_rule` reads
            them.
        fractions (Sequence[float]): Fractions of the positions running.
            Default: 1, 0.5, 0.25, 0.1, 0.02.
        repeats (int): Timed rounds, whose median is reported. Default: 3.
        device (torch.device, optional): Where the features are; default
            that of the first.

    Returns:
        PositionExitReport: Times in seconds per image, ratios to dense.
    """
    parsed = {text: parse_rule(text) for text in rules}
    if not parsed:
        raise ValueError('give at least one rule')
    check_fractions(fractions)
    device = device or features[0].device
    runs = head_runs(head, features, steps, parsed)
    runs['dense step'] = dense_step_run(head, features)
    positions = {}
    for fraction in fractions:
        runs[fraction], positions[fraction] = fraction_step_run(
            head, features, fraction)
    seconds = median_latencies(runs, torch.device(device), repeats=repeats)
    seconds = {name: value / len(features) for name, value in seconds.items()}
    return _report(head, features, steps, parsed, seconds, positions, device,
                   repeats)


def _report(head: ConvLSTMCanvasHead, features: Sequence[Tensor], steps: int,
            rules: Dict[str, Dict[str, float]], seconds: Dict,
            positions: Dict[float, int], device: torch.device,
            repeats: int) -> PositionExitReport:
    dense, dense_step = seconds[DENSE], seconds['dense step']
    head_rows = [HeadRow(None, dense, 1.0, float(steps))] + [
        HeadRow(text, seconds[text], seconds[text] / dense,
                mean_position_steps(head, features, steps, rule))
        for text, rule in rules.items()
    ]
    fraction_rows = [
        FractionRow(fraction, positions[fraction], seconds[fraction],
                    seconds[fraction] / dense_step) for fraction in positions
    ]
    return PositionExitReport(
        describe_device(torch.device(device)), len(features),
        tuple(features[0].shape[2:]), steps, repeats, head_rows, dense_step,
        fraction_rows)
