"""LNAS (CS231N report): Table 1 cell by cell and the prose claims L1-L14, judged from cached runs.

Comparisons are judged by the paired-difference rules of :mod:`lib.report.rules` over the seeds the rows
share. Cells and claims resting on a search that never left uniform say so ("search near uniform").
"""

import re
from dataclasses import dataclass, replace
from functools import cached_property
from statistics import fmean
from typing import Callable, Iterable

import pandas as pd

from lib.experiments.lnas import SPARSITIES
from lib.experiments.lnas_sweep import REWIND, ROWS, Sweep
from lib.experiments.search_diagnostics import NEAR_UNIFORM
from lib.pipeline import results
from lib.report import compare, lnas as report, rules
from lib.report.devices import applied_margin, offset_margin, spans_note, widened_for_offset, widening_note
from lib.report.scorecard.tables import Column, cells
from lib.report.scorecard.verdict import ACCURACY, NOT_TESTABLE, SIZE, Verdict, missing
from lib.report.seeds import difference_support, per_seed
from lib.report.wiring import TIED
from lib.report.stats import t_interval

SEEDS = (0, 1, 2)
MID_SPARSITIES = (0.5, 0.625, 0.75)  # L8: "0.5, 0.625, 0.75 reach over 76% vs ... around 70% for higher or lower"
LOWER_SPARSITIES, HIGHER_SPARSITIES = (0.125, 0.25, 0.375), (0.875, 0.95)
# L9 "best at high and low sparsity": the report's Variant 2 column dips at 0.5 and 0.625 (74.12, 73.60) and is
# at least 77.47 below and 79.86 above them
V2_LOW, V2_MIDDLE, V2_HIGH = (0.125, 0.25, 0.375), (0.5, 0.625), (0.75, 0.875, 0.95)
TICKETS = 3  # L9: "three winning tickets under Variant 2"
KEYS = ["variant", "sparsity"]
COLUMNS = [Column("val_acc_mid", "best val. accuracy up to the middle epoch (%)", ACCURACY),
           Column("val_acc_final", "best val. accuracy up to the last epoch (%)", ACCURACY),
           Column("flops_M", "FLOPs (M; ours: multiply-adds of the final model)", SIZE)]
FLOPS_NOT_MEASURED = ("its values look like a formula of the sparsity applied to one network, not counts of the "
                      "evaluated networks (INCONSISTENCIES #33: identical for Variant 1 and Variant 2, which prune "
                      "different things, and larger at 0.95 than at 0.875)")
STALE = "stale (made by code that has changed since; the evidence sweep re-runs them)"
V1_MID = ("Variant 1 runs the baseline's procedure with the same seed until it prunes at the middle epoch, so its "
          "middle-epoch cell repeats the baseline's (equal on the same device; across devices it differs only by the "
          "device's noise, LNAS Table 1 chapter) and says nothing about pruning")


