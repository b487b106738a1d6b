"""The settings of every CIFAR-10 experiment (the DARTS baseline, the LNAS algorithms, the search-cost
measurement), in four groups with their defaults written once and checked where they are made.

Defaults are the ``paper`` profile: the LNAS report's Sec. 5.1 where it says, else the DARTS defaults
(INCONSISTENCIES #40). ``device``, ``threads`` and ``channels_last`` say how a run executes, not what it
computes; they stay top-level fields, which ``lib.pipeline.results`` leaves out of the record key.
"""

from dataclasses import dataclass, field
from typing import ClassVar

from lib.darts.ops import SEARCH_SPACES
from lib.experiments.checks import ConfigError, Rule, at_least, between, check, one_of, positive
from lib.experiments.profiles import PROFILES

CIFAR_TRAIN, CIFAR_TEST = 50000, 10000


class Checked:
    """A settings group that checks every field against its ``RULES`` when it is made."""

    RULES: ClassVar[dict[str, Rule]] = {}

    def __post_init__(self) -> None:
        check(self, self.RULES)


@dataclass(frozen=True)
class DataConfig(Checked):
    """Which images: the dataset, the image side, and the size of each split (see ``stages.load_splits``)."""

    dataset: str = "cifar10"  # "synthetic": random images for the smoke profile
    image_size: int = 32
    n_val: int = 5000
    n_search: int = 22500  # per search half (weights / alphas)
    n_train: int = 45000
    n_test: int = 10000

    RULES: ClassVar[dict[str, Rule]] = {
        "dataset": one_of("cifar10", "synthetic"), "image_size": at_least(8), "n_val": at_least(1),
        "n_search": at_least(1), "n_train": at_least(1), "n_test": between(1, CIFAR_TEST)}

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_val + 2 * self.n_search > CIFAR_TRAIN or self.n_val + self.n_train > CIFAR_TRAIN:
            raise ConfigError(f"DataConfig: n_val + 2 * n_search ({self.n_val + 2 * self.n_search}) and n_val + n_train "
                              f"({self.n_val + self.n_train}) must fit in the {CIFAR_TRAIN:,} training images")


@dataclass(frozen=True)
class SearchConfig(Checked):
    """The DARTS search: space, supernet size, epochs, batch, and first- or second-order alpha gradients."""

    space: str = "darts"
    n_nodes: int = 4
    C: int = 16
    cells: int = 8
    epochs: int = 10
    batch: int = 64
    order: str = "first"

    RULES: ClassVar[dict[str, Rule]] = {
        "space": one_of(*SEARCH_SPACES), "n_nodes": at_least(1), "C": at_least(1), "cells": at_least(1),
        "epochs": at_least(1), "batch": at_least(2), "order": one_of("first", "second")}


@dataclass(frozen=True)
class TrainingConfig(Checked):
    """Retraining the derived network: its size, epochs (the middle one is the report's "epoch 10"), batch."""

    C: int = 16
    cells: int = 8
    epochs: int = 20
    batch: int = 64
    augment: bool = False

    RULES: ClassVar[dict[str, Rule]] = {"C": at_least(1), "cells": at_least(1), "epochs": at_least(2),
                                        "batch": at_least(2)}


@dataclass(frozen=True)
class SgdConfig(Checked):
    """The weight optimiser of the search and of retraining (LNAS Sec. 5.1: lr 0.025, momentum 0.9, wd 3e-4)."""

    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4

    RULES: ClassVar[dict[str, Rule]] = {"lr": positive(), "momentum": between(0, 1, high_open=True),
                                        "weight_decay": at_least(0)}


@dataclass(frozen=True)
class CifarConfig:
    """What every CIFAR-10 experiment shares: seed, the four groups, and how it executes."""

    experiment: str = "cifar10"
    profile: str = "paper"
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    sgd: SgdConfig = field(default_factory=SgdConfig)
    device: str = "auto"
    threads: int = 0  # 0: torch's default
    channels_last: bool | str = "auto"  # "auto": channels_last where safe (lib.training.layout)

    RULES: ClassVar[dict[str, Rule]] = {"profile": one_of(*PROFILES), "seed": at_least(0), "threads": at_least(0),
                                        "channels_last": one_of(True, False, "auto")}
    GROUPS: ClassVar[dict[str, type]] = {"data": DataConfig, "search": SearchConfig, "training": TrainingConfig,
                                         "sgd": SgdConfig}

    def __post_init__(self) -> None:
        for name, group in self.GROUPS.items():
            if not isinstance(getattr(self, name), group):
                raise ConfigError(f"{type(self).__name__}.{name} must be a {group.__name__}, got {getattr(self, name)!r}")
        check(self, self.RULES)
        if self.search.batch > self.data.n_search or self.training.batch > self.data.n_train:
            raise ConfigError(f"{type(self).__name__}: search.batch ({self.search.batch}) <= data.n_search "
                              f"({self.data.n_search}) and training.batch ({self.training.batch}) <= data.n_train "
                              f"({self.data.n_train}) are needed (training batches drop the last partial batch)")
