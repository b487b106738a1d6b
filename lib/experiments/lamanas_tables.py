"""Assemble LAMANAS runs into the report's Table 1, next to the rows the report could not show.

Rows are named like ``"lstm-res-ip"`` (loss network, residual, proxy); ``"baseline"`` is MetaNAS with
cross-entropy. Each learned-loss row can also run with ``authors_code`` (the detached proxy logits, #21,
and no phi meta-update, #22). Seeds give the spread the report did not show.
"""

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.report import compare
from lib.pipeline import results
from lib.experiments import lamanas
from lib.pipeline.results import Record
from lib.pipeline.runner import run_all

ConfigFn = Callable[..., lamanas.LamanasConfig]
KEYS = ["variant", "residual", "loss_proxy"]


@dataclass(frozen=True)
class Row:
    """One line of Table 1: a task loss and, for a learned loss, its residual and proxy."""

    loss: str
    residual: bool = False
    proxy: str = "none"

    def config(self) -> dict[str, Any]:
        """The ``LamanasConfig`` fields of this row."""
        return {"loss": self.loss, "residual": self.residual, "proxy": self.proxy}

    def labels(self) -> dict[str, str]:
        """The report's spelling of the row (the join keys of ``lamanas_reported.json``)."""
        return {"variant": {"ce": "Baseline", "fnn": "FNN", "lstm": "LSTM"}[self.loss],
                "residual": "Yes" if self.residual else "No",
                "loss_proxy": {"none": "N/A", "mse": "MSE", "inner_product": "Inner product"}[self.proxy]}


ROWS: dict[str, Row] = {
    "baseline": Row("ce"),
    **{f"{loss}{'-res' if residual else ''}-{short}": Row(loss, residual, proxy)
       for loss in ("fnn", "lstm") for proxy, short in (("mse", "mse"), ("inner_product", "ip"))
       for residual in (True, False)},
}


def row_config(config: ConfigFn, row: Row, seed: int, authors_code: bool) -> lamanas.LamanasConfig:
    """A row's config. LSTM rows store no loss snapshots: each would be 170k numbers (Figure 3 is the FNN's)."""
    extra = {"snapshot_epochs": ()} if row.loss == "lstm" else {}
    return config(seed=seed, authors_code=authors_code, **row.config(), **extra)


def jobs(config: ConfigFn, rows: Sequence[str], seeds: Sequence[int], authors_seeds: Sequence[int]) -> list:
    """Every (config, run) pair: each row for each seed, then its authors'-code twin for ``authors_seeds``."""
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        raise ValueError(f"unknown row(s) {unknown}; choose from {list(ROWS)}")
    out = [(row_config(config, ROWS[r], s, False), lamanas.run) for s in seeds for r in rows]
    out += [(row_config(config, ROWS[r], s, True), lamanas.run)
            for s in authors_seeds for r in rows if ROWS[r].loss != "ce"]
    return out


def _row(record: Record) -> dict[str, Any]:
    cfg, m = record.config, record.metrics
    return {**Row(cfg["loss"], cfg["residual"], cfg["proxy"]).labels(),
            "code": "authors" if cfg["authors_code"] else "ours", "seed": cfg["seed"],
            "test_acc": m["test_acc"], "test_acc_task_steps": m["test_acc_task_steps"],
            "train_acc": m["train_acc"], "train_acc_last_epoch": m["train_acc_last_epoch"],
            "mean_params": m["mean_params"], "test_query_ce": m["test_query_ce"],
            "phi_change_total": m["phi_change_total"],
            "minutes": (m["meta_train_seconds"] + m["meta_test_seconds"]) / 60,
            "record": record}


@dataclass
class LamanasRuns:
    """Every record behind the table, with one row of metrics per (row, code, seed)."""

    records: list[Record]
    rows: pd.DataFrame


def collect(config: ConfigFn, rows: Sequence[str], seeds: Sequence[int], authors_seeds: Sequence[int],
            processes: int = 1, force: bool = False) -> LamanasRuns:
    """Run (or load from the cache) every row as parallel one-thread processes."""
    records = run_all(jobs(config, rows, seeds, authors_seeds), processes, force, desc="LAMANAS rows")
    return LamanasRuns(records, pd.DataFrame([_row(r) for r in records]))