@dataclass
class LnasEvidence:
    """The cached LNAS runs of one profile (one row per run and seed) and the search-step costs."""

    profile: str
    runs: list[results.Record]
    step_costs: pd.DataFrame | None
    step_records: list[results.Record]
    offset: tuple[float, str] | None = None  # (bound, profile measured at): see report.device_offset_bound

    @property
    def records(self) -> list[results.Record]:
        return self.runs + self.step_records

    @cached_property
    def rows(self) -> pd.DataFrame:
        """One row per run (:func:`lib.report.lnas.rows`), built once."""
        table = report.rows(self.runs) if self.runs else pd.DataFrame()
        return table if len(table) else pd.DataFrame(columns=KEYS + ["seed", "search_top_over_uniform"] + [c.name for c in COLUMNS])

    def values(self, metric: str = "val_acc_final") -> dict[tuple, dict[int, float]]:
        """{(variant, sparsity): {seed: value}} of one metric."""
        return per_seed(self.rows, KEYS, metric) if len(self.rows) else {}

    def near_uniform(self, variants: tuple[str, ...], sparsities: Iterable[float] | None = None) -> str:
        """"searches near uniform: k of n" over the runs of ``variants`` (at ``sparsities``, where given; empty when
        none ran)."""
        ratios = self.runs_of(variants, sparsities)["search_top_over_uniform"].dropna()
        return f"searches near uniform: {int((ratios < NEAR_UNIFORM).sum())} of {len(ratios)} runs" if len(ratios) else ""

    def stale_runs(self) -> dict[tuple, int]:
        """{(variant, sparsity): runs whose record is marked (stale: made by code that has changed since)}, marked rows only."""
        if not len(self.rows):
            return {}
        marked = self.rows["record"].map(lambda record: record.is_stale)
        return {k: int(n) for k, n in marked.groupby([self.rows[k] for k in KEYS]).sum().items() if n}

    def runs_of(self, compared: tuple[str, ...], sparsities: Iterable[float] | None = None) -> pd.DataFrame:
        """The runs of the ``compared`` rows, at ``sparsities`` only where given (the baseline and controls have none)."""
        runs = self.rows[self.rows["variant"].isin(compared)] if len(self.rows) else self.rows
        return runs if sparsities is None else runs[runs["sparsity"].isin([*sparsities, "N/A"])]

    def stale_note(self, variants: tuple[str, ...], sparsities: Iterable[float] | None = None) -> str:
        """"of the runs of Variant 2 and Baseline, k of n stale ..." over the runs of ``variants`` (at ``sparsities``,
        where given; empty when none is marked stale)."""
        runs = self.runs_of(variants, sparsities)
        marked = int(runs["record"].map(lambda record: record.is_stale).sum()) if len(runs) else 0
        return f"of the runs of {' and '.join(variants)}, {marked} of {len(runs)} {STALE}" if marked else ""

    def tied_rows(self) -> set[tuple]:
        """The (variant, sparsity) rows with a run whose wiring came from ties alone or cannot be read
        (:func:`lib.report.lnas.tied_rows`)."""
        return report.tied_rows(self.rows)

    def tied_note(self, variants: tuple[str, ...]) -> str:
        """Which rows of ``variants`` have a run whose wiring is all ties or cannot be read (empty when none)."""
        tied = sorted(k for k in self.tied_rows() if k[0] in variants)
        if not tied:
            return ""
        by_variant = {v: ", ".join(f"{p:g}" for w, p in tied if w == v) for v in dict.fromkeys(w for w, _ in tied)}
        return ("a run's derived wiring is all ties (inputs 0 and 1, not the search's) or reused a search re-run since, "
                "so the row is left out, at " + "; ".join(f"{v} p={ps}" for v, ps in by_variant.items()))

    def widening(self, compared: tuple[str, ...], seeds: Iterable[int], sparsities: Iterable[float] | None = None) -> float:
        """How far to widen a paired difference of the ``compared`` rows (at ``sparsities`` only, where given; the
        baseline has none) over ``seeds``: the share of the seeds whose runs span devices times the device offset
        bound (0 without crossing pairs or without a measured bound)."""
        if self.offset is None or not len(self.rows):
            return 0.0
        return offset_margin(self.runs_of(compared, sparsities), seeds, self.offset[0])

    def devices(self, variants: tuple[str, ...], seeds: Iterable[int], sparsities: Iterable[float] | None = None) -> str:
        """The caveat when, at some of ``seeds``, the runs of the compared rows ``variants`` (at ``sparsities``, where
        given) span devices."""
        return spans_note(self.runs_of(variants, sparsities), seeds) if len(self.rows) else ""


def evidence(profile: str) -> LnasEvidence:
    """Load (never run) every LNAS row and search-cost measurement cached at ``profile``, and the device offset
    bound measured at it (else at the other reduced profile)."""
    runs = Sweep(profile, ROWS, SEEDS, SPARSITIES).stored()
    costs = [r for r in results.load_records("lnas_search_cost") if r.config.get("profile") == profile]
    latest = list({r.config["sparsity"]: r for r in costs}.values())  # the newest measurement per sparsity
    has_dense = any(r.config["sparsity"] == 0.0 for r in latest)
    return LnasEvidence(profile, runs, report.step_costs(latest) if has_dense else None, latest,
                        report.device_offset(profile, runs))


