"""Profiles and overrides fail loudly on typos."""

from dataclasses import dataclass

import pytest

from lib.experiments.profiles import for_profile, reductions


@dataclass(frozen=True)
class Cfg:
    profile: str = "paper"
    seed: int = 0
    width: int = 16
    epochs: int = 10


PROFILES = {"paper": {}, "cpu": {"width": 8}, "smoke": {"width": 2, "epochs": 1}}


def test_profile_then_overrides():
    cfg = for_profile(Cfg, PROFILES, "cpu", epochs=3)
    assert (cfg.profile, cfg.width, cfg.epochs) == ("cpu", 8, 3)


def test_unknown_profile_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown profile 'gpu'.*'cpu', 'paper', 'smoke'"):
        for_profile(Cfg, PROFILES, "gpu")


def test_unknown_override_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['widht'\]"):
        for_profile(Cfg, PROFILES, "cpu", widht=4)


def test_reductions_lists_exactly_the_changed_fields():
    paper, smoke = for_profile(Cfg, PROFILES, "paper"), for_profile(Cfg, PROFILES, "smoke", seed=5)
    assert reductions(smoke, paper) == [("width", 16, 2), ("epochs", 10, 1)]
