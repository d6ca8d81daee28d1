"""The per-position exit benchmark on a tiny head: the structure of its
report, its ratios from its medians, and the rules it reads."""
import pytest
import torch

from mmseg_convlstm.benchmarks import position_exit_benchmark as benchmark
from mmseg_convlstm.benchmarks.position_exit_benchmark import (
    benchmark_position_exit, check_fractions, fraction_step_run, make_rule,
    parse_rule)
from mmseg_convlstm.models import ConvLSTMCanvasHead
from tests.tiny_head import tiny_head

NUM_CLASSES = 5
STEPS = 4


def make_head(cache_input_projection: bool = True) -> ConvLSTMCanvasHead:
    return tiny_head(
        NUM_CLASSES, STEPS, cache_input_projection=cache_input_projection)


def make_features():
    torch.manual_seed(4)
    return [torch.randn(1, 8, 6, 5) * scale for scale in (0.5, 5.0)]


@pytest.mark.parametrize('cached', [True, False])
def test_report_structure_and_ratios(cached, monkeypatch):
    # Fixed medians, so that every ratio can be checked exactly.
    fake = {}

    def median_latencies(runs, device, repeats):
        for index, (name, run) in enumerate(runs.items()):
            run()
            fake[name] = 0.01 * (index + 1)
        return dict(fake)

    monkeypatch.setattr(benchmark, 'median_latencies', median_latencies)
    head, features = make_head(cached), make_features()
    rules = ['confidence=0.5', 'settle_steps=1,min_steps=2']
    fractions = [1.0, 0.5, 0.02]
    report = benchmark_position_exit(
        head, features, STEPS, rules, fractions=fractions, repeats=1)

    per_image = {name: value / 2 for name, value in fake.items()}
    assert report.images == 2 and report.feature_shape == (6, 5)
    assert [row.rule for row in report.head] == [None] + rules
    dense = per_image['dense']
    for row in report.head:
        key = 'dense' if row.rule is None else row.rule
        assert row.seconds == pytest.approx(per_image[key])
        assert row.ratio == pytest.approx(per_image[key] / dense)
    assert report.head[0].mean_steps == STEPS
    # min_steps=2: no position stops before step 2.
    assert 2 <= report.head[2].mean_steps <= STEPS
    assert 1 <= report.head[1].mean_steps <= STEPS
    assert report.dense_step == pytest.approx(per_image['dense step'])
    assert [row.fraction for row in report.fractions] == fractions
    assert [row.positions for row in report.fractions] == [30, 15, 1]
    for row in report.fractions:
        assert row.ratio == pytest.approx(row.seconds / report.dense_step)

    tables = report.markdown()
    assert '| per position, `confidence=0.5` |' in tables
    assert f'| 0.02 | 1 | {report.fractions[2].seconds * 1e3:.2f} |' in tables


def test_real_timing_is_positive():
    report = benchmark_position_exit(
        make_head(),
        make_features(),
        STEPS, ['confidence=0.9'],
        fractions=[0.5],
        repeats=1)
    assert report.dense_step > 0
    assert all(row.seconds > 0 for row in report.head + report.fractions)
    assert report.device.startswith('CPU')


def test_step_on_a_fraction_runs_that_many_positions(monkeypatch):
    head, features = make_head(), make_features()
    run, positions = fraction_step_run(head, features, 0.25)
    assert positions == round(0.25 * 30)
    stepped = []
    advance = benchmark.advance_positions

    def recording_advance(*args):
        state, exit_steps = advance(*args)
        stepped.append(int(exit_steps.sum()))
        return state, exit_steps

    monkeypatch.setattr(benchmark, 'advance_positions', recording_advance)
    with torch.no_grad():
        run()
    assert stepped == [positions] * len(features)


def test_rules_are_parsed():
    assert parse_rule('confidence=0.7') == dict(confidence=0.7)
    assert parse_rule('settle_steps=2,min_steps=3') == dict(
        settle_steps=2, min_steps=3)
    rule = make_rule(parse_rule('settle_steps=2'))
    assert rule.min_steps == 1 and rule.settle_steps == 2
    assert rule.confidence is None


@pytest.mark.parametrize('text, match', [
    ('confidnce=0.7', "rule 'confidnce=0.7'"),
    ('confidence', "rule 'confidence'"),
    ('settle_steps=two', "rule 'settle_steps=two': settle_steps must be"),
    ('min_steps=2', "rule 'min_steps=2' names neither"),
    ('confidence=1.5', r"rule 'confidence=1.5': confidence must be in"),
    ('settle_steps=0', "rule 'settle_steps=0'"),
])
def test_bad_rules_are_named(text, match):
    with pytest.raises(ValueError, match=match):
        parse_rule(text)


def test_bad_fractions_and_no_rules_are_refused():
    with pytest.raises(ValueError, match='fractions must be in'):
        check_fractions([0.5, 1.5])
    with pytest.raises(ValueError, match='at least one rule'):
        benchmark_position_exit(make_head(), make_features(), STEPS, [])
