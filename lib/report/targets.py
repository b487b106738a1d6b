"""The evidence profile's targets (issue 15), read from the cache: where each stands at a profile, and for the
LNAS search, what the measured curve says reaching its bar would take.

One rule for every target with an interval (the scorecard's, :mod:`lib.report.rules`): met when the whole 95%
interval over seeds lies at or above the bar, not met when it lies below, inconclusive when it contains the
bar; a single run (no interval) is compared by its value and says so. Shown in: book/scaling ("The targets").
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lib.experiments import lamanas_sweep, lnas_sweep
from lib.experiments.lamanas import phi_vector
from lib.experiments.lamanas_config import LamanasConfig
from lib.experiments.lamanas_rows import ROWS, row_of
from lib.experiments.scaling import TARGETS, search_steps
from lib.experiments.search_diagnostics import NEAR_UNIFORM
from lib.pipeline.results import Record, result_fields
from lib.report.collapse import initial_loss_network
from lib.pipeline.provenance import made_on
from lib.report.stats import Interval, t_interval

SEEDS = (0, 1, 2)  # the evidence profiles' paired seeds
PHI_BAR = 0.01  # ||phi - phi_0|| / ||phi_0||: the issue sets no bar; below 1% the loss is still its random init
COLUMNS = ["target", "bar", "measured", "status", "what reaching it would take"]


def status(interval: Interval | None, bar: float) -> str:
    """met / not met / inconclusive (the interval contains the bar) / pending; one run is judged by its value."""
    if interval is None:
        return "pending"
    if not interval.has_interval:
        return f"{'met' if interval.estimate >= bar else 'not met'} on one run (no interval)"
    if interval.low >= bar:
        return "met"
    return "not met" if interval.high < bar else "inconclusive: the interval contains the bar"


def over_seeds(records: Sequence[Record], metric: str) -> Interval | None:
    """Mean of ``metric`` over the runs (one per seed) with its t-interval; None when there is no run."""
    values = [float(r.metrics[metric]) for r in records if r.status == "ok" and r.metrics.get(metric) is not None]
    return t_interval(values) if values else None


def initial_phi_norm(config: Mapping[str, Any]) -> float:
    """||phi_0|| of a stored LAMANAS run's config: its loss network as the run drew it (a run stores how far
    phi moved, not where it started)."""
    return float(phi_vector(initial_loss_network(config)).norm())


def phi_relative_movement(records: Sequence[Record]) -> list[float]:
    """||phi_end - phi_0|| / ||phi_0|| of every finished learned-loss run of our code (not the authors': #22)."""
    out = []
    for r in records:
        c = r.config
        if r.status == "ok" and c["loss"] != "ce" and not c["authors_code"] and c["reptile"]["meta_epochs"] > 0:
            out.append(float(r.metrics["phi_change_total"]) / initial_phi_norm(c))
    return out


def search_trajectory(record: Record) -> pd.DataFrame:
    """A search's mean top-op weight over uniform after every epoch: columns ``alpha steps``, ``top / uniform``."""
    per_epoch = search_steps(record.config) // record.config["search"]["epochs"]
    ratios = [float(np.mean([v for edges in e["top_over_uniform"].values() for v in edges]))
              for e in record.metrics.get("search_diagnostics", [])]
    return pd.DataFrame({"alpha steps": [per_epoch * (i + 1) for i in range(len(ratios))], "top / uniform": ratios})


FIT_POINTS = 3  # the fewest points a power law is fitted to: two would be a line through them, not a fit
MIN_POINTS = 4  # the fewest measured points a curve needs before it is extrapolated at all
FIT_TEXT = (f"power law fitted to the later half of the points, at least {FIT_POINTS} of them, of a curve of "
            f"{MIN_POINTS} or more")
"""The fit rule in words, the one place the book states both counts (the scaling chapter's targets table)."""


def power_law(x: Sequence[float], y: Sequence[float]) -> tuple[float, float] | None:
    """``(a, b)`` of ``y = a * x^b`` fitted (least squares in log-log) to the later half of the points, at least
    three of them (:data:`FIT_POINTS`); None with fewer than :data:`MIN_POINTS` points (too short to extrapolate), a non-positive
    value, or a curve that does not rise."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < MIN_POINTS:
        return None
    late = slice(min(len(x) // 2, len(x) - FIT_POINTS), None)
    if (x[late] <= 0).any() or (y[late] <= 0).any():
        return None
    b, log_a = np.polyfit(np.log(x[late]), np.log(y[late]), 1)
    return (float(math.exp(log_a)), float(b)) if b > 0 else None


def reach(x: Sequence[float], y: Sequence[float], target: float) -> float | None:
    """The ``x`` at which ``y`` reaches ``target``: the first measured point that did, else the :func:`power_law`
    extrapolated (None when there is none)."""
    for xi, yi in zip(x, y):
        if yi >= target:
            return float(xi)
    fit = power_law(x, y)
    return None if fit is None else float((target / fit[0]) ** (1 / fit[1]))


def steps_to_reach(trajectory: pd.DataFrame, bar: float = NEAR_UNIFORM) -> float | None:
    """Alpha steps at which a :func:`search_trajectory` reaches ``bar`` (fitted to ``top/uniform - 1``)."""
    return reach(trajectory["alpha steps"], trajectory["top / uniform"] - 1, bar - 1)


def seconds_per_alpha_step(records: Sequence[Record]) -> tuple[float, float] | None:
    """(fastest, median) one-core search seconds per alpha step over the DARTS search records made on a CPU (a
    lent GPU's are not one-core times). Wall times include any pause of the machine's other work, so the fastest
    is the best estimate of an uncontended step."""
    rates = [r.metrics["search_seconds"] / search_steps(r.config) for r in records
             if r.status == "ok" and r.metrics.get("search_seconds") and made_on(r.provenance) == "CPU"]
    return (float(min(rates)), float(np.median(rates))) if rates else None


def phi_curve(record: Record) -> pd.DataFrame:
    """A learning curve's (lamanas_curve record) phi movement: columns ``tasks seen``, ``meta-updates`` (tasks seen
    / the meta-batch), ``phi moved / |phi_0|`` and ``meta-train seconds`` (cumulative), from the first meta-trained
    point on."""
    row = record.metrics["row_config"]
    norm = initial_phi_norm(row)
    points = [p for p in record.metrics["curve"] if p["meta_epoch"] > 0]
    return pd.DataFrame({"tasks seen": [p["tasks_seen"] for p in points],
                         "meta-updates": [p["tasks_seen"] / row["reptile"]["meta_batch_size"] for p in points],
                         "phi moved / |phi_0|": [p["phi_distance_from_init"] / norm for p in points],
                         "meta-train seconds": [p["meta_train_seconds"] for p in points]})


def _learned_loss_curves(curves: Sequence[Record]) -> list[tuple[int, pd.DataFrame, tuple[float, float] | None]]:
    """Per finished learned-loss learning curve: (supernet width C, :func:`phi_curve`, its power-law fit over tasks
    seen or None)."""
    out = []
    for record in curves:
        row = record.metrics.get("row_config", {})
        if row.get("loss", "ce") != "ce" and record.status == "ok":
            curve = phi_curve(record)
            out.append((row["supernet"]["C"], curve, power_law(curve["tasks seen"], curve["phi moved / |phi_0|"])))
    return out


class PaperScale(NamedTuple):
    """phi's movement relative to its initial norm that one learning curve's power law gives at the paper profile,
    extrapolated along the tasks seen and along the meta-updates (the paper's meta-batch is larger than ours, so
    the two differ; which one phi's drift follows is not measured, so both are shown)."""

    C: int
    by_tasks: float
    by_updates: float

    @property
    def largest(self) -> float:
        return max(self.by_tasks, self.by_updates)


def _meta_batch(curve: pd.DataFrame) -> float:
    return float(curve["tasks seen"].iloc[-1] / curve["meta-updates"].iloc[-1])


def paper_scale(c: int, curve: pd.DataFrame, fit: tuple[float, float]) -> PaperScale:
    """One curve's :class:`PaperScale`: its fit at the paper profile's :func:`paper_tasks`, and at its
    :func:`paper_updates` meta-updates of our meta-batch (meta-updates are tasks seen / our meta-batch, so it is the
    same fit read at our meta-batch x the paper's meta-updates)."""
    return PaperScale(c, fit[0] * paper_tasks() ** fit[1], fit[0] * (_meta_batch(curve) * paper_updates()) ** fit[1])


def phi_at_paper_scale(curves: Sequence[Record]) -> list[PaperScale]:
    """Per learned-loss curve with a rising power law: its :func:`paper_scale` (the numbers :func:`phi_reach` shows).
    Shown in: book/scorecard (finding on #22), book/scaling (the targets table, by :func:`phi_reach`)."""
    return [paper_scale(c, curve, fit) for c, curve, fit in _learned_loss_curves(curves) if fit is not None]


def lamanas_curves(measurements: Sequence[Record]) -> list[Record]:
    """The LAMANAS learning curves among ``measurements`` made by the current code (a stale record is left out):
    what the targets table, and the scorecard quoting it, extrapolate."""
    return [r for r in measurements if r.mark is None and r.experiment == "lamanas_curve"]


def phi_reach(curves: Sequence[Record]) -> str:
    """Per learned-loss curve: the meta-training tasks (and one-core hours) at which phi reaches :data:`PHI_BAR`,
    and how far the fit says phi moves at the paper profile's meta-training tasks."""
    parts = []
    for c, curve, fit in _learned_loss_curves(curves):
        tasks, last = reach(curve["tasks seen"], curve["phi moved / |phi_0|"], PHI_BAR), curve.iloc[-1]
        seen = f"C={c}, measured to {last['tasks seen']:.0f} tasks ({last['phi moved / |phi_0|']:.2%})"
        if tasks is None or fit is None:
            why = (f"{len(curve)} meta-trained points, too few to extrapolate (a curve needs {MIN_POINTS} or more)"
                   if len(curve) < MIN_POINTS else "no rising power law to extrapolate")
            parts.append(f"{seen}: {why}")
            continue
        hours, at = tasks * last["meta-train seconds"] / last["tasks seen"] / 3600, paper_scale(c, curve, fit)
        parts.append(f"{seen}: about {tasks:,.0f} meta-training tasks, {hours:,.0f} one-core hours ({FIT_TEXT}); "
                     f"at the paper profile's {paper_tasks():,} tasks the fit gives {at.by_tasks:.2%}, and "
                     f"{at.by_updates:.2%} at its {paper_updates():,} meta-updates of our meta-batch of "
                     f"{_meta_batch(curve):g}")
    return "; ".join(parts) or "pending: the learned-loss learning curves"


def _interval_text(interval: Interval | None, digits: int = 1) -> str:
    return "pending" if interval is None else interval.text(digits)


def paper_updates() -> int:
    """Meta-updates of the paper profile: one per meta-epoch (of a meta-batch of tasks)."""
    return LamanasConfig.for_profile("paper").reptile.meta_epochs


def paper_tasks() -> int:
    """Meta-training tasks of the paper profile (the authors' settings): meta-epochs x meta-batch."""
    reptile = LamanasConfig.for_profile("paper").reptile
    return reptile.meta_epochs * reptile.meta_batch_size


def lamanas_rows(stored: Sequence[Record], curves: Sequence[Record]) -> list[dict[str, str]]:
    """The LAMANAS targets from a profile's stored runs: the baseline's meta-test accuracy over seeds, and
    phi's relative movement, with what the learning ``curves`` say reaching the phi bar would take."""
    baseline = [r for r in stored if row_of(r.config) == ROWS["baseline"]]
    accuracy = over_seeds(baseline, "test_acc")
    moved = phi_relative_movement(stored)
    phi_measured = (f"median {np.median(moved):.2%}, range {min(moved):.2%}-{max(moved):.2%} over {len(moved)} runs"
                    if moved else "pending")
    phi_status = ("pending" if not moved else "met in every run" if min(moved) >= PHI_BAR
                  else "not met in any run" if max(moved) < PHI_BAR else "met in some runs")
    return [
        {"target": "LAMANAS baseline meta-test accuracy (%)", "bar": f">= {TARGETS['lamanas']:g}",
         "measured": _interval_text(accuracy) + (" over Table 1's seeds, as LAMANAS Table 1's baseline cell"
                                                 if accuracy is not None else ""),
         "status": status(accuracy, TARGETS["lamanas"]),
         "what reaching it would take": "the meta-training curves at C=28 (above) say what more tasks buy"},
        {"target": "phi moved, ||phi - phi_0|| / ||phi_0||", "bar": f">= {PHI_BAR:.0%} (ours; the book's plan sets none)",
         "measured": phi_measured, "status": phi_status,
         "what reaching it would take": phi_reach(curves)},
    ]


class ProfileSearch(NamedTuple):
    """Where a profile's searched baseline ends: its alpha steps, and over its seeds the mean top-op weight
    over uniform (None before any run), read from ``records`` (loads, never runs)."""

    profile: str
    alpha_steps: int
    leaves: Interval | None
    records: list[Record]


def profile_search(profile: str, baseline: Sequence[Record] | None = None) -> ProfileSearch:
    """:class:`ProfileSearch` of ``profile`` from its stored baseline runs (``baseline``; read from the cache when
    None). Shown in: book/scaling (the targets table, and beside the measured search's curve)."""
    sweep = lnas_sweep.Sweep.for_profile(profile, ["baseline"], seeds=SEEDS)
    runs = list(sweep.stored() if baseline is None else baseline)
    return ProfileSearch(profile, search_steps(result_fields(sweep.config("baseline"))),
                         over_seeds(runs, "alpha_top_over_uniform"), runs)


def lnas_rows(profile: str, baseline: Sequence[Record], measured_searches: Sequence[Record]) -> list[dict[str, str]]:
    """The LNAS targets from a profile's stored baseline runs: test accuracy and the search's distance from
    uniform over seeds, and the alpha steps (and one-core hours) the longest measured search says 1.5x needs."""
    accuracy = over_seeds(baseline, "test_acc_last")
    here = profile_search(profile, baseline)
    leaves, steps_here = here.leaves, here.alpha_steps
    longest = max(measured_searches, key=lambda r: search_steps(r.config), default=None)
    needed = steps_to_reach(search_trajectory(longest)) if longest else None
    rates = seconds_per_alpha_step(measured_searches)
    if needed is None or rates is None:
        cost = "pending: the longest search measurement"
    else:
        searched = len(lnas_sweep.Sweep.for_profile(profile, lnas_sweep.SEARCHES, seeds=SEEDS).jobs(lnas_sweep.SEARCHES, SEEDS))
        hours = [needed * rate / 3600 for rate in rates]
        cost = (f"about {needed:,.0f} alpha steps (this profile: {steps_here:,}; {FIT_TEXT}, of a "
                f"{search_steps(longest.config):,}-step search): {hours[0]:.1f}-{hours[1]:.1f} one-core hours per "
                f"search (fastest and median measured step), {searched * hours[0]:.0f}-{searched * hours[1]:.0f} for "
                f"the profile's {searched} searched runs")
    return [
        {"target": "LNAS baseline test accuracy (%)", "bar": f">= {TARGETS['lnas']:g}",
         "measured": _interval_text(accuracy), "status": status(accuracy, TARGETS["lnas"]),
         "what reaching it would take": "the training curve above: images x epochs of retraining"},
        {"target": "LNAS search leaves uniform (mean top-op weight / uniform)", "bar": f">= {NEAR_UNIFORM:g}",
         "measured": _interval_text(leaves, 3), "status": status(leaves, NEAR_UNIFORM),
         "what reaching it would take": cost},
    ]


def table(profile: str, measurements: Sequence[Record]) -> tuple[pd.DataFrame, list[Record]]:
    """Every target of ``profile`` with its bar, the cached measurement, its status and the way to reach it
    (from the trusted ``measurements``: the scaling chapter's records); and the profile's records it was read
    from (nothing runs)."""
    curves = lamanas_curves(measurements)
    searches = [r for r in measurements if r.mark is None and r.experiment == "darts_cifar10"]
    lamanas = lamanas_sweep.Sweep.for_profile(profile).stored()
    lnas = lnas_sweep.Sweep.for_profile(profile, ["baseline"], seeds=SEEDS).stored()
    rows = lamanas_rows(lamanas, curves) + lnas_rows(profile, lnas, searches)
    return pd.DataFrame(rows, columns=COLUMNS), [*lamanas, *lnas]
