"""Type and range checks for every field of a config, raised before any work starts.

Each config states its rules once (``RULES = {"n_train": at_least(1), "lr": positive(), ...}``) and calls
:func:`check` from ``__post_init__``: every field is checked against its annotation (an ``int`` field
refuses ``1.5``, ``"3"`` and ``True``; a ``bool`` field refuses ``"no"``; a ``float`` field accepts an
``int`` but refuses NaN) and against its rule. The error names the config, the field, the value and what is
allowed, so a bad papermill ``-p`` value fails with one line instead of a traceback from inside torch.
"""

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Mapping


class ConfigError(ValueError):
    """A setting that cannot run; the message names the field, the value and what is allowed."""


@dataclass(frozen=True)
class Rule:
    """Allowed values: a closed or open interval, or a set of choices."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()

    def allows(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def describe(self) -> str:
        if self.choices:
            return f"one of {list(self.choices)}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"in {left}{low}, {high}{right}"


def at_least(low: float) -> Rule:
    return Rule(low=low)


def positive() -> Rule:
    return Rule(low=0, low_open=True)


def between(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Rule:
    return Rule(low=low, high=high, low_open=low_open, high_open=high_open)


def one_of(*choices: Any) -> Rule:
    return Rule(choices=tuple(choices))


def _type_error(annotation: Any, value: Any) -> str | None:
    """Why ``value`` does not fit ``annotation`` (int, float, bool, str, tuple[X, ...], X | Y, X | None), or None."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        wrong = [_type_error(a, value) for a in args if a is not type(None)]
        return None if None in wrong else " or ".join(wrong)  # bool | str: "true or false or a string"
    if origin is tuple:
        if not isinstance(value, tuple):
            return "a tuple"
        return next((f"a tuple of {args[0].__name__}" for v in value if _type_error(args[0], v)), None)
    if annotation is bool:
        return None if isinstance(value, bool) else "true or false"
    if annotation is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "a finite number"
    if annotation is str:
        return None if isinstance(value, str) else "a string"
    return None  # nested dataclasses and other types check themselves


def check(config: Any, rules: Mapping[str, Rule] | None = None) -> None:
    """Raise :class:`ConfigError` for the first field of ``config`` whose type or value is not allowed."""
    hints = typing.get_type_hints(type(config))
    name = type(config).__name__
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        wrong = _type_error(hints[field.name], value)
        if wrong:
            raise ConfigError(f"{name}.{field.name} = {value!r}: must be {wrong}")
        rule = (rules or {}).get(field.name)
        if rule is not None and value is not None and not rule.allows(value):
            raise ConfigError(f"{name}.{field.name} = {value!r}: must be {rule.describe()}")
