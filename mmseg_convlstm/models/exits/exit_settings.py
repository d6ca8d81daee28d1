"""Every check of the settings that choose the steps, each error naming the
config key it reads."""
from numbers import Real
from typing import Optional


def check_num_steps(num_steps: object, key: str) -> int:
    """``num_steps`` as an int, or a ValueError naming ``key`` unless it is
    an integer of at least 1.

    Args:
        num_steps (object): The configured number of steps.
        key (str): The setting it comes from, named in the error (e.g.
            ``'model.test_cfg.num_steps'``).

    Returns:
        int: ``num_steps``.
    """
    if (not isinstance(num_steps, int) or isinstance(num_steps, bool)
            or num_steps < 1):
        raise ValueError(f'{key} must be an integer of at least 1 (steps '
                         f'are counted from 1), got {num_steps!r}')
    return num_steps


def check_time_budget(budget_ms: object, key: str) -> float:
    """``budget_ms`` as a float, or a ValueError naming ``key`` unless it is
    a positive number."""
    if (not isinstance(budget_ms, Real) or isinstance(budget_ms, bool)
            or not budget_ms > 0):
        raise ValueError(f'{key} must be a positive number of milliseconds, '
                         f'got {budget_ms!r}')
    return float(budget_ms)


def check_probability(value: Optional[float], key: str) -> None:
    """Raises ``ValueError`` naming ``key`` unless ``value`` is None or a
    probability in (0, 1]."""
    if value is not None and (not isinstance(value, Real) or isinstance(
            value, bool) or not 0 < value <= 1):
        raise ValueError(
            f'{key} must be a probability in (0, 1], got {value!r}')


def check_image_exit(max_steps: int, min_steps: int,
                     change_fraction: float) -> None:
    """Raises ``ValueError`` unless the settings of a per-image exit hold:
    ``2 <= min_steps <= max_steps`` (the labels change between two steps)
    and ``change_fraction`` in [0, 1]."""
    if not 2 <= min_steps <= max_steps:
        raise ValueError(
            'adaptive exit needs 2 <= min_steps <= max_steps (the labels '
            'change between two steps), got min_steps='
            f'{min_steps}, max_steps={max_steps}')
    if not 0 <= change_fraction <= 1:
        raise ValueError('adaptive exit needs change_fraction in [0, 1], got '
                         f'{change_fraction}')


def check_position_exit(max_steps: int, min_steps: int,
                        settle_steps: Optional[int],
                        confidence: Optional[float], key: str) -> None:
    """Raises ``ValueError`` naming ``key`` unless the settings of a
    per-position exit hold."""
    check_num_steps(max_steps, f'{key}.max_steps')
    check_num_steps(min_steps, f'{key}.min_steps')
    if min_steps > max_steps:
        raise ValueError(f'{key}.min_steps ({min_steps}) must not exceed '
                         f'max_steps ({max_steps})')
    if settle_steps is not None:
        check_num_steps(settle_steps, f'{key}.settle_steps')
    check_probability(confidence, f'{key}.confidence')


def merge_options(defaults: dict, values: dict, source: str) -> dict:
    """``defaults`` updated with ``values``; a KeyError naming ``source``
    (e.g. ``'model.train_cfg'``) for a key that ``defaults`` lacks."""
    unknown = set(values) - set(defaults)
    if unknown:
        raise KeyError(f'unknown {source} option(s) {sorted(unknown)}; the '
                       f'options are {sorted(defaults)}')
    return {**defaults, **values}


def check_carried_steps(options: dict, prefix: str) -> None:
    """Raises ``ValueError`` naming ``prefix.key`` unless the settings of a
    state carried across frames hold: ``steps_per_frame`` at least 1 and
    ``canvas_decay`` in [0, 1]."""
    check_num_steps(options['steps_per_frame'], f'{prefix}.steps_per_frame')
    if not 0 <= options['canvas_decay'] <= 1:
        raise ValueError(f'{prefix}.canvas_decay must be in [0, 1], got '
                         f"{options['canvas_decay']}")
