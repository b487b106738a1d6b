"""The LNAS tables: the report's Table 1 next to ours, the curve claims, search times, search-step costs,
Algorithm 3 against both variants, and the baseline row of the DARTS chapter. Built from run records
(``lib.experiments`` runs them); the figures are in :mod:`lib.plots.lnas`.

Rows are labelled as in the book: "Baseline", "Variant 1", "Variant 2", "Algorithm 3". Accuracy columns:
``val_acc_mid`` / ``val_acc_final`` are the report's "epoch 10" / "epoch 20" columns (best validation
accuracy up to the middle / last training epoch, whatever the profile's epoch count).
"""

from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

from lib.darts.flops import count_macs
from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.darts.published import DARTS_V2
from lib.experiments.cifar_config import CifarConfig
from lib.experiments.lnas import VARIANTS
from lib.experiments.lnas_sweep import row_of
from lib.experiments.profiles import reductions
from lib.experiments.search_diagnostics import NEAR_UNIFORM, near_uniform, top_over_uniform
from lib.pipeline.results import Record
from lib.report import compare

LABELS = {"baseline": "Baseline", **VARIANTS}
REPORTED_LABELS = {"Baseline": "Baseline", "1": "Variant 1", "2": "Variant 2"}  # the report's JSON -> ours
REPORTED_COLUMNS = {"val_acc_epoch10": "val_acc_mid", "val_acc_epoch20": "val_acc_final"}
METRICS = {"val @ mid": "val_acc_mid", "val @ final": "val_acc_final", "FLOPs (M)": "flops_M"}


def reported_table1() -> pd.DataFrame:
    """The report's Table 1 (kept verbatim in data/reported/) with the book's row labels and column names."""
    theirs = compare.reported("lnas", "Table 1").rename(columns=REPORTED_COLUMNS)
    theirs["variant"] = theirs["variant"].map(REPORTED_LABELS)
    return theirs


def search_summary(record: Record) -> float:
    """Mean top-op weight / uniform of the search behind a record, from its final alphas (its own, or the reused search's)."""
    m = record.metrics
    return m.get("alpha_top_over_uniform", top_over_uniform(m["alphas"]) if "alphas" in m else float("nan"))


def row(record: Record, search: Record | None = None) -> dict[str, Any]:
    """One table row of metrics for one run; ``search``: the run whose search it reused, if any."""
    cfg, m = record.config, record.metrics
    variant = row_of(record)
    return {
        "variant": LABELS[variant], "sparsity": cfg["sparsity"] if variant != "baseline" else "N/A",
        "seed": cfg["seed"], "val_acc_mid": m["val_acc_mid"], "val_acc_final": m["val_acc_final"],
        "val_acc_last": m["val_acc_at_final"], "test_acc": m["test_acc_at_best_val"],
        "flops_M": m["macs"] / 1e6, "dense_flops_M": m.get("dense_macs", m["macs"]) / 1e6,
        "reached_sparsity": m.get("weight_sparsity", m.get("path_sparsity")),
        "val_acc_after_pruning": m.get("val_acc_after_pruning"),
        "search_min": m.get("search_seconds", float("nan")) / 60, "train_min": m["train_seconds"] / 60,
        "search_top_over_uniform": search_summary(search or record),
        "record": record,
    }


def rows(records: Sequence[Record]) -> pd.DataFrame:
    """One row per record (columns of :func:`row`), in the records' order; a reused search is looked up among ``records``."""
    by_name = {f"{r.experiment}/{r.key}": r for r in records}
    return pd.DataFrame([row(r, by_name.get(r.metrics.get("searched_by", ""))) for r in records])


