"""Typed configs with named profiles (``smoke`` / ``cpu`` / ``paper``) and checked overrides."""

import dataclasses
from typing import Any, Mapping, TypeVar

PROFILES = ("smoke", "cpu", "paper")
C = TypeVar("C")


def for_profile(cls: type[C], profiles: Mapping[str, Mapping[str, Any]], profile: str, **overrides: Any) -> C:
    """Build ``cls`` from the named profile's settings, then apply ``overrides``.

    Unknown profiles and unknown override names raise a ``ValueError`` that lists the valid choices,
    so a typo in a papermill ``-p`` parameter fails loudly instead of being ignored.
    """
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(profiles)}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {cls.__name__}; valid names: {sorted(names)}")
    return cls(**{**profiles[profile], "profile": profile, **overrides})


def reductions(config: Any, reference: Any) -> list[tuple[str, Any, Any]]:
    """(field, reference value, this value) for every result-relevant field where ``config`` differs from ``reference``."""
    skip = {"profile", "seed", "device", "threads", "experiment"}
    rows = []
    for f in dataclasses.fields(config):
        ours, theirs = getattr(config, f.name), getattr(reference, f.name)
        if f.name not in skip and ours != theirs:
            rows.append((f.name, theirs, ours))
    return rows
