"""LNAS (CS231N report): Table 1 cell by cell and the prose claims L1-L14, judged from cached runs."""

from dataclasses import dataclass
from statistics import fmean
from typing import Callable

import pandas as pd

from lib.experiments.lnas import SPARSITIES
from lib.experiments.lnas_sweep import ROWS, Sweep
from lib.pipeline import results
from lib.report import lnas as report
from lib.report.scorecard.tables import Column, cells, same_seeds
from lib.report.scorecard.verdict import ACCURACY, MARGIN_PP as MARGIN, NOT_TESTABLE, SIZE, Verdict, judged, missing

SEEDS = (0, 1, 2)
MID_SPARSITIES = (0.5, 0.625, 0.75)  # L8: "0.5, 0.625, 0.75 reach over 76%"
COLUMNS = [Column("val_acc_mid", "best val. accuracy up to the middle epoch (%)", ACCURACY),
           Column("val_acc_final", "best val. accuracy up to the last epoch (%)", ACCURACY),
           Column("flops_M", "FLOPs (M; ours: multiply-adds of the final model)", SIZE)]


@dataclass
class LnasEvidence:
    """The cached LNAS runs of one profile (one row per run and seed) and the search-step costs."""

    profile: str
    runs: list[results.Record]
    step_costs: pd.DataFrame | None
    step_records: list[results.Record]

    @property
    def records(self) -> list[results.Record]:
        return self.runs + self.step_records

    @property
    def rows(self) -> pd.DataFrame:
        return report.rows(self.runs) if self.runs else pd.DataFrame(columns=["variant", "sparsity", "seed"] + [c.name for c in COLUMNS])


def evidence(profile: str) -> LnasEvidence:
    """Load (never run) every LNAS row and search-cost measurement cached at ``profile``."""
    runs = Sweep(profile, ROWS, SEEDS, SPARSITIES).stored()
    costs = [r for r in results.load_records("lnas_search_cost") if r.config.get("profile") == profile]
    latest = list({r.config["sparsity"]: r for r in costs}.values())  # the newest measurement per sparsity
    has_dense = any(r.config["sparsity"] == 0.0 for r in latest)
    return LnasEvidence(profile, runs, report.step_costs(latest) if has_dense else None, latest)


def _row_name(row: pd.Series) -> str:
    return "Baseline" if row["variant"] == "Baseline" else f"{row['variant']}, p={row['sparsity']}"


def table_rows(ev: LnasEvidence) -> list[dict]:
    """One scorecard row per cell of the report's Table 1. Shown in: book/scorecard."""
    theirs = report.reported_table1()
    return cells(theirs, ev.rows, ["variant", "sparsity"], COLUMNS, theirs["variant"] == "Baseline", ev.profile, _row_name)


def _finals(ev: LnasEvidence, variant: str) -> dict[float, float]:
    """Mean final val. accuracy per sparsity of one variant, over its cached seeds."""
    rows = ev.rows[ev.rows["variant"] == variant]
    return rows.groupby("sparsity")["val_acc_final"].mean().to_dict()


def _vs_baseline(ev: LnasEvidence, variant: str, sparsity: float) -> tuple[float, float] | None:
    """(row, baseline) mean final val. accuracy over the seeds both have, or None."""
    rows = ev.rows[(ev.rows["variant"] == variant) & (ev.rows["sparsity"] == sparsity)]
    base = same_seeds(ev.rows[ev.rows["variant"] == "Baseline"], rows["seed"])
    if base.empty:
        return None
    rows = rows[rows["seed"].isin(set(base["seed"]))]
    return rows["val_acc_final"].mean(), base["val_acc_final"].mean()


def _l8(ev: LnasEvidence) -> Verdict:
    v1 = _finals(ev, "Variant 1")
    mid, rest = [a for p, a in v1.items() if p in MID_SPARSITIES], [a for p, a in v1.items() if p not in MID_SPARSITIES]
    if not mid or not rest:
        return missing(ev.profile, "Variant 1 at both the middle and the outer sparsities")
    return judged(fmean(mid) > fmean(rest) + MARGIN, f"V1 at 0.5-0.75: {fmean(mid):.2f}; other sparsities: {fmean(rest):.2f}",
                  f"V1's mean final val. accuracy at 0.5/0.625/0.75 more than {MARGIN:g} pp above the other sparsities' (report: 76 vs 70)")