def stored_runs(config: ConfigFn, rows: Sequence[str], seeds: Sequence[int], authors_seeds: Sequence[int]) -> LamanasRuns:
    """The rows whose records are already cached; nothing runs (the scorecard reads the cache this way)."""
    found = [results.stored(cfg) for cfg, _ in jobs(config, rows, seeds, authors_seeds)]
    records = [r for r in found if r is not None]
    return LamanasRuns(records, pd.DataFrame([_row(r) for r in records]))


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (row, code), with the seed count and the seed spread of the accuracies."""
    numeric = rows.drop(columns=["record", "seed"])
    grouped = numeric.groupby(KEYS + ["code"], sort=False)
    out = grouped.mean(numeric_only=True)
    out.insert(0, "seeds", grouped.size())
    out.insert(2, "test_acc_seed_std", grouped["test_acc"].std())
    out.insert(4, "train_acc_seed_std", grouped["train_acc"].std())
    return out.reset_index()


def why(labels: pd.Series) -> str:
    """Why the row's columns differ, in a line (the chapter has the long version)."""
    if labels["variant"] == "Baseline":
        return "no loss network: the authors'-code flag changes nothing (#20 is not reproduced in either column)"
    reasons = ["authors' code: phi is never meta-updated (#22)"]
    if labels["loss_proxy"] == "Inner product":
        reasons.append("the proxy gives phi no gradient (#21)")
    if labels["residual"] == "No":
        reasons.append("no CE residual: the task gradient comes only from the loss network, in both columns")
    return "; ".join(reasons)


METRICS = {"test acc": "test_acc", "train acc": "train_acc", "params": "mean_params"}


def compare_with_report(summary: pd.DataFrame) -> pd.DataFrame:
    """Per report row: the report's number, ours, the difference, and ours with the authors' code behaviour.

    The baseline has no loss network, so its authors'-code columns repeat ours.
    """
    ours, authors = summary[summary["code"] == "ours"], summary[summary["code"] == "authors"]
    table = compare.compare(ours, compare.reported("lamanas", "Table 1"), on=KEYS, metrics=METRICS)
    twins = pd.concat([authors, ours[ours["variant"] == "Baseline"]])[KEYS + list(METRICS.values())]
    twins = twins.rename(columns={c: f"{name} (authors' code)" for name, c in METRICS.items()})
    table = table.merge(twins, on=KEYS, how="left")
    order = KEYS + [f"{name} {kind}" for name in METRICS for kind in ("(report)", "(ours)", "Δ", "(authors' code)")]
    table = table[order]
    table["seeds"] = table[KEYS].merge(ours[KEYS + ["seeds"]], on=KEYS, how="left")["seeds"].astype("Int64").to_numpy()
    table["why the columns differ"] = [why(row) for _, row in table.iterrows()]
    return table


def steps_explain_test_above_train(summary: pd.DataFrame) -> pd.DataFrame:
    """#8 measured: "Train" (running mean, task_steps steps, 15 shots) vs test after task_steps and test_steps."""
    ours = summary[summary["code"] == "ours"]
    return ours[KEYS + ["train_acc", "train_acc_last_epoch", "test_acc_task_steps", "test_acc"]]


def phi_movement(summary: pd.DataFrame) -> pd.DataFrame:
    """How far phi moved from its initialisation over meta-training, ours vs the authors' code behaviour."""
    learned = summary[summary["variant"] != "Baseline"]
    return learned.pivot_table(index=KEYS, columns="code", values="phi_change_total", sort=False).reset_index()


def row_name(labels: pd.Series) -> str:
    """"Baseline", or e.g. "LSTM, residual, Inner product" / "FNN, no residual, MSE"."""
    if labels["variant"] == "Baseline":
        return "Baseline"
    residual = "residual" if labels["residual"] == "Yes" else "no residual"
    return f"{labels['variant']}, {residual}, {labels['loss_proxy']}"


def plot_training(runs: LamanasRuns, seed: int) -> Figure:
    """Per meta-epoch query accuracy after the task steps, and its running mean (the report's "Train")."""
    rows = runs.rows[(runs.rows["seed"] == seed) & (runs.rows["code"] == "ours")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for _, row in rows.iterrows():
        history = pd.DataFrame(row["record"].metrics["history"])
        label = row_name(row)
        axes[0].plot(history["epoch"], history["query_acc"], marker=".", label=label)
        axes[1].plot(history["epoch"], history["train_acc_running"], marker=".", label=label)
    axes[0].set(title="per meta-epoch (de-averaged)", xlabel="meta-epoch", ylabel="query accuracy after K steps (%)")
    axes[1].set(title="running mean since epoch 1 (the report's 'Train')", xlabel="meta-epoch")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def plot_test_accuracy(table: pd.DataFrame, ways: int) -> Figure:
    """Meta-test accuracy per row: the report, ours, ours with the authors' code behaviour; chance = 1 / ways."""
    fig, ax = plt.subplots(figsize=(10, 3.8))
    names = [row_name(row).replace(", ", "\n") for _, row in table.iterrows()]
    x = range(len(table))
    for shift, column, color in ((-0.27, "test acc (report)", "0.6"), (0.0, "test acc (ours)", "tab:blue"),
                                 (0.27, "test acc (authors' code)", "tab:orange")):
        ax.bar([i + shift for i in x], table[column], width=0.27, color=color, label=column)
    ax.axhline(100 / ways, color="black", ls=":", lw=1, label=f"chance ({ways}-way)")
    ax.set_xticks(list(x), names, fontsize=7)
    ax.set(ylabel="meta-test accuracy (%)", ylim=(0, 100))
    ax.legend(fontsize=7, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig
