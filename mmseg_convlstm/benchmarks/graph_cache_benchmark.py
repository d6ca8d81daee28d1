"""How the cache of captured CUDA graphs serves a stream of image sizes:
captures, replays and eager runs of ``test_cfg.cuda_graph`` for PASCAL
VOC-like sizes (batch 1, each image at its own size), under the former
policy (every new size captured, the least recently used evicted) and under
:class:`~mmseg_convlstm.models.acceleration.captured_shapes.FrequentShapes`.
Only the policies run, no model: it counts, it does not time."""
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Hashable, List, Sequence, Tuple, Union

from ..models.acceleration.captured_shapes import FrequentShapes, ShapeRun

# Assumed shares of the most common (H, W) of VOC 2012 images (at most
# 500x500, tested at their own size by configs/convlstm_voc.py): 500 wide
# by 375 high, its portrait, then 500x333 and its portrait. The real list of
# sizes is not used; the rest is a simulated long tail.
VOC_COMMON_SHAPES: Dict[Tuple[int, int], float] = {
    (375, 500): 0.45,
    (500, 375): 0.15,
    (333, 500): 0.10,
    (500, 333): 0.03,
}
TAIL_SIDES = (100, 500)
"""The shorter side of a tail image, uniform in this range (the longer side
is 500)."""
TAIL_LANDSCAPE = 0.75
"""The share of landscape images in the tail."""


def voc_like_shapes(num_images: int, seed: int = 0) -> List[Tuple[int, int]]:
    """A simulated stream of VOC image sizes (H, W): the shares of
    :data:`VOC_COMMON_SHAPES`, the rest 500 on the long side and uniform in
    :data:`TAIL_SIDES` on the other.

    Args:
        num_images (int): Images in the stream.
        seed (int): Seed of the draw. Default: 0.

    Returns:
        list[tuple[int, int]]: The sizes, in order.
    """
    rng = random.Random(seed)
    common = list(VOC_COMMON_SHAPES)
    tail_share = 1 - sum(VOC_COMMON_SHAPES.values())
    shapes = rng.choices(
        common + [None],
        weights=list(VOC_COMMON_SHAPES.values()) + [tail_share],
        k=num_images)
    return [shape or _tail_shape(rng) for shape in shapes]


def _tail_shape(rng: random.Random) -> Tuple[int, int]:
    side = rng.randint(*TAIL_SIDES)
    return (side, 500) if rng.random() < TAIL_LANDSCAPE else (500, side)


class RecentShapes:
    """The policy before :class:`FrequentShapes`, for comparison: every new
    key is captured at its first use, evicting the least recently used.

    Args:
        max_shapes (int): Keys whose graphs are kept.
    """

    def __init__(self, max_shapes: int) -> None:
        self.max_shapes = max_shapes
        self._kept: 'OrderedDict[Hashable, None]' = OrderedDict()

    def use(self, key: Hashable) -> int:
        """Marks ``key`` most recently used; uses are not counted (0)."""
        if key in self._kept:
            self._kept.move_to_end(key)
        return 0

    def run(self, key: Hashable, uses: int) -> ShapeRun:
        """Replay if ``key`` is captured, else capture."""
        return ShapeRun.REPLAY if key in self._kept else ShapeRun.CAPTURE

    def keep(self, key: Hashable) -> None:
        """Keeps ``key``, evicting the least recently used when full."""
        if len(self._kept) == self.max_shapes:
            self._kept.popitem(last=False)
        self._kept[key] = None


@dataclass
class GraphCacheRow:
    """What one policy did with a stream of sizes."""
    policy: str
    images: int
    sizes: int
    captures: int
    replays: int
    eager: int

    @property
    def hit_rate(self) -> float:
        """The share of images replayed from graphs captured before."""
        return self.replays / self.images


def count_runs(shapes: Sequence[Tuple[int, int]], policy: Union[FrequentShapes,
                                                                RecentShapes],
               name: str) -> GraphCacheRow:
    """Runs a stream of sizes (batch 1) through a cache policy.

    Args:
        shapes (Sequence[tuple[int, int]]): The sizes (H, W), in order.
        policy (FrequentShapes | RecentShapes): The policy, empty.
        name (str): Its name in the table.

    Returns:
        GraphCacheRow: Its captures, replays and eager runs.
    """
    runs = {run: 0 for run in ShapeRun}
    for shape in shapes:
        key = (1, 3) + tuple(shape)
        run = policy.run(key, policy.use(key))
        if run is ShapeRun.CAPTURE:
            policy.keep(key)
        runs[run] += 1
    return GraphCacheRow(name, len(shapes), len(set(shapes)),
                         runs[ShapeRun.CAPTURE], runs[ShapeRun.REPLAY],
                         runs[ShapeRun.EAGER])


def graph_cache_rows(shapes: Sequence[Tuple[int, int]], max_shapes: int,
                     capture_after: Sequence[int]) -> List[GraphCacheRow]:
    """The former policy and :class:`FrequentShapes` at each
    ``capture_after``, ``max_shapes`` kept, on one stream of sizes.

    Args:
        shapes (Sequence[tuple[int, int]]): The sizes (H, W), in order.
        max_shapes (int): ``test_cfg.cuda_graph_max_shapes``.
        capture_after (Sequence[int]): Values of
            ``test_cfg.cuda_graph_capture_after`` to count.

    Returns:
        list[GraphCacheRow]: One row per policy.
    """
    rows = [count_runs(shapes, RecentShapes(max_shapes), 'LRU (before)')]
    for uses in capture_after:
        rows.append(
            count_runs(shapes, FrequentShapes(max_shapes, uses),
                       f'most used, capture_after={uses}'))
    return rows


def graph_cache_table(rows: Sequence[GraphCacheRow]) -> str:
    """The rows as a Markdown table."""
    lines = [
        '| policy | images | sizes | captures | replays (hit rate) | '
        'eager runs |', '| --- | ---: | ---: | ---: | ---: | ---: |'
    ]
    lines += [
        f'| {row.policy} | {row.images} | {row.sizes} | {row.captures} | '
        f'{row.replays} ({row.hit_rate:.1%}) | {row.eager} |' for row in rows
    ]
    return '\n'.join(lines) + '\n'
