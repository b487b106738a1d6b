"""The settings of one LAMANAS row, grouped as the algorithm uses them, with the profiles that change them.

``LamanasConfig`` holds the row (task loss, residual, proxy, authors'-code behaviour), the execution fields
(``device``, ``threads``, ``channels_last``: not part of a record's key) and one nested group per part of Algorithm 2:
``data`` (the few-shot tasks), ``supernet`` (MetaNAS's DARTS supernet), ``task`` (the K-step task learner
of meta-training, :class:`TaskLearnerSettings`), ``reptile`` (the meta-learner, :class:`ReptileSettings`)
and ``meta_test``. Every default is defined once, in its group; the ``paper`` profile is the defaults
(the authors' code values, lamanas_setup.json). A profile, and any override, is a list of changes named
by dotted paths (``{"supernet.C": 8}``) or by nested dicts (``{"supernet": {"C": 8}}``).
"""

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, TypeVar

from lib.darts.search import SearchSpec
from lib.data.omniglot import VINYALS_SIZES
from lib.experiments.checks import ConfigError, at_least, between, check, one_of, positive
from lib.meta.reptile import ReptileSettings
from lib.meta.task_learner import TaskLearnerSettings

LOSSES = ("ce", "fnn", "lstm")
PROXIES = ("mse", "inner_product")
# characters per split (meta_train, meta_test) before rotations; 20 drawings each (lib/data/omniglot.py)
OMNIGLOT_CHARACTERS = {"background": (964, 659), "vinyals": (VINYALS_SIZES[0], VINYALS_SIZES[2])}
OMNIGLOT_DRAWINGS = 20
SYNTHETIC_POOL = 64  # SyntheticFewShotTasks' classes per split


@dataclass(frozen=True)
class DataSettings:
    """Few-shot tasks (#12, #13): ``ways``-way, ``shots_train`` shots at meta-training, ``shots_test`` at meta-test."""

    dataset: str = "omniglot"
    class_split: str = "background"
    rotations: bool = True
    image_size: int = 28
    ways: int = 20
    shots_train: int = 15
    shots_test: int = 5
    queries: int = 1

    def __post_init__(self) -> None:
        check(self, {"dataset": one_of("omniglot", "synthetic"), "class_split": one_of(*OMNIGLOT_CHARACTERS),
                     "image_size": at_least(4), "ways": at_least(2), "shots_train": at_least(1),
                     "shots_test": at_least(1), "queries": at_least(1)})
        if self.dataset == "omniglot" and self.image_size != 28:
            raise ConfigError(f"Omniglot images are 28x28; image_size={self.image_size} needs dataset='synthetic'")
        fewest = min(self.classes_available())
        if self.ways > fewest:
            raise ConfigError(f"DataSettings.ways = {self.ways}: the smaller split has only {fewest} classes")
        most = max(self.shots_train, self.shots_test) + self.queries
        if self.dataset == "omniglot" and most > OMNIGLOT_DRAWINGS:
            raise ConfigError(f"shots + queries = {most} images per class; an Omniglot character has {OMNIGLOT_DRAWINGS}")

    def classes_available(self) -> tuple[int, int]:
        """Classes of the (meta-train, meta-test) split."""
        if self.dataset == "synthetic":
            return SYNTHETIC_POOL, SYNTHETIC_POOL
        turns = 4 if self.rotations else 1
        return tuple(n * turns for n in OMNIGLOT_CHARACTERS[self.class_split])  # type: ignore[return-value]


@dataclass(frozen=True)
class SupernetSettings:
    """MetaNAS's supernet (#14, #15); :meth:`spec` adds what it shares with the data."""

    C: int = 28
    n_cells: int = 4
    n_nodes: int = 3
    reduction_cells: tuple[int, ...] = (1, 3)
    pairwise_inputs: bool = True
    op_prune_threshold: float = 0.01

    def __post_init__(self) -> None:
        object.__setattr__(self, "reduction_cells", tuple(self.reduction_cells))
        check(self, {"C": at_least(1), "n_cells": at_least(1), "n_nodes": at_least(2),
                     "op_prune_threshold": between(0, 1, high_open=True)})
        outside = [i for i in self.reduction_cells if not 0 <= i < self.n_cells]
        if outside:
            raise ConfigError(f"SupernetSettings.reduction_cells {outside} are outside 0..n_cells-1={self.n_cells - 1}")

    def spec(self, ways: int) -> SearchSpec:
        """Fewshot ops, one input channel, stem x3, channels not doubled, no running BN statistics (#15)."""
        return SearchSpec(space="fewshot", C=self.C, n_classes=ways, n_cells=self.n_cells, n_nodes=self.n_nodes,
                          in_channels=1, reduction_cells=self.reduction_cells, channel_growth=1,
                          track_running_stats=False, op_prune_threshold=self.op_prune_threshold,
                          pairwise_inputs=self.pairwise_inputs)


@dataclass(frozen=True)
class MetaTestSettings:
    """Meta-test (#8, #12, #19): ``tasks`` unseen tasks, ``steps`` adaptation steps on batches of ``batch_size``."""

    tasks: int = 125
    steps: int = 50
    batch_size: int = 10

    def __post_init__(self) -> None:
        check(self, {"tasks": at_least(1), "steps": at_least(1), "batch_size": at_least(1)})


TASK_RULES = {"steps": at_least(1), "batch_size": at_least(1), "w_lr": positive(), "w_weight_decay": at_least(0),
              "alpha_lr": positive(), "alpha_weight_decay": at_least(0), "phi_lr": positive(), "phi_steps": at_least(0),
              "t_max": positive(), "t_min": positive(), "drop_path_prob": between(0, 1, high_open=True),
              "proxy_weights": one_of("task_lr", "one")}
REPTILE_RULES = {"meta_epochs": at_least(0), "meta_batch_size": at_least(1), "theta_meta_lr": positive(),
                 "alpha_meta_lr": positive(), "phi_meta_lr": positive()}
ROW_RULES = {"experiment": one_of("lamanas"), "seed": at_least(0), "threads": at_least(0),
             "channels_last": one_of(True, False, "auto"),
             "loss": one_of(*LOSSES), "proxy": one_of("none", *PROXIES), "label_encoding": one_of("index", "one_hot")}


@dataclass(frozen=True)
class LamanasConfig:
    """Every setting of one row (module docstring). ``reptile.meta_epochs = 0`` is the no-meta-training control."""

    experiment: str = "lamanas"
    profile: str = "paper"
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    channels_last: bool | str = "auto"  # "auto": channels_last where safe (lib.training.layout)
    # the row
    loss: str = "ce"
    residual: bool = False
    proxy: str = "none"
    authors_code: bool = False
    label_encoding: str = "index"  # the code's class-index column (#17a); "one_hot" is the alternative
    # the parts of Algorithm 2
    data: DataSettings = field(default_factory=DataSettings)
    supernet: SupernetSettings = field(default_factory=SupernetSettings)
    task: TaskLearnerSettings = field(default_factory=TaskLearnerSettings)
    reptile: ReptileSettings = field(default_factory=ReptileSettings)
    meta_test: MetaTestSettings = field(default_factory=MetaTestSettings)
    snapshot_epochs: tuple[int, ...] = (0, 1, 15, 20, 122, 200)  # loss-network states kept for Figure 3

    @classmethod
    def for_profile(cls, profile: str, **changes: Any) -> "LamanasConfig":
        """The named profile's settings, then ``changes`` (dotted paths or nested dicts; unknown names raise)."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
        given = _dotted(changes)
        replaced = {name for name in given if "." not in name}  # a whole group given replaces the profile's
        profile_changes = {k: v for k, v in _dotted(PROFILES[profile]).items() if k.partition(".")[0] not in replaced}
        return with_changes(cls(profile=profile), {**profile_changes, **given})

    def __post_init__(self) -> None:
        object.__setattr__(self, "snapshot_epochs", tuple(self.snapshot_epochs))
        check(self, ROW_RULES)
        check(self.task, TASK_RULES)
        check(self.reptile, REPTILE_RULES)
        if self.task.t_min > self.task.t_max:
            raise ConfigError(f"task.t_min = {self.task.t_min} is above task.t_max = {self.task.t_max}")
        _check_row(self)
        _check_sizes(self)

    def test_task_learner(self) -> TaskLearnerSettings:
        """The meta-test task learner: meta-training's, with the meta-test steps and batch size and no drop-path."""
        return replace(self.task, steps=self.meta_test.steps, batch_size=self.meta_test.batch_size, drop_path_prob=0.0)

    def trains_phi(self) -> bool:
        """Whether the row has a loss network whose phi the proxy trains."""
        return self.loss != "ce"


def _check_row(cfg: LamanasConfig) -> None:
    """The loss / proxy / residual / authors_code / meta-training combination names one row, or the error says why."""
    if cfg.loss == "ce":
        if cfg.proxy != "none" or cfg.residual or cfg.authors_code:
            raise ConfigError("loss='ce' (the MetaNAS baseline) has no loss network: use proxy='none', "
                              "residual=False, authors_code=False")
    elif cfg.proxy not in PROXIES:
        raise ConfigError(f"a learned loss ({cfg.loss!r}) needs proxy in {PROXIES}, got {cfg.proxy!r}")
    if cfg.reptile.meta_epochs == 0 and cfg.loss != "ce":
        raise ConfigError("reptile.meta_epochs = 0 (no meta-training) is the control of the cross-entropy row; "
                          f"a {cfg.loss!r} loss network at its initialisation is not a learned loss")


