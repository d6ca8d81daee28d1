from collections import Counter, OrderedDict
from enum import Enum
from typing import Hashable, List, Optional


class ShapeRun(Enum):
    """How one input of a shape runs under CUDA graphs."""
    REPLAY = 'replay'
    """Its graphs are captured: they replay."""
    CAPTURE = 'capture'
    """Its graphs are captured now (warm-ups and captures), then replay."""
    EAGER = 'eager'
    """Not captured (yet): it runs eagerly, with no capture cost."""


class FrequentShapes:
    """Which input shapes keep captured CUDA graphs: the most frequently used
    ones, once used ``capture_after`` times.

    Every use of a key (see :func:`~.cuda_graph_steps.input_key`) is
    counted, captured or not. A key that is not captured is captured once it
    has been used ``capture_after`` times, if fewer than ``max_shapes`` keys
    are captured or it has been used more often than the least used captured
    key, which it then evicts (among equally used ones the least recently
    used). Until then it runs eagerly, paying no capture. So inputs of
    varying sizes (PASCAL VOC is tested at each image's own size) capture
    their frequent sizes once and run the rare ones eagerly, instead of
    capturing, and evicting a frequent size, for every new one.

    Args:
        max_shapes (int): Keys whose graphs are kept, at least 1.
            Default: 4.
        capture_after (int): Uses of a key before it is captured, at least
            1; 1 captures a key at its first use. Default: 2.
    """

    def __init__(self, max_shapes: int = 4, capture_after: int = 2) -> None:
        for key, value in (('cuda_graph_max_shapes', max_shapes),
                           ('cuda_graph_capture_after', capture_after)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < 1:
                raise ValueError(f'model.test_cfg.{key} must be an integer '
                                 f'of at least 1, got {value!r}')
        self.max_shapes = max_shapes
        self.capture_after = capture_after
        self.uses: Counter = Counter()
        self._kept: 'OrderedDict[Hashable, None]' = OrderedDict()

    @property
    def kept(self) -> List[Hashable]:
        """The captured keys, least recently used first."""
        return list(self._kept)

    def use(self, key: Hashable) -> int:
        """Counts one use of ``key``.

        Args:
            key (Hashable): The input's key.

        Returns:
            int: How often ``key`` has been used, this use included.
        """
        self.uses[key] += 1
        if key in self._kept:
            self._kept.move_to_end(key)
        return self.uses[key]

    def run(self, key: Hashable, uses: int) -> ShapeRun:
        """How an input of ``key`` runs after ``uses`` uses (counted by
        :meth:`use`, or the next one, looking ahead).

        Args:
            key (Hashable): The input's key.
            uses (int): Its uses.

        Returns:
            ShapeRun: Replay, capture (then call :meth:`keep`) or eager.
        """
        if key in self._kept:
            return ShapeRun.REPLAY
        if uses < self.capture_after:
            return ShapeRun.EAGER
        if len(self._kept) < self.max_shapes or \
                uses > self.uses[self._least_used()]:
            return ShapeRun.CAPTURE
        return ShapeRun.EAGER

    def keep(self, key: Hashable) -> Optional[Hashable]:
        """Marks ``key`` captured, evicting the least used captured key when
        ``max_shapes`` are.

        Args:
            key (Hashable): The key just captured.

        Returns:
            Hashable, optional: The evicted key, whose graphs are to be
            freed; None if none was.
        """
        evicted = None
        if len(self._kept) == self.max_shapes:
            evicted = self._least_used()
            del self._kept[evicted]
        self._kept[key] = None
        return evicted

    def _least_used(self) -> Hashable:
        """The captured key used least often, the least recent of ties."""
        return min(self._kept, key=self.uses.__getitem__)
