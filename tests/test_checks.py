"""Config checks: each bad value is refused with the field, the value and the allowed range named."""

from dataclasses import dataclass

import pytest

from lib.experiments.checks import ConfigError, at_least, between, check, one_of, positive


@dataclass(frozen=True)
class Example:
    n: int = 3
    lr: float = 0.1
    flag: bool = False
    name: str = "a"
    sizes: tuple[int, ...] = (1, 2)
    limit: int | None = None
    layout: bool | str = "auto"

    def __post_init__(self):
        check(self, {"n": at_least(1), "lr": positive(), "name": one_of("a", "b"), "limit": between(0, 10),
                     "layout": one_of(True, False, "auto")})


def test_defaults_pass():
    Example()


@pytest.mark.parametrize("field, value, message", [
    ("n", 0, r"Example.n = 0: must be in \[1, inf\]"),
    ("n", 1.5, "Example.n = 1.5: must be an integer"),
    ("n", "3", "must be an integer"),
    ("n", True, "must be an integer"),
    ("lr", "0.1", "Example.lr = '0.1': must be a finite number"),
    ("lr", 0.0, r"must be in \(0, inf\]"),
    ("lr", float("nan"), "must be a finite number"),
    ("flag", "no", "must be true or false"),
    ("name", "c", r"must be one of \['a', 'b'\]"),
    ("sizes", (1, "x"), "must be a tuple of int"),
    ("sizes", [1, 2], "must be a tuple"),
    ("limit", 11, r"must be in \[0, 10\]"),
    ("limit", "3", "must be an integer"),
    ("layout", 1, "must be true or false or a string"),
    ("layout", None, "must be true or false or a string"),
    ("layout", "yes", r"must be one of \[True, False, 'auto'\]"),
])
def test_bad_values_are_named(field, value, message):
    with pytest.raises(ConfigError, match=message):
        Example(**{field: value})


def test_int_accepted_for_float_and_none_for_optional():
    assert Example(lr=1, limit=None).lr == 1


def test_bool_or_string_field_takes_either():
    assert Example(layout=True).layout is True and Example(layout="auto").layout == "auto"
