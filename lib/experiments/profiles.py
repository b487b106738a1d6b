"""Named profiles (``smoke`` / ``small`` / ``cpu`` / ``paper``): a config built from its defaults, one profile's changes
and checked overrides.

A config is a frozen dataclass whose fields are plain values or *groups* (nested frozen dataclasses, e.g.
``data``, ``search``, ``training``). A profile table maps each profile name to the changes it makes to the
defaults, a group's changes as a dict (nanoGPT's "a profile states only what differs"):
``{"cpu": {"threads": 1, "training": {"epochs": 6}}}``. Overrides take the same shape.
"""

import dataclasses
import typing
from typing import Any, Mapping, TypeVar

PROFILES = ("smoke", "small", "cpu", "paper")
NOT_RESULTS = frozenset({"experiment", "profile", "seed", "device", "threads", "channels_last"})
C = TypeVar("C")


def _groups(cls: type) -> dict[str, type]:
    """The fields of ``cls`` that are nested dataclasses, with their types."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if dataclasses.is_dataclass(hints[f.name])}


def _unknown(cls: type, given: Mapping[str, Any], where: str) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} in {where}; valid names: {sorted(names)}")


def build(cls: type[C], *changes: Mapping[str, Any]) -> C:
    """``cls`` from its defaults with each mapping of ``changes`` applied in turn (groups merged field by field)."""
    groups = _groups(cls)
    values: dict[str, Any] = {}
    for change in changes:
        _unknown(cls, change, cls.__name__)
        for name, value in change.items():
            if name in groups and isinstance(value, Mapping):
                _unknown(groups[name], value, f"{cls.__name__}.{name}")
                values[name] = {**values.get(name, {}), **value}
            else:
                values[name] = value
    for name, group in groups.items():
        if isinstance(values.get(name), dict):
            values[name] = group(**values[name])
    return cls(**values)


def for_profile(cls: type[C], profiles: Mapping[str, Mapping[str, Any]], profile: str, **overrides: Any) -> C:
    """Build ``cls`` from the named profile's changes, then apply ``overrides`` (same shape as a profile's).

    Unknown profiles and unknown names (also inside a group) raise a ``ValueError`` that lists the valid
    choices, so a typo in a papermill ``-p`` parameter fails loudly instead of being ignored.
    """
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(profiles)}")
    return build(cls, profiles[profile], {"profile": profile}, overrides)


def flat(config: Any, prefix: str = "") -> dict[str, Any]:
    """Every setting of ``config`` by dotted name (``"training.epochs"``), groups expanded."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flat(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def reductions(config: Any, reference: Any) -> list[tuple[str, Any, Any]]:
    """(dotted field, reference value, this value) for every result-relevant setting where ``config`` differs."""
    ours, theirs = flat(config), flat(reference)
    return [(name, theirs[name], value) for name, value in ours.items()
            if name not in NOT_RESULTS and name in theirs and value != theirs[name]]
