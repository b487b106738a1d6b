"""Assemble the LNAS runs into the report's Table 1, its Figure 1 and the Algorithm-3 comparison."""

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from lib.report import compare
from lib.pipeline import results
from lib.experiments import darts_cifar10, lnas
from lib.pipeline.results import Record
from lib.pipeline.runner import run_all

VARIANT_NAMES = {"baseline": "Baseline", "v1": "1", "v2": "2", "generalized": "Alg. 3"}
ConfigFn = Callable[..., lnas.LnasConfig]


@dataclass
class LnasRuns:
    """Every record behind a table, with one row of metrics per (variant, sparsity, seed)."""

    records: list[Record]
    rows: pd.DataFrame

    @property
    def records_count(self) -> int:
        return len(self.records)


def _row(record: Record) -> dict[str, Any]:
    cfg, m = record.config, record.metrics
    variant = cfg.get("variant", "baseline") if record.experiment == "lnas" else "baseline"
    return {
        "variant": VARIANT_NAMES[variant], "sparsity": cfg.get("sparsity") if variant != "baseline" else "N/A",
        "seed": cfg["seed"], "val_acc_epoch10": m["val_acc_best_mid"], "val_acc_epoch20": m["val_acc_best_final"],
        "val_acc_last": m["val_acc_last_final"], "test_acc": m["test_acc_at_best_val"],
        "flops_M": m["macs"] / 1e6, "dense_flops_M": m.get("dense_macs", m["macs"]) / 1e6,
        "reached_sparsity": m.get("weight_sparsity", m.get("path_sparsity")),
        "val_acc_after_pruning": m.get("val_acc_best_after_pruning"),
        "search_min": m.get("search_seconds", float("nan")) / 60, "train_min": m["train_seconds"] / 60,
        "record": record,
    }


def _jobs(config: ConfigFn, variants: Sequence[str], seeds: Sequence[int], sparsities: Sequence[float]) -> list:
    jobs = []
    for seed in seeds:
        if "baseline" in variants:
            jobs.append((config(seed=seed).baseline(), darts_cifar10.run))
        jobs += [(config(variant=v, sparsity=p, seed=seed), lnas.run) for v in variants if v != "baseline" for p in sparsities]
    return jobs


def collect(config: ConfigFn, variants: Sequence[str], seeds: Sequence[int], sparsities: Sequence[float],
            processes: int = 1, force: bool = False) -> LnasRuns:
    """Run (or load) every row; searches that other rows reuse (baseline, Variant 2) run first."""
    stages = [[v for v in variants if v in ("baseline", "v2")], [v for v in variants if v in ("v1", "generalized")]]
    records: list[Record] = []
    for stage in stages:
        if stage:
            records += run_all(_jobs(config, stage, seeds, sparsities), processes, force, desc=f"{'+'.join(stage)} runs")
    return LnasRuns(records, pd.DataFrame([_row(r) for r in records]))


def stored_runs(config: ConfigFn, variants: Sequence[str], seeds: Sequence[int], sparsities: Sequence[float]) -> LnasRuns:
    """The rows whose records are already cached; nothing runs (the scorecard reads the cache this way)."""
    found = [results.stored(cfg) for cfg, _ in _jobs(config, variants, seeds, sparsities)]
    records = [r for r in found if r is not None]
    return LnasRuns(records, pd.DataFrame([_row(r) for r in records]))


def extremes(runs: LnasRuns) -> list[tuple[str, float]]:
    """The (variant, sparsity) rows with the best and the worst mean final validation accuracy."""
    pruned = runs.rows[runs.rows["variant"] != "Baseline"]
    means = pruned.groupby(["variant", "sparsity"])["val_acc_epoch20"].mean()
    return [means.idxmax(), means.idxmin()]


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (variant, sparsity), with the seed count and the spread of the final accuracy."""
    numeric = rows.drop(columns=["record", "seed"])
    grouped = numeric.groupby(["variant", "sparsity"], sort=False)
    out = grouped.mean(numeric_only=True)
    out.insert(0, "seeds", grouped.size())
    out.insert(3, "val_acc_epoch20_std", grouped["val_acc_epoch20"].std())
    return out.reset_index()


def compare_with_report(summary: pd.DataFrame) -> pd.DataFrame:
    """The report's Table 1 next to our means, with a winning-ticket mark for both (final acc >= baseline)."""
    theirs = compare.reported("lnas", "Table 1")
    table = compare.compare(summary, theirs, on=["variant", "sparsity"], metrics={
        "val @ mid": "val_acc_epoch10", "val @ final": "val_acc_epoch20", "FLOPs (M)": "flops_M"})
    baseline_ours = summary.loc[summary["variant"] == "Baseline", "val_acc_epoch20"]
    baseline_theirs = theirs.loc[theirs["variant"] == "Baseline", "val_acc_epoch20"].iloc[0]
    mark = lambda beats: "ticket" if beats else ""
    table["ticket (report)"] = [mark(v >= baseline_theirs) for v in table["val @ final (report)"]]
    table["ticket (ours)"] = [mark(len(baseline_ours) and v >= baseline_ours.iloc[0]) for v in table["val @ final (ours)"]]
    table.loc[table["variant"] == "Baseline", ["ticket (report)", "ticket (ours)"]] = ""
    return table