def _check_sizes(cfg: LamanasConfig) -> None:
    """Batches fit the support sets they are drawn from; snapshots fall inside meta-training."""
    support_train = cfg.data.ways * cfg.data.shots_train
    support_test = cfg.data.ways * cfg.data.shots_test
    if cfg.task.batch_size > support_train:
        raise ConfigError(f"task.batch_size = {cfg.task.batch_size} exceeds the meta-training support set "
                          f"(ways x shots_train = {support_train})")
    if cfg.meta_test.batch_size > support_test:
        raise ConfigError(f"meta_test.batch_size = {cfg.meta_test.batch_size} exceeds the meta-test support set "
                          f"(ways x shots_test = {support_test})")
    late = [e for e in cfg.snapshot_epochs if not 0 <= e <= cfg.reptile.meta_epochs]
    if late:
        raise ConfigError(f"snapshot_epochs {late} are outside 0..reptile.meta_epochs={cfg.reptile.meta_epochs}")


C = TypeVar("C")


def with_changes(config: C, changes: Mapping[str, Any]) -> C:
    """``config`` with ``changes`` applied: ``{"supernet.C": 8}`` or ``{"supernet": {"C": 8}}`` alike.

    An unknown name raises a ``ValueError`` listing the valid dotted names, so a typo in a papermill
    ``-p`` parameter fails loudly.
    """
    nested: dict[str, dict[str, Any]] = {}
    plain: dict[str, Any] = {}
    for name, value in _dotted(changes).items():
        head, _, rest = name.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            plain[head] = value
    names = {f.name for f in dataclasses.fields(config)}
    unknown = sorted((set(nested) | set(plain)) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {type(config).__name__}; valid names: "
                         f"{sorted(flat_settings(config))}")
    groups = {name: with_changes(plain.pop(name, getattr(config, name)), value) for name, value in nested.items()}
    return replace(config, **plain, **groups)


def _dotted(changes: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts of changes flattened to dotted names (a copy: the caller's dicts are never modified)."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if isinstance(value, Mapping):
            out.update(_dotted(value, f"{prefix}{name}."))
        else:
            out[prefix + name] = value
    return out


def flat_settings(config: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf setting under its dotted name, e.g. ``{"seed": 0, ..., "supernet.C": 28, ...}``."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flat_settings(value, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = value
    return out


def reductions(config: Any, reference: Any) -> list[tuple[str, Any, Any]]:
    """(dotted setting, reference value, this value) for every result-relevant leaf where the two differ."""
    skip = {"profile", "seed", "device", "threads", "channels_last", "experiment"}
    ours, theirs = flat_settings(config), flat_settings(reference)
    return [(name, theirs[name], value) for name, value in ours.items() if name not in skip and value != theirs[name]]


PROFILES: dict[str, dict[str, Any]] = {
    "paper": {},
    # cpu, the evidence profile (issue 15): the paper's width and test-time adaptation (C=28, 50 steps), 25
    # meta-test tasks (the authors' count per evaluation), 16 meta-epochs of 4 tasks. At C=8 ten times more
    # meta-training changed nothing, at C=28 with 50 test steps 32 tasks already passed 50% (the table).
    "cpu": {"threads": 1, "reptile.meta_epochs": 16, "reptile.meta_batch_size": 4, "meta_test.tasks": 25,
            "snapshot_epochs": (0, 1, 4, 16)},
    # small: the first cpu sizes (all rows in about two hours on two cores; the pipeline runs, little is learned)
    "small": {"threads": 1, "supernet.C": 8, "reptile.meta_epochs": 8, "reptile.meta_batch_size": 4,
              "meta_test.steps": 25, "meta_test.tasks": 8, "snapshot_epochs": (0, 1, 4, 8)},
    "smoke": {"threads": 1, "data": {"dataset": "synthetic", "image_size": 14, "ways": 5, "shots_train": 3,
                                     "shots_test": 2},
              "supernet": {"C": 4, "n_cells": 2, "n_nodes": 2, "reduction_cells": (1,)},
              "task.steps": 2, "task.batch_size": 10, "reptile.meta_epochs": 2, "reptile.meta_batch_size": 2,
              "meta_test": {"tasks": 2, "steps": 3, "batch_size": 5}, "snapshot_epochs": (0, 1, 2)},
}


def paper_config(**changes: Any) -> LamanasConfig:
    """The authors' settings for a row, the reference the reduced profiles are compared with."""
    return LamanasConfig.for_profile("paper", **changes)
