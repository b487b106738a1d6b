"""The LNAS figures (and the DARTS baseline's): accuracy against sparsity, Figure 1's curves, search-step
costs, Algorithm 3 against both variants, learning curves, alpha heatmaps and the search diagnostics.
Tables come from :mod:`lib.report.lnas`; the shared style and cell drawings from :mod:`lib.plots.style`.
"""

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.darts.ops import SEARCH_SPACES
from lib.experiments.lnas_sweep import row_of
from lib.experiments.search_diagnostics import NEAR_UNIFORM
from lib.pipeline.results import Record
from lib.plots.style import alpha_heatmap
from lib.report.lnas import LABELS, Table1, reported_table1

COLOURS = {"Variant 1": "tab:blue", "Variant 2": "tab:orange", "Algorithm 3": "tab:green"}
FINAL_LABEL = "best validation accuracy up to the last epoch (%)"


def plot_sparsity(table: Table1) -> Figure:
    """Final validation accuracy against sparsity: ours (mean, seed spread) and the report's, per variant.

    Shown in: book/lnas_table1.
    """
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ours, theirs = table.ours, reported_table1()
    for variant in ("Variant 1", "Variant 2"):
        mine = ours[ours["variant"] == variant].sort_values("sparsity")
        ax.errorbar(mine["sparsity"], mine["val_acc_final"], yerr=mine["val_acc_final_std"].fillna(0),
                    marker="o", color=COLOURS[variant], capsize=3, label=f"{variant} (ours)")
        rep = theirs[theirs["variant"] == variant]
        ax.plot(rep["sparsity"].astype(float), rep["val_acc_final"], ls="--", marker="x", color=COLOURS[variant],
                alpha=0.6, label=f"{variant} (report)")
    for source, value, style in (("ours", ours.loc[ours["variant"] == "Baseline", "val_acc_final"], "-"),
                                 ("report", theirs.loc[theirs["variant"] == "Baseline", "val_acc_final"], "--")):
        if len(value):
            ax.axhline(float(value.iloc[0]), color="0.3", ls=style, lw=1, label=f"baseline ({source})")
    ax.set(xlabel="sparsity p", ylabel=FINAL_LABEL)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_curves(per_run: pd.DataFrame, seed: int) -> Figure:
    """Figure 1: validation accuracy per training epoch, one panel per variant, one line per sparsity.

    ``per_run``: :func:`lib.report.lnas.rows`. Shown in: book/lnas_curves.
    """
    chosen_seed = per_run[per_run["seed"] == seed]
    variants = [v for v in COLOURS if (chosen_seed["variant"] == v).any()]
    fig, axes = plt.subplots(1, len(variants), figsize=(5 * len(variants), 3.6), sharey=True, squeeze=False)
    baseline = chosen_seed[chosen_seed["variant"] == "Baseline"]
    cmap = plt.get_cmap("viridis")
    for ax, variant in zip(axes[0], variants):
        chosen = chosen_seed[chosen_seed["variant"] == variant].sort_values("sparsity")
        for i, (_, run) in enumerate(chosen.iterrows()):
            curve = pd.DataFrame(run["record"].metrics["train_history"])
            ax.plot(curve["epoch"], curve["val_acc"], color=cmap(i / max(1, len(chosen) - 1)), label=f"p={run['sparsity']}")
        if len(baseline):
            curve = pd.DataFrame(baseline.iloc[0]["record"].metrics["train_history"])
            ax.plot(curve["epoch"], curve["val_acc"], color="black", ls="--", label="baseline")
        ax.set(title=variant, xlabel="training epoch")
    axes[0][0].set_ylabel("validation accuracy (%)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_step_costs(cost: pd.DataFrame) -> Figure:
    """Time and memory of a step against path sparsity, relative to plain DARTS (every op computed, unpruned),
    for pruned ops skipped and for pruned ops masked but computed.

    ``cost``: :func:`lib.report.lnas.step_costs`. Shown in: book/lnas_search_cost.
    """
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


def plot_generalized(comparison: pd.DataFrame) -> Figure:
    """Final validation accuracy against sparsity for the two variants and Algorithm 3.

    ``comparison``: :func:`lib.report.lnas.generalized_comparison`. Shown in: book/lnas_generalized.
    """
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for column in [c for c in comparison.columns if c.startswith("val_acc_final (")]:
        ax.plot(comparison["sparsity"], comparison[column], marker="o", label=column.split("(")[1].rstrip(")"))
    if "baseline val_acc_final" in comparison:
        ax.axhline(comparison["baseline val_acc_final"].iloc[0], color="black", ls="--", lw=1, label="baseline")
    ax.set(xlabel="sparsity p", ylabel=FINAL_LABEL)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def learning_curves(record: Record, augment: bool = False) -> Figure:
    """A baseline run: supernet accuracy per search epoch, and the derived network's train / validation curves.

    Shown in: book/darts_cifar10.
    """
    m = record.metrics
    search, train = pd.DataFrame(m["search_history"]), pd.DataFrame(m["train_history"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    axes[0].plot(search["epoch"], search["train_acc"], marker="o")
    axes[0].set(title="search: supernet accuracy on its weight split", xlabel="search epoch", ylabel="accuracy (%)")
    axes[1].plot(train["epoch"], train["train_acc"], marker="o",
                 label="train (running, augmented batches)" if augment else "train")
    axes[1].plot(train["epoch"], train["val_acc"], marker="o", label="validation (held out)")
    axes[1].axvline(m["mid_epoch"], color="0.6", ls="--", lw=1)
    axes[1].set(title="derived network", xlabel="training epoch", ylabel="accuracy (%)")
    axes[1].legend()
    fig.tight_layout()
    return fig


def alpha_heatmaps(record: Record, space: str, n_nodes: int) -> Figure:
    """The final softmax weights of a search, one heatmap per cell type, relative to uniform.

    Shown in: book/darts_cifar10.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, (cell, weights) in zip(axes, record.metrics["alphas"].items()):
        alpha_heatmap(np.asarray(weights), SEARCH_SPACES[space], n_nodes, ax, f"{cell} cell")
    fig.tight_layout()
    return fig


def search_diagnostics(records: Sequence[Record]) -> Figure:
    """Per search epoch: the mean (line) and the range over edges (band) of top-op weight / uniform, per run.

    Runs made before the diagnostics existed are listed as "not recorded" (the figure says so instead of
    drawing them). The dashed line is the ``NEAR_UNIFORM`` threshold. Shown in: book/darts_cifar10,
    book/lnas_table1.
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    missing = []
    for r in records:
        epochs = r.metrics.get("search_diagnostics")
        name = LABELS[row_of(r)] + (f", p={r.config['sparsity']}" if row_of(r) != "baseline" else "") + f", seed {r.config['seed']}"
        if "alphas" not in r.metrics:
            continue
        if not epochs:
            missing.append(name)
            continue
        per_edge = [np.concatenate([np.asarray(v) for v in e["top_over_uniform"].values()]) for e in epochs]
        x = [e["epoch"] for e in epochs]
        line, = ax.plot(x, [v.mean() for v in per_edge], marker="o", label=name)
        ax.fill_between(x, [v.min() for v in per_edge], [v.max() for v in per_edge], color=line.get_color(), alpha=0.15)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.axhline(NEAR_UNIFORM, color="tab:red", ls="--", lw=1, label=f"near-uniform threshold ({NEAR_UNIFORM:g}x)")
    ax.set(xlabel="search epoch", ylabel="top-op weight / uniform (1 = uniform)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if missing:
        ax.set_title(f"per-epoch diagnostics not recorded for {len(missing)} run(s) made before they existed", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