def _row_name(row: pd.Series) -> str:
    return "Baseline" if row["variant"] == "Baseline" else f"{row['variant']}, p={row['sparsity']}"


def _fixed(tied: set[tuple]) -> Callable[[pd.Series, Column], str | None]:
    """``cells``' ``fixed``: the report's FLOPs do not behave like a measurement, Variant 1's middle epoch is the baseline's, and a row whose
    every run took its wiring from ties (``tied``) does not measure its search."""
    def reason(row: pd.Series, col: Column) -> str | None:
        if col.name == "flops_M":
            return rules.not_a_measurement("FLOPs", FLOPS_NOT_MEASURED).reason
        if col.name == "val_acc_mid" and row["variant"] == "Variant 1":
            return rules.fixed_by_construction(V1_MID).reason
        if (row["variant"], row["sparsity"]) in tied:
            return rules.fixed_by_construction(TIED).reason
        return None
    return reason


def table_rows(ev: LnasEvidence) -> list[dict]:
    """One scorecard row per cell of the report's Table 1. Shown in: book/scorecard."""
    theirs = report.reported_table1()
    near = ev.rows.groupby(KEYS)["search_top_over_uniform"].mean() if len(ev.rows) else pd.Series(dtype=float)
    stale = ev.stale_runs()

    def label(row: pd.Series, col: Column) -> str:  # a search's and a run's state mark every column of its row
        key = (row["variant"], row["sparsity"])
        return "; ".join(filter(None, ["search near uniform" if near.get(key, 2.0) < NEAR_UNIFORM else "",
                                       f"{stale[key]} run(s) stale" if key in stale else ""]))
    return cells(theirs, ev.rows, KEYS, COLUMNS, theirs["variant"] == "Baseline", ev.profile, _row_name,
                 _fixed(ev.tied_rows()), label, ev.offset[0] if ev.offset else None)


def _per_seed_mean(values: dict[tuple, dict[int, float]], keys: list[tuple]) -> dict[int, float]:
    """Per seed, the mean over ``keys`` of the rows that ran at that seed (seeds where all of them ran)."""
    present = [values.get(k, {}) for k in keys]
    seeds = set.intersection(*(set(v) for v in present)) if present and all(present) else set()
    return {s: fmean(v[s] for v in present) for s in sorted(seeds)}


