"""FrequentShapes: which input shapes keep captured CUDA graphs. A shape is
captured at its capture_after-th use and the most used shapes are kept, so
that one-off shapes run eagerly instead of capturing and evicting."""
from typing import List, Sequence

import pytest

from mmseg_convlstm.models.acceleration.captured_shapes import (
    FrequentShapes, ShapeRun)

REPLAY, CAPTURE, EAGER = ShapeRun.REPLAY, ShapeRun.CAPTURE, ShapeRun.EAGER


def runs_of(shapes: FrequentShapes, keys: Sequence[str]) -> List[ShapeRun]:
    """How each key of ``keys`` runs, in turn, keeping what is captured."""
    runs = []
    for key in keys:
        run = shapes.run(key, shapes.use(key))
        if run is CAPTURE:
            shapes.keep(key)
        runs.append(run)
    return runs


def test_a_shape_is_captured_at_its_second_use_and_frequent_ones_stay():
    shapes = FrequentShapes(max_shapes=2, capture_after=2)
    runs = runs_of(shapes, 'AABACCBBCAD')
    assert runs == [
        EAGER,
        CAPTURE,  # A: captured at its second use
        EAGER,
        REPLAY,  # B once, A replays
        EAGER,
        CAPTURE,  # C fills the second place
        EAGER,  # B's second use is no more than C's two: C stays
        CAPTURE,  # B's third use is: B evicts C, the least used
        EAGER,  # C (3 uses) is no more used than A or B (3 each)
        REPLAY,  # A
        EAGER,  # a one-off
    ]
    assert shapes.kept == ['B', 'A']  # least recently used first
    assert shapes.uses == dict(A=4, B=3, C=3, D=1)


def test_capture_after_one_captures_at_the_first_use_while_there_is_room():
    shapes = FrequentShapes(max_shapes=2, capture_after=1)
    assert runs_of(shapes, 'ABAC') == [CAPTURE, CAPTURE, REPLAY, EAGER]
    # C, used as often as B, the least used, replaces it once used more.
    assert runs_of(shapes, 'CC') == [CAPTURE, REPLAY]
    assert shapes.kept == ['A', 'C']


def test_ties_evict_the_least_recently_used():
    shapes = FrequentShapes(max_shapes=2, capture_after=2)
    runs_of(shapes, 'AABBCCC')
    assert shapes.kept == ['B', 'C']


def test_the_next_use_can_be_looked_ahead_without_counting_it():
    shapes = FrequentShapes(max_shapes=1, capture_after=2)
    shapes.use('A')
    assert shapes.run('A', shapes.uses['A'] + 1) is CAPTURE
    assert shapes.uses['A'] == 1


@pytest.mark.parametrize('key', ['max_shapes', 'capture_after'])
@pytest.mark.parametrize('value', [0, -1, 1.5, True, '2'])
def test_a_bad_setting_names_its_key(key, value):
    with pytest.raises(ValueError, match=f'model.test_cfg.cuda_graph_{key}'):
        FrequentShapes(**{key: value})