@dataclass
class Table1:
    """LNAS Table 1: the report next to our means (``comparison``), our extra columns (``ours``), all records."""

    comparison: pd.DataFrame
    ours: pd.DataFrame
    records: list[Record]

    @property
    def records_count(self) -> int:
        return len(self.records)


def _add_seeds(config: ConfigFn, runs: LnasRuns, extra_seeds: Sequence[int], processes: int, force: bool) -> LnasRuns:
    """Re-run the baseline and the best and worst pruned rows with ``extra_seeds``, for the spread."""
    variant_key = {name: key for key, name in VARIANT_NAMES.items()}
    picked = [(variant_key[v], p) for v, p in extremes(runs)]
    searches = [(config(seed=s).baseline(), darts_cifar10.run) for s in extra_seeds]
    searches += [(config(variant=v, sparsity=p, seed=s), lnas.run) for v, p in picked if v == "v2" for s in extra_seeds]
    reusers = [(config(variant=v, sparsity=p, seed=s), lnas.run) for v, p in picked if v != "v2" for s in extra_seeds]
    records = runs.records + run_all(searches, processes, force, desc="extra seeds: searches")
    records += run_all(reusers, processes, force, desc="extra seeds: reusing a search")
    return LnasRuns(records, pd.DataFrame([_row(r) for r in records]))


def table1(config: ConfigFn, seeds: Sequence[int], extra_seeds: Sequence[int], sparsities: Sequence[float],
           processes: int = 1, force: bool = False) -> Table1:
    """Run (or load) the baseline, Variant 1 and Variant 2 rows and build the report-vs-ours table."""
    runs = collect(config, ["baseline", "v2", "v1"], seeds, sparsities, processes, force)
    if extra_seeds:
        runs = _add_seeds(config, runs, [s for s in extra_seeds if s not in seeds], processes, force)
    summary = summarize(runs.rows)
    return Table1(compare_with_report(summary), summary, runs.records)


def plot_sparsity(table: Table1) -> Figure:
    """Final validation accuracy against sparsity: ours (mean, seed spread) and the report's, per variant."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ours, theirs = table.ours, compare.reported("lnas", "Table 1")
    for variant, color in (("1", "tab:blue"), ("2", "tab:orange")):
        mine = ours[ours["variant"] == variant].sort_values("sparsity")
        ax.errorbar(mine["sparsity"], mine["val_acc_epoch20"], yerr=mine["val_acc_epoch20_std"].fillna(0),
                    marker="o", color=color, capsize=3, label=f"Variant {variant} (ours)")
        rep = theirs[theirs["variant"] == variant]
        ax.plot(rep["sparsity"].astype(float), rep["val_acc_epoch20"], ls="--", marker="x", color=color,
                alpha=0.6, label=f"Variant {variant} (report)")
    for source, value, style in (("ours", ours.loc[ours["variant"] == "Baseline", "val_acc_epoch20"], "-"),
                                 ("report", theirs.loc[theirs["variant"] == "Baseline", "val_acc_epoch20"], "--")):
        if len(value):
            ax.axhline(float(value.iloc[0]), color="0.3", ls=style, lw=1, label=f"baseline ({source})")
    ax.set(xlabel="sparsity p", ylabel="best validation accuracy up to the last epoch (%)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_curves(runs: LnasRuns, seed: int) -> Figure:
    """Figure 1: validation accuracy per training epoch, one panel per variant, one line per sparsity."""
    rows = runs.rows[runs.rows["seed"] == seed]
    variants = [v for v in ("1", "2", "Alg. 3") if (rows["variant"] == v).any()]
    fig, axes = plt.subplots(1, len(variants), figsize=(5 * len(variants), 3.6), sharey=True, squeeze=False)
    baseline = rows[rows["variant"] == "Baseline"]
    cmap = plt.get_cmap("viridis")
    for ax, variant in zip(axes[0], variants):
        chosen = rows[rows["variant"] == variant].sort_values("sparsity")
        for i, (_, row) in enumerate(chosen.iterrows()):
            curve = pd.DataFrame(row["record"].metrics["train_history"])
            ax.plot(curve["epoch"], curve["val_acc"], color=cmap(i / max(1, len(chosen) - 1)), label=f"p={row['sparsity']}")
        if len(baseline):
            curve = pd.DataFrame(baseline.iloc[0]["record"].metrics["train_history"])
            ax.plot(curve["epoch"], curve["val_acc"], color="black", ls="--", label="baseline")
        ax.set(title=f"Variant {variant}", xlabel="training epoch")
    axes[0][0].set_ylabel("validation accuracy (%)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def curve_claims(runs: LnasRuns, seed: int) -> pd.DataFrame:
    """Per curve: the drop across the pruning epoch, the best accuracy after it, the largest fall between epochs."""
    out = []
    for _, row in runs.rows[runs.rows["seed"] == seed].iterrows():
        metrics = row["record"].metrics
        curve = [h["val_acc"] for h in metrics["train_history"]]
        pruned_at = metrics["weight_pruning_log"][0]["epoch"] if metrics.get("weight_pruning_log") else None
        out.append({
            "variant": row["variant"], "sparsity": row["sparsity"],
            "drop at pruning": curve[pruned_at] - curve[pruned_at - 1] if pruned_at and pruned_at < len(curve) else None,
            "best after pruning": max(curve[pruned_at:]) if pruned_at else None,
            "best overall": max(curve), "last": curve[-1],
            "largest epoch-to-epoch drop": max([a - b for a, b in zip(curve, curve[1:])] + [0.0]),
        })
    return pd.DataFrame(out)


def search_times(runs: LnasRuns) -> pd.DataFrame:
    """Search wall time of each Variant-2 run next to the baseline's, and their ratio (the report: 2.6x)."""
    rows = runs.rows
    baseline = rows.loc[rows["variant"] == "Baseline", "search_min"]
    if not len(baseline):
        raise ValueError("search_times needs the baseline run among the records")
    out = rows[rows["variant"] == "2"][["sparsity", "search_min", "reached_sparsity"]].copy()
    out.insert(2, "baseline search_min", float(baseline.iloc[0]))
    out["V2 / baseline"] = out["search_min"] / float(baseline.iloc[0])
    return out.rename(columns={"search_min": "V2 search_min", "reached_sparsity": "path sparsity reached"})