def _difference(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    return {s: a[s] - b[s] for s in sorted(set(a) & set(b))}


def _judge(rule: Callable, diffs: dict[int, float], what: str, ev: LnasEvidence, variants: tuple[str, ...],
           compared: tuple[str, ...] | None = None, sparsities: Iterable[float] | None = None) -> Verdict:
    """``rule`` on the paired differences ``diffs`` of the ``compared`` rows (at ``sparsities``, where given), with
    :func:`_notes`."""
    if not diffs:
        return missing(ev.profile, what)
    verdict = _paired(rule, diffs, ev, compared or variants, sparsities)
    notes = _notes(ev, variants, compared or variants, diffs, sparsities)
    return replace(verdict, basis="; ".join([verdict.basis, *notes]))


def _bare(rule: Callable, diffs: dict[int, float], widen: float = 0.0) -> Verdict:
    """``rule`` on the t-interval of the paired differences ``diffs`` (at least one), widened by ``widen`` on both
    sides (a device offset its pairs cannot cancel), without notes; "ours" is the interval as measured, the basis
    gives the widened one."""
    measured, support = t_interval(list(diffs.values())), difference_support("val_acc_final")
    widen = applied_margin(measured, widen)
    ruling = rule(widened_for_offset(measured, widen, support))
    return Verdict(ruling.status, measured.clipped(support).text(),
                   "; ".join(filter(None, [ruling.reason, widening_note(widen)])), widen)


def _paired(rule: Callable, diffs: dict[int, float], ev: LnasEvidence, compared: tuple[str, ...],
            sparsities: Iterable[float] | None = None) -> Verdict:
    """:func:`_bare` widened by the device offset for the share of ``diffs``' seeds whose ``compared`` runs (at
    ``sparsities``, where given) span devices (:meth:`LnasEvidence.widening`); the basis says where the offset
    was measured when that is another profile."""
    verdict = _bare(rule, diffs, widen := ev.widening(compared, diffs, sparsities))
    elsewhere = ev.offset is not None and ev.offset[1] != ev.profile and widen > 0
    return replace(verdict, basis=verdict.basis + f" (the offset measured at {ev.offset[1]})") if elsewhere else verdict


def _notes(ev: LnasEvidence, variants: tuple[str, ...], compared: tuple[str, ...], seeds: Iterable[int],
           sparsities: Iterable[float] | None = None) -> list[str]:
    """How many searches of ``variants`` ended near uniform, which of the ``compared`` rows took their wiring from
    ties, whether their runs at ``seeds`` (and ``sparsities``, where given) were made on different devices, and how
    many of those runs are stale (the empty ones left out)."""
    return [n for n in (ev.near_uniform(variants, sparsities), ev.tied_note(compared), ev.devices(compared, seeds, sparsities),
                        ev.stale_note(compared, sparsities)) if n]


def _all_parts(parts: list[tuple[str, Verdict]], notes: list[str] = ()) -> Verdict:
    """A claim made of named parts: :func:`rules.all_of` their statuses; "ours" and the basis name each part."""
    ruling = rules.all_of([rules.Ruling(v.status, f"{name}: {v.basis}") for name, v in parts])
    ours = "; ".join(f"{name}: {v.ours}" for name, v in parts if v.ours)
    return Verdict(ruling.status, ours, "; ".join([ruling.reason, *notes]))


def _sparsities(values: dict, variant: str, chosen) -> list[tuple]:
    return [(variant, p) for p in SPARSITIES if (variant, p) in values and p in chosen]


def _uncovered(ev: LnasEvidence, variants: tuple[str, ...]) -> Verdict | None:
    """A claim over all eight sparsities waits until each of ``variants`` has a run at every one ("pending")."""
    v = ev.values()
    absent = {variant: [p for p in SPARSITIES if (variant, p) not in v] for variant in variants}
    what = " and ".join(f"{variant} at p=" + ", ".join(f"{p:g}" for p in ps) for variant, ps in absent.items() if ps)
    return missing(ev.profile, what) if what else None


def _l8(ev: LnasEvidence) -> Verdict:
    """Variant 1 peaks in the middle: its middle sparsities above the lower ones and above the higher ones, both."""
    if pending := _uncovered(ev, ("Variant 1",)):
        return pending
    v = ev.values()
    mean = lambda chosen: _per_seed_mean(v, _sparsities(v, "Variant 1", chosen))
    mid = mean(MID_SPARSITIES)
    parts = [(f"middle minus {side}", _paired(rules.better_than, _difference(mid, mean(chosen)), ev, ("Variant 1",),
                                              MID_SPARSITIES + chosen))
             for side, chosen in (("lower", LOWER_SPARSITIES), ("higher", HIGHER_SPARSITIES))]
    return _all_parts(parts, _notes(ev, ("Variant 1",), ("Variant 1",), mid))


def _common_mean(ev: LnasEvidence, a: str, b: str) -> tuple[dict[int, float], dict[int, float], list[float]]:
    """Per seed, the means of rows ``a`` and ``b`` over the sparsities both ran, leaving out a sparsity where either
    row's wiring is tied (its cells are not testable: :mod:`lib.report.wiring`); and those sparsities."""
    v, tied = ev.values(), ev.tied_rows()
    common = [p for p in SPARSITIES if (a, p) in v and (b, p) in v and not {(a, p), (b, p)} & tied]
    return _per_seed_mean(v, [(a, p) for p in common]), _per_seed_mean(v, [(b, p) for p in common]), common


def _l9(ev: LnasEvidence) -> Verdict:
    """Three parts, all needed: Variant 2 above Variant 1 over the shared sparsities; Variant 2's low and high
    sparsities above its middle ones (rows whose wiring is all ties left out); three winning tickets."""
    if pending := _uncovered(ev, ("Variant 2", "Variant 1")):
        return pending
    v2, v1, common = _common_mean(ev, "Variant 2", "Variant 1")
    v, tied = ev.values(), ev.tied_rows()
    kept = lambda chosen: [k for k in _sparsities(v, "Variant 2", chosen) if k not in tied]
    at = lambda keys: "p=" + ", ".join(f"{p:g}" for _, p in keys)
    parts = [("Variant 2 minus Variant 1", _paired(rules.better_than, _difference(v2, v1), ev, ("Variant 2", "Variant 1"),
                                                   common))]
    for side, chosen in (("low", V2_LOW), ("high", V2_HIGH)):
        diffs = _difference(_per_seed_mean(v, kept(chosen)), _per_seed_mean(v, kept(V2_MIDDLE)))
        name = f"Variant 2 {side} ({at(kept(chosen))}) minus middle ({at(kept(V2_MIDDLE))})"
        used = [p for _, p in kept(chosen) + kept(V2_MIDDLE)]
        parts.append((name, _paired(rules.better_than, diffs, ev, ("Variant 2",), used) if diffs else
                      Verdict(NOT_TESTABLE, "", rules.fixed_by_construction(TIED).reason)))
    parts.append(("winning tickets", _tickets(ev)))
    used = sorted(set(common) | {p for _, p in kept(SPARSITIES)})  # every sparsity one of the parts compares
    return _all_parts(parts, _notes(ev, ("Variant 2",), ("Variant 2", "Variant 1"), v2, used))


def _tickets(ev: LnasEvidence) -> Verdict:
    """"Three winning tickets under Variant 2": held when at least :data:`TICKETS` Variant-2 rows are above the
    baseline by the better-than rule, did not hold when fewer rows can be (the others entirely below it),
    inconclusive otherwise; rows whose wiring is all ties are left out."""
    v, tied = ev.values(), ev.tied_rows()
    base = v.get(("Baseline", "N/A"), {})
    if not base:
        return missing(ev.profile, "the baseline")
    rows = [k for k in _sparsities(v, "Variant 2", SPARSITIES) if k not in tied]
    compared = ("Variant 2", "Baseline")
    statuses = [_paired(rules.better_than, d, ev, compared, (k[1],)).status for k in rows if (d := _difference(v[k], base))]
    above, possible = statuses.count(rules.HELD), sum(s != rules.NOT_HELD for s in statuses)
    status = rules.HELD if above >= TICKETS else rules.NOT_HELD if possible < TICKETS else rules.INCONCLUSIVE
    n_tied = len(tied & set(_sparsities(v, "Variant 2", SPARSITIES)))
    left_out = f", {n_tied} with tied wiring left out" if n_tied else ""
    return Verdict(status, f"{above} of {len(statuses)} rows above the baseline{left_out}",
                   f"held with at least {TICKETS} rows above the baseline (better-than rule per row), did not hold "
                   f"when fewer than {TICKETS} can be ({possible} not entirely below), else inconclusive")


def _l10(ev: LnasEvidence) -> Verdict:
    if ("Variant 2", 0.95) in ev.tied_rows():
        return Verdict(NOT_TESTABLE, "", rules.fixed_by_construction(TIED).reason)
    v = ev.values()
    diffs = _difference(v.get(("Variant 2", 0.95), {}), v.get(("Baseline", "N/A"), {}))
    return _judge(rules.better_than, diffs, "Variant 2 at p=0.95 and the baseline", ev, ("Baseline", "Variant 2"),
                  sparsities=(0.95,))


def reported_slowdown() -> float:
    """L11's Variant 2 search time over Variant 1's, from the claim's words in ``data/reported/`` ("around 2 hours
    for Variant 1 vs about 5.2 hours for Variant 2", Sec. 5.3)."""
    claim = compare.reported_claim("lnas", "L11")
    hours = {variant: float(h) for h, variant in re.findall(r"([0-9.]+) hours for Variant (\d)", claim)}
    if set(hours) != {"1", "2"}:
        raise ValueError(f"L11 should give the search time of Variant 1 and 2 ('N hours for Variant k'), got {claim!r}")
    return hours["2"] / hours["1"]


def search_step_cost(ev: LnasEvidence) -> Verdict:
    """L11: is a pruned (Variant 2) search step about 2.6x an unpruned one? Shown in: book/scorecard (L11, findings).

    Per sparsity, the step with pruned paths skipped over the same supernet masked but computed, timed back to
    back in one record, divided by that ratio at sparsity 0 (where the two ways differ only in that skipping
    leaves out the 'none' op): an estimate of a pruned step over an unpruned one that does not compare
    separately timed records. Judged like a size: against the report's ratio with the size tolerance.
    """
    if ev.step_costs is None:
        return missing(ev.profile, "the search-step cost measurement")
    costs = ev.step_costs
    ratios = costs.loc[costs["target sparsity"] > 0, report.PRUNED_OVER_UNPRUNED].dropna()
    if ratios.empty:
        return Verdict(NOT_TESTABLE, "", "the step-cost records hold no masked-but-computed timing to compare with")
    slowdown = reported_slowdown()
    bar = slowdown / (1 + rules.SIZE_TOLERANCE)
    status = rules.HELD if ratios.median() >= bar else rules.NOT_HELD if ratios.max() < bar else rules.INCONCLUSIVE
    noise = costs.loc[costs["target sparsity"] > 0, "time vs DARTS (masked, computed)"].dropna()
    spread = f"; separately timed records of the same work differ by {noise.min():.2f}-{noise.max():.2f}x here" if len(noise) else ""
    return Verdict(status, f"a pruned search step costs {ratios.min():.2f}-{ratios.max():.2f}x an unpruned one "
                           f"(median {ratios.median():.2f}x){spread}",
                   "per sparsity, the step with pruned paths skipped over the same supernet masked but computed, timed "
                   "back to back in one record, divided by that ratio at sparsity 0 (median seconds per step): held "
                   f"when the median over sparsities is at least {bar:.2f}x (the report's {slowdown:.1f}x "
                   f"within {rules.SIZE_TOLERANCE:.0%}), did not hold when every sparsity is below it, inconclusive "
                   "otherwise. An implementation that computes pruned paths does the unpruned step's work, so it is not "
                   "slower either. The claim's second half (training times negligible) is not tested: our wall times "
                   "come from different devices and loads")


L12_SPARSITIES = (0.875, 0.95)  # "a sharp drop-off at sparsity 0.875 and 0.95" (Sec. 5.4)


def _l12(ev: LnasEvidence) -> Verdict:
    """Two parts, both needed: a sharp drop-off (Variant 1 at 0.875 and 0.95 below its other sparsities, paired)
    and, at those two, curves that never regain their pre-pruning best; "ours" also says at how many curves of the
    other sparsities the property holds (the claim's "where" singles out 0.875 and 0.95)."""
    if pending := _uncovered(ev, ("Variant 1",)):
        return pending
    v = ev.values()
    mean = lambda chosen: _per_seed_mean(v, _sparsities(v, "Variant 1", chosen))
    drop = _paired(rules.worse_than, _difference(mean(L12_SPARSITIES), mean(set(SPARSITIES) - set(L12_SPARSITIES))),
                   ev, ("Variant 1",))
    runs = ev.rows[ev.rows["variant"] == "Variant 1"]
    never = [report.curve_measures(r)["best_after_pruning"] < report.curve_measures(r)["best_overall"]
             for r in runs["record"]]
    at = runs["sparsity"].isin(L12_SPARSITIES).tolist()
    claimed = [n for n, a in zip(never, at) if a]
    others = [n for n, a in zip(never, at) if not a]
    status = rules.HELD if all(claimed) else rules.NOT_HELD if not any(claimed) else rules.INCONCLUSIVE
    curves = Verdict(status, f"{sum(claimed)} of {len(claimed)} curves never regain their pre-pruning best "
                             f"({sum(others)} of {len(others)} at the other sparsities)",
                     "a property of every curve: held when every cached run of Variant 1 at 0.875 and 0.95 shows "
                     "it, did not hold when none does, inconclusive when the runs disagree; whether the other "
                     "sparsities lack it (the claim's 'where' suggests so) is shown, not judged, and the drop-off "
                     "shares its evidence with L8's 'middle minus higher'")
    return _all_parts([("drop-off (0.875, 0.95 minus the others)", drop), ("curves", curves)],
                      _notes(ev, (), ("Variant 1",), v.get(("Variant 1", 0.95), {})))


def _l13(ev: LnasEvidence) -> Verdict:
    """Algorithm 3 better than either variant: :func:`_judge` against each (with its device caveat), both must
    hold; "ours" shows both paired differences."""
    if pending := _uncovered(ev, ("Algorithm 3", "Variant 1", "Variant 2")):
        return pending
    shown, parts, used = [], [], set()
    for other in ("Variant 1", "Variant 2"):
        what = f"Algorithm 3 and {other} at a shared sparsity and seed"
        ours, theirs, common = _common_mean(ev, "Algorithm 3", other)
        used |= set(common)
        part = _judge(rules.better_than, _difference(ours, theirs), what, ev, (), ("Algorithm 3", other), common)
        if part.status == NOT_TESTABLE:
            return part  # no shared sparsity and seed: pending
        shown.append(f"vs {other}: {part.ours}")
        parts.append(rules.Ruling(part.status, f"vs {other}: {part.basis}"))
    ruling = rules.all_of(parts)
    near = ev.near_uniform(("Algorithm 3",), sorted(used))  # the sparsities its means cover
    return Verdict(ruling.status, "; ".join(shown), "; ".join(filter(None, [ruling.reason, near])))


def _not_testable(reason: str) -> Callable[[LnasEvidence], Verdict]:
    return lambda ev: Verdict(NOT_TESTABLE, "", reason)


SETUP = "describes the setup, not a result: the paper profile uses it (lnas_setup.json); the notebooks list each reduction"
CLAIMS: dict[str, Callable[[LnasEvidence], Verdict]] = {
    "L1": _not_testable("about earlier work (NAS), not about LNAS"),
    "L2": _not_testable("about earlier work (ENAS), not about LNAS"),
    "L3": _not_testable("describes the dataset, not a result (our copy: reproducibility chapter)"),
    "L4": _not_testable(SETUP), "L5": _not_testable(SETUP), "L6": _not_testable(SETUP),
    "L7": _not_testable(SETUP + "; the text's 0.675 is the table's 0.625"),
    "L8": _l8, "L9": _l9, "L10": _l10, "L11": search_step_cost, "L12": _l12, "L13": _l13,
    "L14": _not_testable("'state-of-the-art without expensive memory or time' sets no threshold; L10 and L11 test its parts"),
}


def rewind_cost(ev: LnasEvidence) -> Verdict:
    """A control (not a report claim): Variant 1's rewind to theta_0 at the middle epoch costs accuracy by itself,
    without pruning (the rewind-only control below the baseline, by the worse-than rule)."""
    v = ev.values()
    diffs = _difference(v.get((report.LABELS[REWIND], "N/A"), {}), v.get(("Baseline", "N/A"), {}))
    return _judge(rules.worse_than, diffs, "the rewind-only control and the baseline", ev, (),
                  ("Baseline", report.LABELS[REWIND]))


def searched_vs_random(ev: LnasEvidence) -> Verdict:
    """The control NAS reviewers ask for (not a report claim): the searched baseline beats random cells."""
    v = ev.values()
    diffs = _difference(v.get(("Baseline", "N/A"), {}), v.get(("Random architecture", "N/A"), {}))
    return _judge(rules.better_than, diffs, "the random-architecture control and the baseline", ev, ("Baseline",),
                  ("Baseline", "Random architecture"))
