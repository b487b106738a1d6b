"""The LNAS tables: the report's Table 1 next to ours, the curve claims, search times, search-step costs,
Algorithm 3 against both variants, and the baseline row of the DARTS chapter. Built from run records
(``lib.experiments`` runs them); the figures are in :mod:`lib.plots.lnas`.

Rows are labelled as in the book: "Baseline", "Variant 1", "Variant 2", "Algorithm 3". Accuracy columns:
``val_acc_mid`` / ``val_acc_final`` are the report's "epoch 10" / "epoch 20" columns (best validation
accuracy up to the middle / last training epoch, whatever the profile's epoch count); ``val_acc_final`` is
:func:`lib.experiments.final_accuracy.best_final` (over the epochs after pruning where a run pruned its weights,
#34), and the caption's reading over all epochs is kept as ``val_acc_all_epochs``.
"""

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

import pandas as pd

from lib.darts.flops import count_macs
from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.darts.published import DARTS_V2
from lib.experiments.cifar_config import CifarConfig
from lib.experiments.final_accuracy import best_final
from lib.experiments.lnas import SPARSITIES, VARIANTS
from lib.experiments.lnas_sweep import RANDOM, REWIND, ROWS, Sweep, row_of
from lib.experiments.profiles import reductions
from lib.experiments.search_diagnostics import NEAR_UNIFORM, near_uniform, top_over_uniform
from lib.pipeline.provenance import made_on
from lib.pipeline.results import Record
from lib.report import anchors, compare, devices, rules, seeds as by_seed, stats
from lib.report.wiring import TIED, ranked_weights, tied_share
from lib.report.export import seeds_text

LABELS = {"baseline": "Baseline", **VARIANTS, RANDOM: "Random architecture", REWIND: "Variant 1, nothing pruned"}
KEYS = ["variant", "sparsity"]
REPORTED_LABELS = {"Baseline": "Baseline", "1": "Variant 1", "2": "Variant 2"}  # the report's JSON -> ours
REPORTED_COLUMNS = {"val_acc_epoch10": "val_acc_mid", "val_acc_epoch20": "val_acc_final"}
METRICS = {"val @ mid": "val_acc_mid", "val @ final": "val_acc_final"}  # measured by both: compared, Δ, ranked
SIZE_LABELS = ("FLOPs M (report)", "MACs M (ours)")  # side by side only: the report's column does not behave like a measurement (#33)
MIN_RANKED = 3  # rows a rank correlation needs before it says anything


def reported_table1() -> pd.DataFrame:
    """The report's Table 1 (kept verbatim in data/reported/) with the book's row labels and column names."""
    theirs = compare.reported("lnas", "Table 1").rename(columns=REPORTED_COLUMNS)
    theirs["variant"] = theirs["variant"].map(REPORTED_LABELS)
    return theirs


def search_summary(record: Record) -> float:
    """Mean over edges of the top op's weight / uniform at the end of the search behind a record (its own, or the
    reused search's): 1 where the alphas never moved. From the derivation weights where the record holds them (the
    softmax over all ops, pruned ones 0), so a path-pruned edge left one op still says how far its alphas moved;
    else the stored summary of the masked softmax, ``k x max`` over the k ops left, which is 1 by construction on
    an edge left one op (records made before the derivation fix)."""
    m = record.metrics
    if "derivation_weights" in m:
        tops = [len(edge) * max(edge) for edges in m["derivation_weights"].values() for edge in edges]
        return math.fsum(tops) / len(tops)
    return m.get("alpha_top_over_uniform", top_over_uniform(m["alphas"]) if "alphas" in m else float("nan"))


def row(record: Record, search: Record | None = None) -> dict[str, Any]:
    """One table row of metrics for one run; ``search``: the run whose search it reused, if any. A reused search
    whose genotype is no longer the run's (re-run since, e.g. after the derivation fix) describes another cell:
    its summaries are left out (NaN) and ``search_replaced`` says so."""
    cfg, m = record.config, record.metrics
    variant = row_of(record)
    replaced = search is not None and search.metrics.get("genotype") != m.get("genotype")
    searched = None if replaced else search or record
    return {
        "variant": LABELS[variant], "sparsity": cfg["sparsity"] if variant in VARIANTS else "N/A",
        "seed": cfg["seed"], "val_acc_mid": m["val_acc_mid"], "val_acc_final": best_final(m),
        "val_acc_all_epochs": m["val_acc_final"],
        "val_acc_last": m["val_acc_at_final"], "test_acc": m["test_acc_at_best_val"],
        "flops_M": m["macs"] / 1e6, "dense_flops_M": m.get("dense_macs", m["macs"]) / 1e6,
        "reached_sparsity": m.get("weight_sparsity", m.get("path_sparsity")),
        "val_acc_after_pruning": m.get("val_acc_after_pruning"),
        "search_min": m.get("search_seconds", float("nan")) / 60, "train_min": m["train_seconds"] / 60,
        "search_top_over_uniform": search_summary(searched) if searched else float("nan"),
        "wiring_tied": tied_share(ranked_weights(searched.metrics)) if searched else float("nan"),
        "search_replaced": replaced, "made_on": made_on(record.provenance),
        "record": record,
    }


def rows(records: Sequence[Record]) -> pd.DataFrame:
    """One row per finished record (columns of :func:`row`), in the records' order; diverged runs are left out
    (the tables count them); a reused search is looked up among ``records``."""
    by_name = {f"{r.experiment}/{r.key}": r for r in records}
    return pd.DataFrame([row(r, by_name.get(r.metrics.get("searched_by", ""))) for r in records if r.status == "ok"])


