"""LAMANAS learning curve: meta-test accuracy as a function of meta-training, from one run (issue 15, sec. 1).

One row of Table 1 (``row``, a name of :data:`lib.experiments.lamanas_rows.ROWS`) is meta-trained at
supernet width ``width`` for ``max(curve_at)`` meta-epochs with Algorithm 2's own stages
(:mod:`lib.experiments.lamanas`); after ``e`` meta-epochs, for each ``e`` of ``curve_at``, the
meta-parameters are meta-tested on the same ``test_tasks`` unseen tasks (task ``i`` depends only on
(seed, i), as in a Table-1 row) with ``test_steps`` adaptation steps. A point records its accuracies per
task (for a task-level interval), the tasks seen so far (``e * reptile.meta_batch_size``), how far phi and
alpha have moved since initialisation, and what it cost.

Meta-training in segments is the same computation as in one go: a Reptile meta-epoch depends only on the
meta-parameters, the optimizers and the task stream, all carried in the state (the meta learning rates have
no schedule over ``reptile.meta_epochs``). Evaluating a point does not change the meta-parameters (each test
task adapts a copy). The point ``e = 0`` is the no-meta-training control of the same seed.

The run resumes from its checkpoint: Algorithm 2's state plus the points done so far.

The config names its row by profile and changes; ``resolved`` holds the row's settings as that profile gives
them today (every result-relevant setting by dotted name), so the cache key changes whenever the profile
does (profile tables are data to the code fingerprint, :mod:`lib.pipeline.fingerprint`).
"""

import json
from dataclasses import asdict, dataclass, field
from statistics import fmean, pstdev
from typing import Any, ClassVar

import torch

from lib.experiments import lamanas
from lib.experiments.checks import ConfigError, Rule, at_least, check, one_of
from lib.experiments.lamanas import MetaState
from lib.experiments.lamanas_config import PROFILES, LamanasConfig, flat_settings
from lib.experiments.lamanas_rows import CONTROL, ROWS
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.device import resolve_device
from lib.pipeline.results import EXECUTION_FIELDS, RunOutput


@dataclass(frozen=True)
class LamanasCurveConfig:
    """One learning curve: a Table-1 row of ``profile`` at width ``width``, meta-tested after each of ``curve_at``."""

    experiment: str = "lamanas_curve"
    profile: str = "cpu"
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    row: str = "baseline"
    width: int = 8  # supernet.C
    curve_at: tuple[int, ...] = (0, 4, 8, 16, 32)  # meta-epochs after which the meta-parameters are meta-tested
    test_tasks: int = 20
    test_steps: int = 50
    resolved: dict[str, Any] | None = field(default=None, compare=False)  # set from the above (module docstring)

    RULES: ClassVar[dict[str, Rule]] = {
        "experiment": one_of("lamanas_curve"), "profile": one_of(*PROFILES), "seed": at_least(0),
        "threads": at_least(0), "row": one_of(*(r for r in ROWS if r != CONTROL)), "width": at_least(1),
        "test_tasks": at_least(1), "test_steps": at_least(1)}

    def __post_init__(self) -> None:
        object.__setattr__(self, "curve_at", tuple(self.curve_at))
        check(self, self.RULES)
        if not self.curve_at or list(self.curve_at) != sorted(set(self.curve_at)) or self.curve_at[0] < 0:
            raise ConfigError(f"LamanasCurveConfig.curve_at = {self.curve_at}: give increasing meta-epochs >= 0")
        row = {k: v for k, v in flat_settings(self.lamanas()).items() if k not in EXECUTION_FIELDS}
        row = json.loads(json.dumps(row))  # tuples as lists, as a stored record holds them
        if self.resolved is not None and self.resolved != row:
            changed = sorted(k for k in row.keys() | self.resolved.keys() if row.get(k) != self.resolved.get(k))
            raise ConfigError(f"LamanasCurveConfig.resolved differs from profile {self.profile!r} in {changed}: "
                              "the profile changed since; build the config without 'resolved'")
        object.__setattr__(self, "resolved", row)

    def lamanas(self, meta_epochs: int | None = None) -> LamanasConfig:
        """The Algorithm-2 config of the row, meta-trained for ``meta_epochs`` (default: the last point)."""
        epochs = self.curve_at[-1] if meta_epochs is None else meta_epochs
        return LamanasConfig.for_profile(self.profile, **{
            **ROWS[self.row].changes(), "seed": self.seed, "device": self.device, "threads": self.threads,
            "supernet.C": self.width, "reptile.meta_epochs": epochs, "meta_test.tasks": self.test_tasks,
            "meta_test.steps": self.test_steps, "snapshot_epochs": ()})


class _CurveCheckpoint:
    """Algorithm 2's checkpoint plus the curve's points (the state dict gains a ``curve`` entry)."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.inner, self.points = checkpoint, []

    def load(self) -> dict[str, Any] | None:
        saved = self.inner.load()
        if saved is not None:
            self.points = list(saved.pop("curve", []))
        return saved

    def save(self, state: dict[str, Any]) -> None:
        self.inner.save({**state, "curve": self.points})


def run(cfg: LamanasCurveConfig, checkpoint: Checkpoint) -> RunOutput:
    """Meta-train in segments up to each point of ``curve_at`` and meta-test there; resumes from ``checkpoint``."""
    final = cfg.lamanas()
    device = resolve_device(final.device)
    if final.threads:
        torch.set_num_threads(final.threads)
    train_tasks, test_tasks, source = lamanas.task_samplers(final.data)
    saved = _CurveCheckpoint(checkpoint)
    state = lamanas.initial_meta_parameters(final, device, saved)  # type: ignore[arg-type]
    for epoch in cfg.curve_at[len(saved.points):]:
        if epoch > len(state.history):
            lamanas.meta_train(cfg.lamanas(epoch), state, train_tasks, saved)  # type: ignore[arg-type]
        lamanas.meta_test_tasks(final, state, test_tasks, saved)  # type: ignore[arg-type]
        saved.points.append(point(final, state, epoch))
        state.tests = []
        saved.save(state.state_dict())
    metrics = {"curve": saved.points, "history": state.history, "genotype": state.model.genotype().to_string(),
               "row_config": asdict(final)}
    return RunOutput(metrics=metrics, data_source=source, device=device)


def point(cfg: LamanasConfig, state: MetaState, epoch: int) -> dict[str, Any]:
    """One point of the curve from the meta-test results in ``state.tests`` (accuracies in %)."""
    acc = [t["acc"] for t in state.tests]
    moved = lamanas.movement(state, lamanas.phi_vector(state.loss_net), lamanas.alpha_vector(state.model))
    return {
        "meta_epoch": epoch, "tasks_seen": epoch * cfg.reptile.meta_batch_size,
        "test_acc": fmean(acc), "test_acc_std": pstdev(acc), "test_accuracies": acc,
        "test_acc_task_steps": fmean(t["acc_task_steps"] for t in state.tests),
        "phi_distance_from_init": moved["phi_distance_from_init"],
        "alpha_distance_from_init": moved["alpha_distance_from_init"],
        "alpha_top_op_ratio": moved["alpha_top_op_ratio"],
        "meta_train_seconds": sum(h["seconds"] for h in state.history),
        "meta_test_seconds": sum(t["seconds"] for t in state.tests),
    }
