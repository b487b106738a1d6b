"""How large must a run be? The measurement runs of issue 15 (sec. 1), and their points read from the cache.

Three curves, each from runs that fit well inside one session of one core:

- **LAMANAS**: meta-test accuracy against meta-training tasks seen, for the baseline (MetaNAS with
  cross-entropy) and the LSTM + residual + inner-product row (the report's best), at two supernet widths
  (the small profile's C=8 and the paper's C=28), all at the paper's 50 test steps; each curve is one run of
  :mod:`lib.experiments.lamanas_curve` (meta-test after 0, 4, 8, 16, 32 meta-epochs of 4 tasks), which
  also records phi's and alpha's movement along it.
- **LNAS search**: the DARTS baseline at growing search budgets (search images x epochs; alpha steps =
  images / batch x epochs) with a fixed retraining budget: how far the alphas leave uniform
  (``alpha_top_over_uniform``, per epoch in ``search_diagnostics``) and what the derived network reaches.
- **LNAS training**: the small profile's search, retrained on growing training budgets (images x epochs).

The LNAS points are ordinary ``darts_cifar10`` records (a grid of baseline configs), so a point that
coincides with a profile's baseline is shared with the book's tables. Runs are ordered cheapest first.
"""

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from lib.experiments import costs, darts_cifar10, lamanas_curve
from lib.experiments.darts_cifar10 import DartsCifarConfig
from lib.experiments.lamanas_curve import LamanasCurveConfig
from lib.experiments.profiles import PROFILES as ALL_PROFILES
from lib.pipeline import results
from lib.pipeline.provenance import made_on
from lib.pipeline.results import Record
from lib.pipeline.worklist import Estimator, records_of

# The measurements are made from the ``small`` profile (its sizes varied along one axis at a time), so they
# stay valid whatever size the ``cpu`` profile they informed is given; the book at ``cpu`` shows them.
MEASURED_FROM = {"cpu": "small", "small": "small", "smoke": "smoke"}
# (row, width, meta-epochs at which to meta-test); 16 test tasks, 50 test steps each
LAMANAS_CURVES: dict[str, list[dict[str, Any]]] = {
    "small": [dict(row=row, width=8, curve_at=(0, 4, 8, 16, 32), test_tasks=16, test_steps=50)
              for row in ("baseline", "lstm-res-ip")]
             + [dict(row=row, width=28, curve_at=(0, 8, 16, 32), test_tasks=16, test_steps=50)
                for row in ("baseline", "lstm-res-ip")],
    "smoke": [dict(row="baseline", width=4, curve_at=(0, 1, 2), test_tasks=2, test_steps=3)],
}
# (search images per half, search epochs) with training fixed at (images, epochs); and the other way round.
# Every search records the alphas' distance from uniform after every epoch. (2500, 30), 2,340 alpha steps, tests
# the power law fitted to the (2500, 16) search, which put the 1.5x bar at about 2,264 steps (scaling chapter).
SEARCH_AXIS = {"small": ((800, 2), (1600, 4), (2500, 6), (2500, 16), (2500, 30)), "smoke": ((64, 2), (64, 3))}
SEARCH_AXIS_TRAINING = {"small": (10000, 8), "smoke": (128, 2)}
TRAINING_AXIS = {"small": ((2560, 6), (5000, 8), (10000, 8), (20000, 8), (45000, 8)), "smoke": ((128, 2), (128, 3))}
TRAINING_AXIS_SEARCH = {"small": (800, 2), "smoke": (64, 2)}


@dataclass(frozen=True)
class Measurement:
    """One measurement run: which curve it belongs to (``curve``), its config and its run function."""

    curve: str  # "lamanas", "lnas_search" or "lnas_training"
    config: Any
    run: Callable

    @property
    def name(self) -> str:
        c = self.config
        if self.curve == "lamanas":
            return f"curve {c.row} C={c.width} to {c.curve_at[-1]} meta-epochs"
        return (f"{self.curve} search {c.data.n_search}x{c.search.epochs}, "
                f"train {c.data.n_train}x{c.training.epochs}")


def _design(profile: str) -> str:
    """The profile the measurements for ``profile``'s book are made from (``MEASURED_FROM``; else itself)."""
    return MEASURED_FROM.get(profile, profile)


def lamanas_curves(profile: str, seed: int = 0) -> list[LamanasCurveConfig]:
    base = _design(profile)
    return [LamanasCurveConfig(profile=base, seed=seed, **changes) for changes in LAMANAS_CURVES.get(base, [])]


def darts_point(profile: str, search: tuple[int, int], training: tuple[int, int], seed: int = 0) -> DartsCifarConfig:
    """The baseline of ``profile`` with (search images, epochs) and (training images, epochs) replaced."""
    base = DartsCifarConfig.for_profile(profile)
    data = dict(n_search=search[0], n_train=training[0])
    return DartsCifarConfig.for_profile(profile, seed=seed, data={**_group(base.data), **data},
                                        search={**_group(base.search), "epochs": search[1]},
                                        training={**_group(base.training), "epochs": training[1]})


def _group(group: Any) -> dict[str, Any]:
    return dict(vars(group))


def search_grid(profile: str, seed: int = 0) -> list[DartsCifarConfig]:
    base = _design(profile)
    return [darts_point(base, s, SEARCH_AXIS_TRAINING[base], seed) for s in SEARCH_AXIS.get(base, ())]


