"""Profiles and overrides: nested groups merged field by field, typos fail loudly, reductions by dotted name."""

from dataclasses import dataclass, field

import pytest

from lib.experiments.profiles import for_profile, reductions


@dataclass(frozen=True)
class Net:
    width: int = 16
    depth: int = 8


@dataclass(frozen=True)
class Cfg:
    profile: str = "paper"
    seed: int = 0
    epochs: int = 10
    net: Net = field(default_factory=Net)
    threads: int = 0


PROFILES = {"paper": {}, "cpu": {"net": {"width": 8}, "threads": 1}, "smoke": {"net": {"width": 2, "depth": 2}, "epochs": 1}}


def test_profile_then_overrides_merge_a_group_field_by_field():
    cfg = for_profile(Cfg, PROFILES, "cpu", epochs=3, net={"depth": 4})
    assert (cfg.profile, cfg.epochs, cfg.net) == ("cpu", 3, Net(width=8, depth=4))
    assert for_profile(Cfg, PROFILES, "paper").net == Net()


def test_unknown_profile_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown profile 'gpu'.*'cpu', 'paper', 'smoke'"):
        for_profile(Cfg, PROFILES, "gpu")


def test_unknown_override_lists_valid_names_also_inside_a_group():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['epoch'\]"):
        for_profile(Cfg, PROFILES, "cpu", epoch=4)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['widht'\] in Cfg.net"):
        for_profile(Cfg, PROFILES, "cpu", net={"widht": 4})


def test_reductions_lists_exactly_the_changed_result_settings():
    paper, smoke = for_profile(Cfg, PROFILES, "paper"), for_profile(Cfg, PROFILES, "smoke", seed=5, threads=2)
    assert reductions(smoke, paper) == [("epochs", 10, 1), ("net.width", 16, 2), ("net.depth", 8, 2)]