def summarize(per_run: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (variant, sparsity), with the seed count and the spread of the final accuracy."""
    numeric = per_run.drop(columns=["record", "seed"])
    grouped = numeric.groupby(["variant", "sparsity"], sort=False)
    out = grouped.mean(numeric_only=True)
    out.insert(0, "seeds", grouped.size())
    out.insert(3, "val_acc_final_std", grouped["val_acc_final"].std())
    out["search near uniform"] = out["search_top_over_uniform"] < NEAR_UNIFORM
    return out.reset_index()


def compare_with_report(summary: pd.DataFrame) -> pd.DataFrame:
    """The report's Table 1 next to our means, with a winning-ticket mark for both (final acc >= baseline)."""
    theirs = reported_table1()
    table = compare.compare(summary, theirs, on=["variant", "sparsity"], metrics=METRICS)
    baseline_ours = summary.loc[summary["variant"] == "Baseline", "val_acc_final"]
    baseline_theirs = theirs.loc[theirs["variant"] == "Baseline", "val_acc_final"].iloc[0]
    table["ticket (report)"] = ["ticket" if v >= baseline_theirs else "" for v in table["val @ final (report)"]]
    table["ticket (ours)"] = ["ticket" if len(baseline_ours) and v >= baseline_ours.iloc[0] else ""
                              for v in table["val @ final (ours)"]]
    table.loc[table["variant"] == "Baseline", ["ticket (report)", "ticket (ours)"]] = ""
    near = summary.set_index(["variant", "sparsity"])["search near uniform"]
    keys = zip(table["variant"], table["sparsity"])
    table["search (ours)"] = ["near uniform" if near.get(key, False) else "" for key in keys]
    return table


@dataclass
class Table1:
    """LNAS Table 1: the report next to our means (``comparison``), our extra columns (``ours``), all records."""

    comparison: pd.DataFrame
    ours: pd.DataFrame
    records: list[Record]


def table1(records: Sequence[Record]) -> Table1:
    """The report-vs-ours Table 1 from the baseline, Variant 1 and Variant 2 records.

    Shown in: book/lnas_table1.
    """
    summary = summarize(rows(records))
    return Table1(compare_with_report(summary), summary, list(records))


def search_diagnostics(records: Sequence[Record]) -> pd.DataFrame:
    """Per run that searched: the mean top-op weight / uniform at the end of its search, and the verdict.

    ``near uniform`` is true below ``NEAR_UNIFORM`` (1.5x): such a search has not chosen between its ops.
    ``per-epoch record``: whether the per-epoch, per-edge diagnostics were recorded (not in runs made
    before they existed; the summary is then computed from the final alphas the record holds).
    Shown in: book/lnas_table1, book/darts_cifar10.
    """
    out = []
    for r in records:
        if "alphas" not in r.metrics:
            continue
        summary = search_summary(r)
        out.append({"variant": LABELS[row_of(r)], "sparsity": r.config.get("sparsity", "N/A") if row_of(r) != "baseline" else "N/A",
                    "seed": r.config["seed"], "top op / uniform": summary, "near uniform": near_uniform(summary),
                    "per-epoch record": "recorded" if "search_diagnostics" in r.metrics else "not recorded"})
    return pd.DataFrame(out, columns=["variant", "sparsity", "seed", "top op / uniform", "near uniform", "per-epoch record"])


def curve_claims(per_run: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per curve: the drop across the pruning epoch, the best accuracy after it, the largest fall between epochs.

    Shown in: book/lnas_curves.
    """
    out = []
    for _, r in per_run[per_run["seed"] == seed].iterrows():
        metrics = r["record"].metrics
        curve = [h["val_acc"] for h in metrics["train_history"]]
        pruned_at = metrics["weight_pruning_log"][0]["epoch"] if metrics.get("weight_pruning_log") else None
        out.append({
            "variant": r["variant"], "sparsity": r["sparsity"],
            "drop at pruning": curve[pruned_at] - curve[pruned_at - 1] if pruned_at and pruned_at < len(curve) else None,
            "best after pruning": max(curve[pruned_at:]) if pruned_at else None,
            "best overall": max(curve), "last": curve[-1],
            "largest epoch-to-epoch drop": max([a - b for a, b in zip(curve, curve[1:])] + [0.0]),
        })
    return pd.DataFrame(out)


def search_times(per_run: pd.DataFrame) -> pd.DataFrame:
    """Search wall time of each Variant-2 run next to the baseline's, and their ratio (the report: 2.6x).

    Shown in: book/lnas_search_cost.
    """
    baseline = per_run.loc[per_run["variant"] == "Baseline", "search_min"]
    if not len(baseline):
        raise ValueError("search_times needs the baseline run among the records")
    out = per_run[per_run["variant"] == "Variant 2"][["sparsity", "search_min", "reached_sparsity"]].copy()
    out.insert(2, "baseline search_min", float(baseline.iloc[0]))
    out["V2 / baseline"] = out["search_min"] / float(baseline.iloc[0])
    return out.rename(columns={"search_min": "V2 search_min", "reached_sparsity": "path sparsity reached"})


def step_costs(records: Sequence[Record]) -> pd.DataFrame:
    """One row per measured sparsity: active paths, then per way of running the pruned supernet (``skip``:
    pruned ops not computed; ``compute``: masked in the softmax but computed) the median seconds per step
    and the step's memory (peak RSS growth), and their ratios to the unpruned supernet and to plain DARTS
    (every op computed, sparsity 0). A record without the ``compute`` mode gives NaN in its columns.

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
    table["time vs unpruned"] = table["s / step"] / dense["s / step"]
    table["step memory vs unpruned"] = table["step memory (MiB)"] / dense["step memory (MiB)"]
    darts_s, darts_mib = dense["s / step (masked, computed)"], dense["step memory (masked, computed)"]
    table["time vs DARTS (skip)"] = table["s / step"] / darts_s
    table["time vs DARTS (masked, computed)"] = table["s / step (masked, computed)"] / darts_s
    table["memory vs DARTS (skip)"] = table["step memory (MiB)"] / darts_mib
    table["memory vs DARTS (masked, computed)"] = table["step memory (masked, computed)"] / darts_mib
    return table


def generalized_comparison(per_run: pd.DataFrame) -> pd.DataFrame:
    """Per sparsity: final validation and test accuracy and FLOPs of Variant 1, Variant 2 and Algorithm 3.

    Shown in: book/lnas_generalized.
    """
    pruned = per_run[per_run["variant"] != "Baseline"]
    wide = pruned.pivot_table(index="sparsity", columns="variant", values=["val_acc_final", "test_acc", "flops_M"])
    order = [(metric, v) for metric in ("flops_M", "test_acc", "val_acc_final") for v in VARIANTS.values()]
    wide = wide[[c for c in order if c in wide.columns]]
    wide.columns = [f"{metric} ({variant})" for metric, variant in wide.columns]
    wide = wide.reset_index()
    if "val_acc_final (Algorithm 3)" in wide and {"val_acc_final (Variant 1)", "val_acc_final (Variant 2)"} <= set(wide):
        others = wide[["val_acc_final (Variant 1)", "val_acc_final (Variant 2)"]].max(axis=1)
        wide["beats both"] = wide["val_acc_final (Algorithm 3)"] > others
    baseline = per_run.loc[per_run["variant"] == "Baseline", "val_acc_final"]
    if len(baseline):
        wide["baseline val_acc_final"] = float(baseline.iloc[0])
    return wide


def baseline_comparison(record: Record) -> pd.DataFrame:
    """The report's baseline row next to one baseline run.

    Shown in: book/darts_cifar10.
    """
    theirs = reported_table1()
    return compare.compare(rows([record]), theirs[theirs["variant"] == "Baseline"], on=["variant"], metrics=METRICS)


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