def _l9(ev: LnasEvidence) -> Verdict:
    v1, v2 = _finals(ev, "Variant 1"), _finals(ev, "Variant 2")
    common = sorted(set(v1) & set(v2))
    pairs = [_vs_baseline(ev, "Variant 2", p) for p in v2]
    if not common or None in pairs:
        return missing(ev.profile, "Variant 1, Variant 2 and the baseline")
    tickets = sum(row >= base for row, base in pairs)
    m1, m2 = fmean(v1[p] for p in common), fmean(v2[p] for p in common)
    return judged(m2 > m1 + MARGIN and tickets > 0, f"V2 mean {m2:.2f} vs V1 {m1:.2f}; {tickets} V2 winning ticket(s)",
                  f"V2's mean final val. accuracy more than {MARGIN:g} pp above V1's, and >= 1 V2 row >= baseline (report: 3)")


def _l10(ev: LnasEvidence) -> Verdict:
    pair = _vs_baseline(ev, "Variant 2", 0.95)
    if pair is None:
        return missing(ev.profile, "Variant 2 at p=0.95 and the baseline")
    return judged(pair[0] >= pair[1], f"{pair[0]:.2f} vs baseline {pair[1]:.2f}",
                  "direction: V2 at p=0.95 >= the baseline (85.6% itself needs the paper profile)")


def _l11(ev: LnasEvidence) -> Verdict:
    if ev.step_costs is None:
        return missing(ev.profile, "the search-step cost measurement")
    pruned = ev.step_costs[ev.step_costs["target sparsity"] > 0]
    low, high = pruned["time vs unpruned"].min(), pruned["time vs unpruned"].max()
    return judged(low > 1.0, f"a V2 search step costs {low:.2f}-{high:.2f}x an unpruned DARTS step",
                  "V2 search slower than DARTS (report: 2.6x); pruned paths are not computed here")


def _l12(ev: LnasEvidence) -> Verdict:
    claims = report.curve_claims(ev.rows, seed=0) if ev.runs else pd.DataFrame()
    rows = claims[(claims["variant"] == "Variant 1") & claims["sparsity"].isin([0.875, 0.95])] if len(claims) else claims
    if len(rows) < 2:
        return missing(ev.profile, "Variant 1 at p=0.875 and 0.95 (seed 0)")
    never = all(r["best after pruning"] < r["best overall"] for _, r in rows.iterrows())
    ours = "; ".join(f"p={r['sparsity']}: best after {r['best after pruning']:.1f} vs best {r['best overall']:.1f}"
                     for _, r in rows.iterrows())
    return judged(never, ours, "after the prune-and-rewind, V1 at 0.875 and 0.95 never regains its pre-pruning best")


def _l13(ev: LnasEvidence) -> Verdict:
    v1, v2, v3 = _finals(ev, "Variant 1"), _finals(ev, "Variant 2"), _finals(ev, "Algorithm 3")
    common = sorted(set(v1) & set(v2) & set(v3))
    if not common:
        return missing(ev.profile, "Algorithm 3 and both variants")
    m1, m2, m3 = (fmean(v[p] for p in common) for v in (v1, v2, v3))
    return judged(m3 > max(m1, m2) + MARGIN, f"Algorithm 3 {m3:.2f} vs V1 {m1:.2f}, V2 {m2:.2f} (mean over {len(common)} sparsities)",
                  f"Algorithm 3's mean final val. accuracy more than {MARGIN:g} pp above both variants'")


def _not_testable(reason: str) -> Callable[[LnasEvidence], Verdict]:
    return lambda ev: Verdict(NOT_TESTABLE, "", reason)


SETUP = "describes the setup, not a result: the paper profile uses it (lnas_setup.json); the notebooks list each reduction"
CLAIMS: dict[str, Callable[[LnasEvidence], Verdict]] = {
    "L1": _not_testable("about earlier work (NAS), not about LNAS"),
    "L2": _not_testable("about earlier work (ENAS), not about LNAS"),
    "L3": _not_testable("describes the dataset, not a result (our copy: reproducibility chapter)"),
    "L4": _not_testable(SETUP), "L5": _not_testable(SETUP), "L6": _not_testable(SETUP),
    "L7": _not_testable(SETUP + "; the text's 0.675 is the table's 0.625"),
    "L8": _l8, "L9": _l9, "L10": _l10, "L11": _l11, "L12": _l12, "L13": _l13,
    "L14": _not_testable("'state-of-the-art without expensive memory or time' sets no threshold; L10 and L11 test its parts"),
}
