"""Exit rules given on the command line as ``key=value`` pairs joined by
commas, e.g. ``confidence=0.7`` or ``settle_steps=2,min_steps=2``."""
from typing import Dict

RULE_KEYS = {'confidence': float, 'settle_steps': int, 'min_steps': int}
"""The keys of a per-position exit rule and their types."""


def parse_key_values(text: str, types: Dict[str, type]) -> Dict[str, float]:
    """``key=value`` pairs joined by commas, each key among ``types`` and
    its value converted by its type.

    Args:
        text (str): The pairs, e.g. ``skip_change=0.2,max_steps=2``.
        types (dict[str, type]): The allowed keys and their types.

    Returns:
        dict: The keys and converted values.

    Raises:
        ValueError: Naming ``text`` and the bad pair.
    """
    rule = {}
    for pair in text.split(','):
        key, sep, value = pair.partition('=')
        if not sep or key not in types:
            raise ValueError(
                f'rule {text!r}: {pair!r} is not key=value with a key among '
                f'{sorted(types)}')
        try:
            rule[key] = types[key](value)
        except ValueError:
            raise ValueError(f'rule {text!r}: {key} must be of type '
                             f'{types[key].__name__}, got {value!r}')
    return rule


def parse_rule(text: str) -> Dict[str, float]:
    """The keyword arguments of one per-position exit rule given as
    ``key=value`` pairs joined by commas, e.g. ``confidence=0.7`` or
    ``settle_steps=2,min_steps=2``.

    Args:
        text (str): The rule; keys ``confidence``, ``settle_steps``,
            ``min_steps``, at least one of the first two.

    Returns:
        dict: The rule's keys and values.
    """
    rule = parse_key_values(text, RULE_KEYS)
    _check_rule(text, rule)
    return rule


def _check_rule(text: str, rule: Dict[str, float]) -> None:
    if 'confidence' not in rule and 'settle_steps' not in rule:
        raise ValueError(
            f'rule {text!r} names neither confidence nor settle_steps')
    if not 0 < rule.get('confidence', 1) <= 1:
        raise ValueError(f'rule {text!r}: confidence must be in (0, 1]')
    if min(rule.get('settle_steps', 1), rule.get('min_steps', 1)) < 1:
        raise ValueError(
            f'rule {text!r}: settle_steps and min_steps must be at least 1')