def step_costs(records: Sequence[Record]) -> pd.DataFrame:
    """One row per measured sparsity: active paths, then per way of running the pruned supernet (``skip``:
    pruned ops not computed; ``compute``: masked in the softmax but computed) the median seconds per step
    and the step's memory (peak RSS growth), and their ratios to plain DARTS (every op computed, sparsity 0)."""
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


def plot_step_costs(cost: pd.DataFrame) -> Figure:
    """Time and memory of a step against path sparsity, relative to plain DARTS (every op computed, unpruned),
    for pruned ops skipped and for pruned ops masked but computed."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    for ax, what in zip(axes, ("time", "memory")):
        ax.plot(cost["path sparsity"], cost[f"{what} vs DARTS (skip)"], marker="o", label="pruned ops skipped")
        ax.plot(cost["path sparsity"], cost[f"{what} vs DARTS (masked, computed)"], marker="s",
                label="pruned ops masked, still computed")
        ax.axhline(1.0, color="0.5", lw=0.8, label="plain DARTS")
        ax.set(xlabel="fraction of paths pruned", title=f"{what} per search step")
    axes[0].axhline(2.6, color="tab:red", ls="--", lw=1, label="report: Variant 2 search / DARTS search = 2.6")
    axes[0].set_ylabel("relative to plain DARTS")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def generalized_comparison(runs: LnasRuns) -> pd.DataFrame:
    """Per sparsity: final validation and test accuracy of Variant 1, Variant 2 and Algorithm 3."""
    rows = runs.rows[runs.rows["variant"] != "Baseline"]
    wide = rows.pivot_table(index="sparsity", columns="variant", values=["val_acc_epoch20", "test_acc", "flops_M"])
    wide.columns = [f"{metric} ({'Alg. 3' if v == 'Alg. 3' else 'V' + v})" for metric, v in wide.columns]
    wide = wide.reset_index()
    final = [c for c in wide.columns if c.startswith("val_acc_epoch20")]
    others = [c for c in final if "Alg. 3" not in c]
    if len(final) == 3:
        wide["beats both"] = wide["val_acc_epoch20 (Alg. 3)"] > wide[others].max(axis=1)
    baseline = runs.rows.loc[runs.rows["variant"] == "Baseline", "val_acc_epoch20"]
    if len(baseline):
        wide["baseline val_acc_epoch20"] = float(baseline.iloc[0])
    return wide


def plot_generalized(comparison: pd.DataFrame) -> Figure:
    """Final validation accuracy against sparsity for the two variants and Algorithm 3."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for column in [c for c in comparison.columns if c.startswith("val_acc_epoch20 (")]:
        ax.plot(comparison["sparsity"], comparison[column], marker="o", label=column.split("(")[1].rstrip(")"))
    if "baseline val_acc_epoch20" in comparison:
        ax.axhline(comparison["baseline val_acc_epoch20"].iloc[0], color="black", ls="--", lw=1, label="baseline")
    ax.set(xlabel="sparsity p", ylabel="best validation accuracy up to the last epoch (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