def training_grid(profile: str, seed: int = 0) -> list[DartsCifarConfig]:
    base = _design(profile)
    return [darts_point(base, TRAINING_AXIS_SEARCH[base], t, seed) for t in TRAINING_AXIS.get(base, ())]


def measurements(profile: str, seed: int = 0) -> list[Measurement]:
    """Every measurement run of ``profile`` (none for a profile without a design, e.g. ``paper``)."""
    if profile not in ALL_PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(ALL_PROFILES)}")
    out = [Measurement("lamanas", c, lamanas_curve.run) for c in lamanas_curves(profile, seed)]
    out += [Measurement("lnas_search", c, darts_cifar10.run) for c in search_grid(profile, seed)]
    training = [Measurement("lnas_training", c, darts_cifar10.run) for c in training_grid(profile, seed)]
    return out + [m for m in training if m.config not in {o.config for o in out}]


def search_steps(config: Any) -> int:
    """Alpha steps of a DARTS search: batches per epoch of one search half (last partial batch dropped) x epochs."""
    return config["data"]["n_search"] // config["search"]["batch"] * config["search"]["epochs"]


def by_cost(items: Sequence[Measurement], seconds: Callable[[Any], float]) -> list[Measurement]:
    """``items`` cheapest first (the cheapest informative points come first in the queue)."""
    return sorted(items, key=lambda m: seconds(m.config))


TARGETS = {"lamanas": 60.0, "lnas": 70.0}  # issue 15's bars: LAMANAS baseline meta-test and LNAS baseline test accuracy (%)


def _record(config: Any, root: Any = None) -> tuple[Record | None, str]:
    """The stored record of ``config`` (None if there is none) and the point's status: done, stale or pending."""
    path = results.record_path(config, root)
    if not path.exists():
        return None, "pending"
    record = results.check(Record.load(path), config)
    return record, "done" if record.mark is None else "stale"


def cost_basis(record: Record) -> str:
    """How a done point's cost was got: "measured" (one CPU core), else "measured on <accelerator>", which is
    not core time."""
    device = made_on(record.provenance)
    return "measured" if device == "CPU" else f"measured on {device} (not core time)"


def _curve_points(m: Measurement, estimator: Estimator, root: Any) -> list[dict[str, Any]]:
    cfg, (record, status) = m.config, _record(m.config, root)
    done = {p["meta_epoch"]: p for p in (record.metrics["curve"] if record else [])}
    out = []
    for epoch in cfg.curve_at:
        p = done.get(epoch)
        base = {"curve": "lamanas", "series": f"{cfg.row}, C={cfg.width}", "x": epoch * cfg.lamanas().reptile.meta_batch_size,
                "meta_epoch": epoch, "status": status if p else "pending"}
        if p:
            cost = p["meta_train_seconds"] + p["meta_test_seconds"]
            out.append({**base, "y": p["test_acc"], "accuracies": p["test_accuracies"], "cost_s": cost, "cost": cost_basis(record),
                        "phi_distance": p["phi_distance_from_init"], "alpha_top_op_ratio": p["alpha_top_op_ratio"]})
        else:
            cost, _ = estimator.seconds(cfg.lamanas(epoch if cfg.row == "baseline" else max(epoch, 1)))
            out.append({**base, "y": None, "cost_s": cost, "cost": "estimated"})
    return out


def _darts_point(m: Measurement, estimator: Estimator, root: Any) -> dict[str, Any]:
    cfg, (record, status) = m.config, _record(m.config, root)
    fields = results.result_fields(cfg)
    x = search_steps(fields) if m.curve == "lnas_search" else cfg.data.n_train * cfg.training.epochs
    base = {"curve": m.curve, "series": "DARTS baseline", "x": x, "status": status,
            "search": f"{cfg.data.n_search} x {cfg.search.epochs}", "training": f"{cfg.data.n_train} x {cfg.training.epochs}"}
    if record is None:
        cost, _ = estimator.seconds(cfg)
        return {**base, "y": None, "cost_s": cost, "cost": "estimated"}
    per_epoch = [sum(v for edges in e["top_over_uniform"].values() for v in edges)
                 / sum(len(edges) for edges in e["top_over_uniform"].values()) for e in record.metrics.get("search_diagnostics", [])]
    return {**base, "y": record.metrics["test_acc_last"], "cost_s": record.provenance["wall_time_s"], "cost": cost_basis(record),
            "top_over_uniform": record.metrics.get("alpha_top_over_uniform"), "top_over_uniform_per_epoch": per_epoch}


def points(profile: str, seed: int = 0, root: Any = None) -> list[dict[str, Any]]:
    """Every point of the three curves, read from the cache (nothing runs): ``curve``, ``series``, ``x``, ``y``
    (accuracy %, None while pending), ``status`` (done / stale / pending) and ``cost_s`` (one-core seconds:
    the record's, else estimated from records of the same kind or the cost model), plus per-curve extras."""
    items = measurements(profile, seed)
    experiments = {m.config.experiment for m in items} | {"lamanas"}
    estimator = Estimator.from_records(costs.model_seconds, records_of(experiments, root))
    out: list[dict[str, Any]] = []
    for m in items:
        out += _curve_points(m, estimator, root) if m.curve == "lamanas" else [_darts_point(m, estimator, root)]
    return out


def stored_records(profile: str, seed: int = 0, root: Any = None) -> list[Record]:
    """The records of the measurement runs made so far (marked when stale), for the notebook's source lines."""
    found = [_record(m.config, root)[0] for m in measurements(profile, seed)]
    return [r for r in found if r is not None]