def key_of(run: Record | CifarConfig) -> tuple[str, Any]:
    """The (variant, sparsity) row of a record or of a requested config."""
    variant = row_of(run)
    sparsity = (run.config["sparsity"] if isinstance(run, Record) else run.sparsity) if variant in VARIANTS else "N/A"
    return LABELS[variant], sparsity


def summarize(per_run: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (variant, sparsity), with the seed count and the spread of the final accuracy."""
    numeric = per_run.drop(columns=["record", "seed"], errors="ignore")
    grouped = numeric.groupby(["variant", "sparsity"], sort=False)
    out = grouped.mean(numeric_only=True)
    out.insert(0, "seeds", grouped.size())
    out.insert(3, "val_acc_final_std", grouped["val_acc_final"].std())
    out["search near uniform"] = out["search_top_over_uniform"] < NEAR_UNIFORM
    return out.reset_index()


def tied_rows(per_run: pd.DataFrame) -> set[tuple]:
    """The (variant, sparsity) rows with a run that took its wiring from ties alone (:mod:`lib.report.wiring`), or
    whose reused search was re-run since (its wiring can no longer be read): their cells are not judged."""
    if per_run.empty or "wiring_tied" not in per_run:
        return set()
    unreadable = (per_run["wiring_tied"] >= 1.0) | per_run.get("search_replaced", False)
    return {tuple(key) for key in per_run.loc[unreadable, KEYS].itertuples(index=False)}


def search_label(summary: pd.Series) -> str:
    """The "search" cell of a row of :func:`summarize`: near uniform, the share of its cells' wiring choices
    decided by a tie of the derivation (:mod:`lib.report.wiring`), and whether a reused search was re-run since,
    e.g. "near uniform; wiring tied 100%"."""
    tied = summary.get("wiring_tied", float("nan"))
    parts = ["near uniform" if bool(summary["search near uniform"]) else "",
             f"wiring tied {tied:.0%}" if tied > 0 else "",
             "its search re-run since" if summary.get("search_replaced", 0) > 0 else ""]
    return "; ".join(p for p in parts if p)


OUR_COLUMNS = {"test acc (%)": ("test_acc", 1), "val @ last epoch (%)": ("val_acc_last", 1),
               "best val, all epochs (%)": ("val_acc_all_epochs", 1), "sparsity reached": ("reached_sparsity", 3),
               "dense MACs M": ("dense_flops_M", 1), "search top-op / uniform": ("search_top_over_uniform", 3)}
# minutes are left out: they measure the hardware a run had (CPU or a lent GPU), not the row (records chapter)


def our_columns(per_run: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our columns without a counterpart in the report, per row: each of :data:`OUR_COLUMNS` as mean [low, high]
    over the row's seeds (n where fewer), and whether the row's search ended near uniform; as (shown, CSV data).

    Shown in: book/lnas_table1 ("Our columns").
    """
    if per_run.empty:
        return pd.DataFrame(), pd.DataFrame()
    shown, data = by_seed.over_seeds(per_run, KEYS, OUR_COLUMNS)
    labels = summarize(per_run).set_index(KEYS).apply(search_label, axis=1)
    label = [labels.get(tuple(key), "") for key in shown[KEYS].itertuples(index=False)]
    made = devices.per_row(per_run, KEYS, shown)
    return shown.assign(search=label, **{"made on": made}), data.assign(search=label, made_on=made)


@dataclass
class Table1:
    """LNAS Table 1: the report next to ours with intervals (``comparison`` shown, ``data`` for the CSV), our
    extra columns (``ours`` shown, ``ours_data`` for the CSV), searched vs random (``random``), rank agreement
    (``agreement``), all records."""

    comparison: pd.DataFrame
    data: pd.DataFrame
    ours: pd.DataFrame
    ours_data: pd.DataFrame
    random: pd.DataFrame
    agreement: pd.DataFrame
    records: list[Record]
    note: str = by_seed.SEED_NOTE


Offset = tuple[float, str]
"""A device offset bound (pp) and the profile it was measured at (:func:`device_offset`)."""
DEVICE_NOTE = (" Where some of a row's paired seeds compare runs made on different devices, its status is judged on Δ "
               "widened on both sides by that share of the seeds times {bound:.2f} pp, the largest device offset the "
               "measurement of 'How much the device moves a run' allows (the pairing cancels the seed, not an offset "
               "shared by every run of one device): the column 'Δ widened for devices'.")


def _report_side(variant: str, reported_final: float, reported_baseline: float) -> str:
    if variant in ("Baseline", "Random architecture"):
        return ""
    return ">= baseline" if reported_final >= reported_baseline else "< baseline"


def row_status(variant: str, reported_final: float | None, reported_baseline: float,
               diff: stats.Interval | None, tied: bool = False) -> rules.Ruling | None:
    """The row's claim (the report's side of the baseline) judged by the better/worse rule; None for the baseline;
    not testable when a run's wiring was a tie or cannot be read (``tied``, :func:`tied_rows`)."""
    if variant in ("Baseline", "Random architecture") or reported_final is None or pd.isna(reported_final):
        return None
    if tied:
        return rules.fixed_by_construction(TIED)
    if diff is None:
        return rules.not_testable("no run of this row or of the baseline at a shared seed is cached (pending)")
    ruling = rules.better_than if reported_final >= reported_baseline else rules.worse_than
    return ruling(diff)


def _groups(records: Sequence[Record], pending: Sequence[CifarConfig]) -> dict[tuple, tuple[list[Record], int]]:
    """{row key: (its records, how many runs were requested)}, report order first then ours."""
    out: dict[tuple, tuple[list[Record], int]] = {}
    for r in records:
        runs, n = out.get(key_of(r), ([], 0))
        out[key_of(r)] = (runs + [r], n + 1)
    for cfg in pending:
        runs, n = out.get(key_of(cfg), ([], 0))
        out[key_of(cfg)] = (runs, n + 1)
    return out


def table1(records: Sequence[Record], pending: Sequence[CifarConfig] = (), offset: Offset | None = None) -> Table1:
    """The report-vs-ours Table 1 from the baseline, Variant 1, Variant 2 and random-architecture records.

    Each of our numbers is a mean over seeds with its 95% t-interval; ``Δ final`` is the paired difference to
    the baseline; ``status`` judges the report's side of the baseline by :mod:`lib.report.rules`. Rows the
    sweep requested but the cache lacks (``pending``) show as pending. Shown in: book/lnas_table1.
    """
    theirs = reported_table1()
    per_run = rows(records)
    empty = per_run.empty
    values = {m: ({} if empty else by_seed.per_seed(per_run, KEYS, m)) for m in ("val_acc_mid", "val_acc_final", "flops_M")}
    groups = _groups(records, pending)
    base_key = ("Baseline", "N/A")
    base_final = values["val_acc_final"].get(base_key, {})
    bound = _bound(per_run, offset)
    tied = set() if empty else tied_rows(per_run)
    report_base = float(theirs.loc[theirs["variant"] == "Baseline", "val_acc_final"].iloc[0])
    keys = [tuple(k) for k in theirs[KEYS].itertuples(index=False)] + [k for k in groups if k[0] == "Random architecture"]
    labels = summarize(per_run).set_index(KEYS).apply(search_label, axis=1) if not empty else pd.Series(dtype=str)
    data, shown = [], []
    for key in keys:
        reported = theirs[(theirs["variant"] == key[0]) & (theirs["sparsity"] == key[1])]
        rep = reported.iloc[0] if len(reported) else None
        runs, requested = groups.get(key, ([], 0))
        ivs = {m: by_seed.interval_or_none(values[m].get(key, {}), m) for m in values}
        diff = None if key == base_key else by_seed.paired_or_none(values["val_acc_final"].get(key, {}), base_final, "val_acc_final")
        judged = _widened(diff, per_run, (key, base_key), set(values["val_acc_final"].get(key, {})) & set(base_final),
                          bound)
        ruling = row_status(key[0], None if rep is None else rep["val_acc_final"], report_base, judged, key in tied)
        state = by_seed.runs_state(runs, requested) if requested else "not requested"
        data.append({"variant": key[0], "sparsity": key[1], "seeds": by_seed.seeds_of(runs), "runs": state,
                     **{f"{m} (report)": (None if rep is None else rep[m]) for m in values},
                     **{c: v for m, iv in ivs.items() for c, v in by_seed.columns(m, iv).items()},
                     **by_seed.columns("final_minus_baseline", diff),
                     "status": "" if ruling is None else ruling.status, "basis": "" if ruling is None else ruling.reason})
        missing = by_seed.PENDING if requested else "not run"
        shown.append({"variant": key[0], "sparsity": key[1], "runs": state,
                      **{f"{label} (report)": (None if rep is None else rep[m]) for label, m in METRICS.items()},
                      **{f"{label} (ours)": by_seed.text(ivs[m], missing=missing) for label, m in METRICS.items()},
                      "Δ final vs baseline (ours)": "" if key == base_key else by_seed.text(diff, missing=missing),
                      "Δ widened for devices": by_seed.text(judged) if judged is not diff else "",
                      "report vs baseline": "" if rep is None else _report_side(key[0], rep["val_acc_final"], report_base),
                      "status": "" if ruling is None else ruling.status,
                      SIZE_LABELS[0]: None if rep is None else rep["flops_M"],
                      SIZE_LABELS[1]: by_seed.text(ivs["flops_M"], missing=missing),
                      "search": labels.get(key, "")})
    return Table1(pd.DataFrame(shown), pd.DataFrame(data), *our_columns(per_run), searched_vs_random(per_run, offset),
                  rank_agreement(without_fixed_cells(pd.DataFrame(data), tied)), list(records),
                  by_seed.SEED_NOTE + (DEVICE_NOTE.format(bound=bound) + _measured_at(offset) if bound else ""))


def _widened(diff: stats.Interval | None, per_run: pd.DataFrame, compared: tuple[tuple, tuple],
             seeds: Iterable[int], bound: float | None) -> stats.Interval | None:
    """``diff`` (paired over ``seeds``) widened by :func:`devices.pair_margin` for the ``compared`` rows' runs."""
    if diff is None:
        return diff
    margin = devices.pair_margin(diff, per_run, KEYS, compared, seeds, bound)
    return devices.widened_for_offset(diff, margin, by_seed.difference_support("val_acc_final"))


def searched_vs_random(per_run: pd.DataFrame, offset: Offset | None = None) -> pd.DataFrame:
    """The searched baseline minus the random architectures (their mean at each seed), paired over seeds,
    judged by the better-than rule (Li & Talwalkar 2019; Yang et al. 2020) on the interval widened for devices
    where a seed's runs were made on different ones (the scorecard's rule 'Devices'), with the devices both
    sides' runs were made on. Shown in: book/lnas_table1, book/darts_cifar10, book/scorecard."""
    compared = (("Baseline", "N/A"), ("Random architecture", "N/A"))
    made = ", ".join(sorted(set(devices.compared_runs(per_run, KEYS, compared)["made_on"]))) if len(per_run) else ""
    out = []
    for label, metric in (("val @ final", "val_acc_final"), ("test acc", "test_acc")):
        values = {} if per_run.empty else by_seed.per_seed(per_run, KEYS, metric)
        searched, random = values.get(("Baseline", "N/A"), {}), values.get(("Random architecture", "N/A"), {})
        diff = by_seed.paired_or_none(searched, random, metric)
        judged = _widened(diff, per_run, compared, set(searched) & set(random), _bound(per_run, offset))
        ruling = rules.better_than(judged) if diff is not None else rules.not_testable(
            "no random-architecture run at a seed the baseline ran is cached (pending)")
        samples = sorted({r["record"].config["sample"] for _, r in per_run.iterrows()
                          if r["variant"] == "Random architecture"}) if not per_run.empty else []
        out.append({"metric": label, "searched (baseline)": by_seed.text(by_seed.interval_or_none(searched, metric)),
                    "random (mean of samples)": by_seed.text(by_seed.interval_or_none(random, metric)),
                    "random samples": len(samples), "searched - random": by_seed.text(diff),
                    "widened for devices": by_seed.text(judged) if judged is not diff else "",
                    **by_seed.columns("searched_minus_random", diff),
                    **by_seed.columns("searched_minus_random_widened", judged),
                    "seeds": ";".join(str(s) for s in sorted(set(searched) & set(random))), "status": ruling.status,
                    "made on": made})
    return pd.DataFrame(out)


def rewind_control(per_run: pd.DataFrame, offset: Offset | None = None) -> pd.DataFrame:
    """What Variant 1's rewind costs by itself, and what its pruning costs beyond it, paired over seeds.

    Variant 1 prunes at the middle epoch *and* rewinds the survivors to theta_0, so its ticket trains for half
    the epochs of the baseline. The rewind-only control (Variant 1 pruning no weight) separates the two: its
    best validation accuracy after the rewind minus the baseline's best is the rewind's cost; each Variant 1
    sparsity minus the control is the pruning's own; "seeds on different devices" counts the paired seeds whose
    two runs were made on different devices (``lib/report/devices.py``), and "widened for devices" gives the
    difference's interval widened for the device offset there (the scorecard's rule 'Devices'). Shown in:
    book/lnas_table1.
    """
    values = {} if per_run.empty else by_seed.per_seed(per_run, KEYS, "val_acc_final")
    bound = _bound(per_run, offset)
    rewind, base, v1 = (LABELS[REWIND], "N/A"), ("Baseline", "N/A"), "Variant 1"
    lines = [("nothing pruned (rewind only) - baseline", rewind, base)]
    lines += [(f"{v1} at p={p:g} - nothing pruned", (v1, p), rewind) for p in SPARSITIES if (v1, p) in values]
    out = []
    for label, a, b in lines:
        shared = sorted(set(values.get(a, {})) & set(values.get(b, {})))
        diff = by_seed.paired_or_none(values.get(a, {}), values.get(b, {}), "val_acc_final")
        mixed, total = devices.mixed_seeds(devices.compared_runs(per_run, KEYS, (a, b)), shared)
        widened = _widened(diff, per_run, (a, b), shared, bound)
        out.append({"comparison": label, "difference (pp)": by_seed.text(diff), **by_seed.columns("difference", diff),
                    "seeds": ";".join(map(str, shared)), "seeds on different devices": f"{mixed} of {total}" if mixed else "",
                    "widened for devices": by_seed.text(widened) if widened is not diff else ""})
    return pd.DataFrame(out)


DEVICE_DIFFERENCE = "V1 mid - baseline mid (pp; n: seeds, a seed's runs averaged)"


def device_noise(per_run: pd.DataFrame) -> pd.DataFrame:
    """How far the device moves one run: Variant 1's middle-epoch accuracy minus the baseline's at the same seed.

    Until it prunes, Variant 1 runs the baseline's procedure with the same seed (initial weights, data order), so
    on the same device the difference is 0 by construction; across devices (a Variant-1 row made on a lent GPU,
    its baseline on the CPU) what remains is the device's arithmetic and a GPU's nondeterministic kernels. One
    line per kind of pair: the Variant-1 runs, the mean difference with its t-interval over seeds (the runs of
    one seed share one baseline run, so they are averaged first), and the largest |difference| of one run.
    Shown in: book/lnas_table1.
    """
    columns = ["pairs", "Variant 1 runs", DEVICE_DIFFERENCE, "largest |difference| (pp)"]
    diffs = _mid_differences(per_run)
    if diffs is None:
        return pd.DataFrame(columns=columns)
    out = []
    for kind, same in (("same device", True), ("across devices", False)):
        d = diffs[diffs["same"] == same]
        per_seed = d.groupby("seed")["diff"].mean().to_list()
        out.append({"pairs": kind, "Variant 1 runs": len(d),
                    DEVICE_DIFFERENCE: by_seed.text(stats.t_interval(per_seed) if per_seed else None, missing="none"),
                    "largest |difference| (pp)": round(float(d["diff"].abs().max()), 2) if len(d) else None})
    return pd.DataFrame(out, columns=columns)


def _mid_differences(per_run: pd.DataFrame) -> pd.DataFrame | None:
    """Variant 1's runs with ``diff`` (middle-epoch accuracy minus the baseline's at the seed) and ``same`` (made on
    the baseline's device); None without a baseline run."""
    base = per_run[per_run["variant"] == "Baseline"] if len(per_run) else per_run
    if base.empty:
        return None
    if base["seed"].duplicated().any():
        raise ValueError("device_noise: more than one baseline run at a seed")
    base = base.set_index("seed")
    v1 = per_run[(per_run["variant"] == "Variant 1") & per_run["seed"].isin(base.index)]
    return v1.assign(diff=v1["val_acc_mid"].to_numpy() - base.loc[v1["seed"], "val_acc_mid"].to_numpy(),
                     same=v1["made_on"].to_numpy() == base.loc[v1["seed"], "made_on"].to_numpy())


def device_offset_bound(per_run: pd.DataFrame) -> float | None:
    """The largest systematic device offset (pp) the measurement of :func:`device_noise` allows: the farther end
    from 0 of the 95% interval of the mean across-device difference; None when fewer than two seeds measure it.

    Pairing by seed cancels the seed, and the t-interval over seeds covers the device's noise drawn afresh at
    each seed, but not an offset every run of one device shares: a paired difference whose pairs cross devices
    is widened by this bound (times the share of its pairs that cross). Shown in: book/scorecard, book/lnas_table1.
    """
    diffs = _mid_differences(per_run)
    across = [] if diffs is None else diffs[~diffs["same"]].groupby("seed")["diff"].mean().to_list()
    offset = stats.t_interval(across) if len(across) > 1 else None
    return max(abs(offset.low), abs(offset.high)) if offset is not None and offset.has_interval else None


OFFSET_PROFILES = ("cpu", "small")  # where a device offset bound may be measured (Variant 1 made on two devices)
OFFSET_SEEDS = (0, 1, 2)


def device_offset(profile: str, records: Sequence[Record] | None = None) -> Offset | None:
    """(:func:`device_offset_bound`, the profile it was measured at) from the runs of ``profile``'s sweep at its
    three paired seeds (``records``, where the caller has loaded them), else from the other reduced profile's
    (loads, never runs); None where neither measures it. The tables and the scorecard widen by the same bound.
    Shown in: book/lnas_table1, book/lnas_generalized, book/darts_cifar10, book/scorecard."""
    for where in dict.fromkeys([profile, *OFFSET_PROFILES]):
        stored = lambda: Sweep(where, ROWS, OFFSET_SEEDS, SPARSITIES).stored()
        found = list(records) if where == profile and records is not None else stored()
        bound = device_offset_bound(rows(found)) if found else None
        if bound is not None:
            return bound, where
    return None


def _bound(per_run: pd.DataFrame, offset: Offset | None) -> float | None:
    """The bound of ``offset`` where given (:func:`device_offset`), else the one ``per_run`` measures itself."""
    return offset[0] if offset is not None else None if per_run.empty else device_offset_bound(per_run)


def _measured_at(offset: Offset | None) -> str:
    return f" The bound was measured at the `{offset[1]}` profile." if offset is not None else ""


def without_fixed_cells(data: pd.DataFrame, tied: set[tuple] = frozenset()) -> pd.DataFrame:
    """``data`` with the cells fixed by construction left empty: Variant 1's middle-epoch accuracy is the baseline
    run's before pruning, and a ``tied`` row's cell was not wired by its search (:mod:`lib.report.wiring`), so
    they cannot rank the rows (the scorecard marks them not testable for the same reasons)."""
    out = data.copy()
    if "val_acc_mid" in out:
        out.loc[out["variant"] == "Variant 1", "val_acc_mid"] = np.nan
    fixed = [(v, p) in tied for v, p in zip(out["variant"], out["sparsity"])] if len(out) else []
    out.loc[fixed, [c for c in REPORTED_COLUMNS.values() if c in out]] = np.nan
    return out


def rank_agreement(data: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Spearman's rank correlation between the report's column and our means, over the rows both have.

    ``data``: a numeric table with ``<metric> (report)`` and ``<metric>`` columns. Shown in: book/lnas_table1,
    book/scorecard (front summary).
    """
    out = []
    for label, metric in (columns or METRICS).items():
        both = data.dropna(subset=[f"{metric} (report)", metric]) if metric in data else data.iloc[:0]
        rho = (stats.spearman(both[f"{metric} (report)"].astype(float), both[metric].astype(float))
               if len(both) >= MIN_RANKED else None)
        out.append({"column": label, "rows": len(both),
                    "Spearman ρ (report vs ours)": f"fewer than {MIN_RANKED} rows" if rho is None else
                    (f"{rho.text()}" if not np.isnan(rho.estimate) else "undefined"),
                    **by_seed.columns("spearman", rho), "seeds": "", "interval": "" if rho is None else rho.method})
    return pd.DataFrame(out)


def _cited(authors: str) -> str:
    """"Liu et al." / "Li & Talwalkar" from a comma-separated author list."""
    names = [a.strip().split()[-1] for a in authors.replace(" and ", ", ").split(",") if a.strip()]
    return " & ".join(names) if len(names) <= 2 else f"{names[0]} et al."


def _decimals(*numbers: float) -> int:
    """The decimals a published "value ± spread" is printed with: the most either has (3.00 ± 0.14, not 3 ± 0.14;
    2.76 ± 0.1 stays 2.76)."""
    return max(len(f"{n:g}".split(".")[1]) if "." in f"{n:g}" else 0 for n in numbers)


def anchor_rows(benchmark: str = "CIFAR-10", secondary: Sequence[str] = ()) -> pd.DataFrame:
    """Published numbers of ``benchmark`` (data/reported/anchors.json) with their citation, shown greyed under
    a table; ``secondary``: anchor ids marked so (e.g. a number the book could not check in the paper).
    Shown in: book/lnas_table1, book/darts_cifar10, book/lamanas_table1."""
    table = anchors.for_benchmark(benchmark)
    return pd.DataFrame({
        "published": table["method"], "metric": table["metric"],
        "value": [f"{v:.{_decimals(v, s)}f} ± {s:.{_decimals(v, s)}f} {u}" if pd.notna(s) else f"{v:g} {u}"
                  for v, s, u in zip(table["value"], table["spread"], table["unit"])],
        "source": [f"{_cited(a)}, {v} (arXiv {x}), {t}" + (f", p. {p}" if pd.notna(p) else "")
                   for a, v, x, t, p in zip(table["authors"], table["venue"], table["arxiv"], table["table"], table["page"])],
        "citation key": table["source"],
        "standing": ["secondary" if i in secondary else "" for i in table["id"]],
    })


def search_diagnostics(records: Sequence[Record]) -> pd.DataFrame:
    """Per run that searched: the mean top-op weight / uniform at the end of its search, and the verdict.

    ``near uniform`` is true below ``NEAR_UNIFORM`` (1.5x): such a search has not chosen between its ops.
    ``per-epoch record``: whether the per-epoch, per-edge diagnostics were recorded (not in runs made
    before they existed; the summary is then computed from the final alphas the record holds). ``record``: the
    kind of its mark (stale, altered, unsealed), empty when it is trusted.
    Shown in: book/lnas_table1, book/darts_cifar10.
    """
    out = []
    for r in records:
        if "alphas" not in r.metrics:
            continue
        summary = search_summary(r)
        out.append({"variant": LABELS[row_of(r)], "sparsity": r.config.get("sparsity", "N/A") if row_of(r) != "baseline" else "N/A",
                    "seed": r.config["seed"], "top op / uniform": summary, "near uniform": near_uniform(summary),
                    "per-epoch record": "recorded" if "search_diagnostics" in r.metrics else "not recorded",
                    "record": by_seed.mark_kind(r)})
    return pd.DataFrame(out, columns=["variant", "sparsity", "seed", "top op / uniform", "near uniform", "per-epoch record",
                                      "record"])


CURVE_MEASURES = {"drop at pruning": "drop_at_pruning", "best after pruning": "best_after_pruning",
                  "best overall": "best_overall", "last": "last", "largest epoch-to-epoch drop": "largest_drop"}


def curve_measures(record: Record) -> dict[str, float | None]:
    """One run's validation curve measured (keys: the values of ``CURVE_MEASURES``): the change across the
    pruning epoch and the best accuracy after it (None without pruning during training), the best, the last,
    and the largest fall between consecutive epochs."""
    metrics = record.metrics
    curve = [h["val_acc"] for h in metrics["train_history"]]
    pruned_at = metrics["weight_pruning_log"][0]["epoch"] if metrics.get("weight_pruning_log") else None
    return {"drop_at_pruning": curve[pruned_at] - curve[pruned_at - 1] if pruned_at and pruned_at < len(curve) else None,
            "best_after_pruning": max(curve[pruned_at:]) if pruned_at else None,
            "best_overall": max(curve), "last": curve[-1],
            "largest_drop": max([a - b for a, b in zip(curve, curve[1:])] + [0.0])}


def curve_claims(per_run: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per curve (variant and sparsity): each measure of :func:`curve_measures` as mean [low, high] (n) with the
    95% t-interval over seeds; "n/a" where it does not apply (no pruning during training).

    Returns (shown, numeric for the CSV: ``seeds`` and per measure its interval columns).
    Shown in: book/lnas_curves.
    """
    runs = pd.DataFrame([{"variant": r["variant"], "sparsity": r["sparsity"], "seed": r["seed"],
                          **curve_measures(r["record"])} for _, r in per_run.iterrows()],
                        columns=KEYS + ["seed", *CURVE_MEASURES.values()], index=per_run.index)
    values = {m: by_seed.per_seed(runs.astype({m: float}), KEYS, m) for m in CURVE_MEASURES.values()}
    shown, data = [], []
    for key, group in runs.groupby(KEYS, sort=False):
        ivs = {m: by_seed.interval_or_none(values[m].get(key, {}), m) for m in CURVE_MEASURES.values()}
        marked = per_run.loc[group.index, "record"]
        shown.append({**dict(zip(KEYS, key)), "seeds": by_seed.with_marks(seeds_text(group["seed"]), marked),
                      **{name: by_seed.text(ivs[m], missing="n/a") for name, m in CURVE_MEASURES.items()}})
        data.append({**dict(zip(KEYS, key)), "seeds": seeds_text(group["seed"]),
                     **{c: v for m, iv in ivs.items() for c, v in by_seed.columns(m, iv).items()},
                     "marked runs": by_seed.marks_text(marked)})
    columns = KEYS + ["seeds", *CURVE_MEASURES]
    return pd.DataFrame(shown, columns=columns), pd.DataFrame(data)


def search_times(per_run: pd.DataFrame) -> pd.DataFrame:
    """Search wall time of each Variant-2 run next to the baseline's, the device each was made on, and their
    ratio (the report: 2.6x); NaN where the baseline has not run yet or ran on another device (a GPU search
    over a CPU one measures the devices, not the pruning); ``V2 record``: the run's mark ("stale", ...; ""
    when trusted, :func:`lib.report.seeds.mark_kind`).

    Shown in: book/lnas_search_cost.
    """
    baseline = per_run[per_run["variant"] == "Baseline"]
    base = float(baseline["search_min"].iloc[0]) if len(baseline) else float("nan")
    base_device = baseline["made_on"].iloc[0] if len(baseline) else None
    out = per_run[per_run["variant"] == "Variant 2"][["sparsity", "search_min", "made_on", "reached_sparsity"]].copy()
    out.insert(3, "baseline search_min", base)
    out.insert(4, "baseline made on", base_device)
    out["V2 / baseline"] = (out["search_min"] / base).where(out["made_on"] == base_device)
    out["V2 record"] = [by_seed.mark_kind(r) for r in per_run.loc[out.index, "record"]]
    out = out.rename(columns={"search_min": "V2 search_min", "made_on": "V2 made on",
                              "reached_sparsity": "path sparsity reached"})
    return out.reset_index(drop=True)


PRUNED_OVER_UNPRUNED = "pruned / unpruned step (within records)"
"""A pruned step over an unpruned one, estimated without comparing separately timed records: the skipped over
computed ratio of a record divided by that ratio at sparsity 0 (where the two ways differ only in 'none')."""


def step_costs(records: Sequence[Record]) -> pd.DataFrame:
    """One row per measured sparsity: active paths, then per way of running the pruned supernet (``skip``:
    pruned ops not computed; ``compute``: masked in the softmax but computed) the median seconds per step
    and the step's memory (peak RSS growth), and their ratios to the unpruned supernet and to plain DARTS
    (every op computed, sparsity 0), and the two ways' time ratio within the record (timed back to back, so free
    of the noise between separately timed records), divided by that ratio at sparsity 0 (:data:`PRUNED_OVER_UNPRUNED`,
    what the scorecard's L11 judges). A record without the ``compute`` mode gives NaN in its columns.

    Shown in: book/lnas_search_cost.
    """
    def mode(r: Record, name: str) -> dict[str, float]:
        m = r.metrics if name == "skip" else r.metrics.get(name, {})
        return {"s": m.get("seconds_per_step", float("nan")),
                "mib": m.get("peak_rss_mb", float("nan")) - m.get("rss_before_steps_mb", float("nan"))}

    table = pd.DataFrame([{
        "target sparsity": r.config["sparsity"], "path sparsity": r.metrics["path_sparsity"],
        "active paths": r.metrics["active_paths"],
        "s / step": mode(r, "skip")["s"], "step memory (MiB)": mode(r, "skip")["mib"],
        "s / step (masked, computed)": mode(r, "compute")["s"],
        "step memory (masked, computed)": mode(r, "compute")["mib"],
        "peak RSS (MiB)": r.metrics["peak_rss_mb"],
    } for r in records])
    dense = table.loc[table["target sparsity"] == 0.0].iloc[0]
    table["skipped / computed (one record)"] = table["s / step"] / table["s / step (masked, computed)"]
    within = table["skipped / computed (one record)"]
    table[PRUNED_OVER_UNPRUNED] = within / within[table["target sparsity"] == 0.0].iloc[0]
    table["time vs unpruned"] = table["s / step"] / dense["s / step"]
    table["step memory vs unpruned"] = table["step memory (MiB)"] / dense["step memory (MiB)"]
    darts_s, darts_mib = dense["s / step (masked, computed)"], dense["step memory (masked, computed)"]
    table["time vs DARTS (skip)"] = table["s / step"] / darts_s
    table["time vs DARTS (masked, computed)"] = table["s / step (masked, computed)"] / darts_s
    table["memory vs DARTS (skip)"] = table["step memory (MiB)"] / darts_mib
    table["memory vs DARTS (masked, computed)"] = table["step memory (masked, computed)"] / darts_mib
    return table


ALGORITHM3_MINUS = {"variant1": "A3 - V1 (pp)", "variant2": "A3 - V2 (pp)"}  # shown columns of the paired differences


def generalized_comparison(per_run: pd.DataFrame, offset: Offset | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per sparsity: final validation and test accuracy of Variant 1, Variant 2 and Algorithm 3 over seeds (the
    same seed means as LNAS Table 1), with 95% t-intervals, and the baseline's; and Algorithm 3 minus each
    variant, paired over seeds (widened for devices where the pair's seeds cross them: the scorecard's rule
    'Devices'; L13 judges the means over sparsities), and the devices the pruned rows' runs at that sparsity
    were made on. Returns (shown, numeric long table for the CSV and the figure; an Algorithm 3 row holds its
    paired differences).

    Shown in: book/lnas_generalized.
    """
    values = {m: by_seed.per_seed(per_run, KEYS, m) for m in ("val_acc_final", "test_acc", "flops_M")} if len(per_run) else {}
    marked = {key: by_seed.marks_text(group["record"]) for key, group in per_run.groupby(KEYS, sort=False)} if len(per_run) else {}
    final = values.get("val_acc_final") or {}
    bound = _bound(per_run, offset)
    differences = {key: _algorithm3_minus(final, key[1], per_run, bound) for key in final if key[0] == VARIANTS["algorithm3"]}
    data = [{"variant": key[0], "sparsity": key[1], "seeds": ";".join(str(s) for s in sorted(final[key])),
             **{c: v for m in values for c, v in by_seed.columns(m, by_seed.interval_or_none(values[m].get(key, {}), m)).items()},
             **{c: v for name, pair in differences.get(key, {}).items()
                for c, v in {**by_seed.columns(f"{name}_widened", pair[1]), **by_seed.columns(name, pair[0])}.items()},
             "marked runs": marked.get(key, "")}
            for key in final]
    data = pd.DataFrame(data)
    if data.empty:
        return data, data
    pruned = data[data["variant"] != "Baseline"].copy()
    pruned["cell"] = [" ".join(filter(None, [by_seed.text(by_seed.from_columns(r, "val_acc_final")), r["marked runs"]]))
                      for _, r in pruned.iterrows()]  # the marks computed once per row, in ``data``
    shown = pruned.pivot(index="sparsity", columns="variant", values="cell")
    shown = shown[[v for v in VARIANTS.values() if v in shown.columns]].add_prefix("val @ final: ").reset_index()
    base = data[data["variant"] == "Baseline"]
    if len(base):
        shown["baseline val @ final"] = by_seed.text(by_seed.from_columns(base.iloc[0], "val_acc_final"))
    for other, column in ALGORITHM3_MINUS.items():
        cells = [differences.get((VARIANTS["algorithm3"], p), {}).get(_minus(other)) for p in shown["sparsity"]]
        shown[column] = [_difference_text(*cell) if cell else "" for cell in cells]
    shown["made on"] = devices.per_row(per_run[per_run["variant"] != "Baseline"], ["sparsity"], shown)
    return shown, data


def _minus(variant: str) -> str:
    """The CSV name of Algorithm 3 minus ``variant`` (a config value, e.g. "variant1")."""
    return f"minus_{variant}"


def _algorithm3_minus(final: Mapping[tuple, Mapping[int, float]], sparsity: float, per_run: pd.DataFrame,
                      bound: float | None) -> dict[str, tuple[stats.Interval, stats.Interval]]:
    """{``minus_variant1`` / ``minus_variant2``: (Algorithm 3 minus that variant at ``sparsity`` paired over seeds,
    the same widened for devices)} for the variants with a shared seed."""
    a3 = (VARIANTS["algorithm3"], sparsity)
    out = {}
    for other in ALGORITHM3_MINUS:
        key = (VARIANTS[other], sparsity)
        diff = by_seed.paired_or_none(final.get(a3, {}), final.get(key, {}), "val_acc_final")
        if diff is not None:
            out[_minus(other)] = (diff, _widened(diff, per_run, (a3, key), set(final[a3]) & set(final[key]), bound))
    return out


def _difference_text(diff: stats.Interval, widened: stats.Interval) -> str:
    """A paired difference, and its interval widened for devices where it was."""
    if widened is diff or not widened.has_interval:
        return by_seed.text(diff)
    return f"{by_seed.text(diff)}; widened for devices [{widened.low:.2f}, {widened.high:.2f}]"


def baseline_comparison(record: Record) -> pd.DataFrame:
    """The report's baseline row next to one baseline run.

    Shown in: book/darts_cifar10.
    """
    theirs = reported_table1()
    ours = rows([record])
    table = compare.compare(ours, theirs[theirs["variant"] == "Baseline"], on=["variant"], metrics=METRICS)
    return table.assign(**{SIZE_LABELS[0]: theirs.loc[theirs["variant"] == "Baseline", "flops_M"].to_numpy(),
                           SIZE_LABELS[1]: ours["flops_M"].to_numpy()})


def baseline_details(record: Record) -> pd.DataFrame:
    """What one baseline run measured beyond the report's columns.

    Shown in: book/darts_cifar10.
    """
    m = record.metrics
    return pd.DataFrame([
        ("test accuracy of the val-selected epoch (%)", m["test_acc_at_best_val"]),
        ("test accuracy after the last epoch (%)", m["test_acc_last"]),
        (f"val accuracy at epoch {m['mid_epoch']} (not running max, %)", m["val_acc_at_mid"]),
        ("val accuracy at the last epoch (not running max, %)", m["val_acc_at_final"]),
        ("selected epoch", m["best_epoch"]),
        ("parameters of the derived network", m["params"]),
        ("multiply-accumulates, forward, 1 image", m["macs"]),
    ], columns=["quantity (ours only)", "value"])


def macs_at_sizes(record: Record, cfg: CifarConfig, paper: CifarConfig) -> pd.DataFrame:
    """Forward multiply-accumulates of our genotype and of the published DARTS V2 cell, at the profile's
    network size and at the report's.

    Shown in: book/darts_cifar10.
    """
    ours = Genotype.from_string(record.metrics["genotype"])
    sizes = [(cfg.training, f"{cfg.profile} profile"), (paper.training, "report's size")]
    table = pd.DataFrame([
        (label, name, size.C, size.cells,
         count_macs(DiscreteNetwork(genotype, C=size.C, n_classes=10, n_cells=size.cells), (1, 3, 32, 32)) / 1e6)
        for size, label in sizes for name, genotype in (("ours", ours), ("DARTS V2", DARTS_V2))
    ], columns=["network size", "genotype", "C", "cells", "M multiply-accumulates"])
    table["M FLOPs (2 per MAC)"] = 2 * table["M multiply-accumulates"]
    return table


def settings_table(cfg: CifarConfig, reference: CifarConfig) -> pd.DataFrame:
    """Every setting where ``cfg`` differs from the report's (``reference``); empty at the paper profile.

    Shown in: book/darts_cifar10, book/lnas_table1, book/lnas_curves, book/lnas_generalized, book/lnas_search_cost.
    """
    return pd.DataFrame(reductions(cfg, reference), columns=["setting", "paper", cfg.profile])
