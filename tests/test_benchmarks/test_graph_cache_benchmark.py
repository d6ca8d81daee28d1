"""The cache of captured CUDA graphs on a stream of sizes: the former LRU
captures every size it lost, the most-used policy captures the frequent
sizes once and runs the rare ones eagerly."""
from collections import Counter

from mmseg_convlstm.benchmarks.graph_cache_benchmark import (
    VOC_COMMON_SHAPES, RecentShapes, count_runs, graph_cache_rows,
    graph_cache_table, voc_like_shapes)
from mmseg_convlstm.models.acceleration.captured_shapes import FrequentShapes

A, B, C = (33, 33), (33, 41), (41, 33)


def test_lru_thrashes_where_the_most_used_policy_runs_eagerly():
    stream = [A, B, C] * 2 + [A, B]
    lru = count_runs(stream, RecentShapes(2), 'lru')
    assert (lru.captures, lru.replays, lru.eager) == (8, 0, 0)
    # A and B are captured at their second use, C never evicts them.
    frequent = count_runs(stream, FrequentShapes(2, 2), 'frequent')
    assert (frequent.captures, frequent.replays, frequent.eager) == (2, 2, 4)
    assert (frequent.images, frequent.sizes) == (8, 3)
    assert frequent.hit_rate == 2 / 8


def test_voc_like_sizes_are_at_most_500_and_mostly_the_common_ones():
    shapes = voc_like_shapes(2000, seed=1)
    assert shapes == voc_like_shapes(2000, seed=1)
    assert shapes != voc_like_shapes(2000, seed=2)
    assert all(max(shape) == 500 and min(shape) >= 100 for shape in shapes)
    counts = Counter(shapes)
    assert [shape
            for shape, _ in counts.most_common(4)] == list(VOC_COMMON_SHAPES)


def test_on_voc_like_sizes_the_most_used_policy_captures_less_and_hits_more():
    lru, *frequent = graph_cache_rows(voc_like_shapes(1000), 4, [1, 2])
    for row in frequent:
        assert row.captures < lru.captures / 10
        assert row.hit_rate > lru.hit_rate
        assert row.captures + row.replays + row.eager == row.images
    table = graph_cache_table([lru] + frequent)
    assert 'LRU (before)' in table
    assert 'most used, capture_after=2' in table
