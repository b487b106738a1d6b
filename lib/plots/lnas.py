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
from lib.plots.bands import SEED_BAND, SEED_BARS, band, error_bars
from lib.plots.style import MAX_WIDTH_IN, alpha_heatmap, legend_above, legend_outside, sequential_colours
from lib.report.lnas import LABELS, Table1, reported_table1

COLOURS = {"Variant 1": "tab:blue", "Variant 2": "tab:orange", "Algorithm 3": "tab:green"}
NO_PRUNED_ROW = "no pruned row is cached yet: the baseline alone"
FINAL_LABEL = "best validation accuracy up to the last epoch (%)"


def plot_sparsity(table: Table1) -> Figure:
    """Final validation accuracy against sparsity: ours (mean over seeds, 95% t-interval as error bars; a row
    with one seed has none) and the report's, per variant; the baselines as lines (ours with its band).

    Shown in: book/lnas_table1.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.8))
    ours, theirs = table.data.dropna(subset=["val_acc_final"]), reported_table1()
    for variant in ("Variant 1", "Variant 2"):
        mine = ours[ours["variant"] == variant].sort_values("sparsity")
        mean = mine["val_acc_final"].astype(float)
        errors = error_bars(mean, mine["val_acc_final_low"], mine["val_acc_final_high"])
        ax.errorbar(mine["sparsity"].astype(float), mean, yerr=errors, marker="o", color=COLOURS[variant], capsize=3,
                    label=f"{variant} (ours, mean over seeds)")
        rep = theirs[theirs["variant"] == variant]
        ax.plot(rep["sparsity"].astype(float), rep["val_acc_final"], ls="--", marker="x", color=COLOURS[variant],
                alpha=0.6, label=f"{variant} (report)")
    base = ours[ours["variant"] == "Baseline"]
    if len(base):
        ax.axhline(float(base["val_acc_final"].iloc[0]), color="0.3", lw=1, label="baseline (ours)")
        if pd.notna(base["val_acc_final_low"].iloc[0]):
            ax.axhspan(float(base["val_acc_final_low"].iloc[0]), float(base["val_acc_final_high"].iloc[0]), color="0.3", alpha=0.12)
    ax.axhline(float(theirs.loc[theirs["variant"] == "Baseline", "val_acc_final"].iloc[0]), color="0.3", ls="--", lw=1,
               label="baseline (report)")
    ax.set(xlabel="sparsity p", ylabel=FINAL_LABEL)
    ax.set_title(f"{SEED_BARS}; shaded: the baseline's", fontsize=8.5)
    legend_outside(ax)
    fig.tight_layout()
    return fig


def _epochs(runs: pd.DataFrame) -> pd.DataFrame:
    """One line per (seed, training epoch) of ``runs`` (rows of :func:`lib.report.lnas.rows`): ``val_acc``."""
    parts = [pd.DataFrame(run["record"].metrics["train_history"])[["epoch", "val_acc"]].assign(seed=run["seed"])
             for _, run in runs.iterrows()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["epoch", "val_acc", "seed"])


def plot_curves(per_run: pd.DataFrame) -> Figure:
    """Figure 1: validation accuracy per training epoch, one panel per variant, one line per sparsity: the mean
    over seeds with its 95% t-band over seeds (no band where a row has one seed; the title gives n).

    Lines are coloured by sparsity on one sequential scale (the colour bar), a point per epoch; the
    baseline is the dashed black line in every panel. ``per_run``: :func:`lib.report.lnas.rows`.
    Shown in: book/lnas_curves.
    """
    variants = [v for v in COLOURS if (per_run["variant"] == v).any()]
    sparsities = sorted({float(p) for p in per_run.loc[per_run["variant"].isin(variants), "sparsity"]})
    colours, norm, cmap = sequential_colours(sparsities or [0.0])
    colour_of = dict(zip(sparsities, colours))
    panels = variants or [NO_PRUNED_ROW]  # the baseline alone until a pruned row is cached
    fig, axes = plt.subplots(len(panels), 1, figsize=(MAX_WIDTH_IN, 1.0 + 2.4 * len(panels)), sharex=True,
                             sharey=True, squeeze=False)
    baseline = per_run[per_run["variant"] == "Baseline"]
    for ax, variant in zip(axes[:, 0], panels):
        chosen = per_run[per_run["variant"] == variant]
        seeds = chosen.groupby("sparsity")["seed"].nunique()
        for sparsity, runs in chosen.groupby("sparsity", sort=True):
            band(ax, _epochs(runs), "epoch", "val_acc", f"p={sparsity}", color=colour_of[float(sparsity)], lw=1.2)
        if len(baseline):
            band(ax, _epochs(baseline), "epoch", "val_acc", "baseline (unpruned)", color="black", ls="--", marker=".")
        n = f"n={seeds.min()}" if seeds.min() == seeds.max() else f"n={seeds.min()}-{seeds.max()}"
        ax.set(title=f"{variant} ({n} seed(s) per sparsity)" if len(chosen) else variant, ylabel="val. accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1, 0].set_xlabel("training epoch")
    if len(baseline):
        handle = [line for line in axes[0, 0].lines if line.get_label().startswith("baseline")]
        axes[0, 0].legend(handles=handle, loc="lower right", bbox_to_anchor=(1.0, 1.12), borderaxespad=0.0)
    fig.suptitle(SEED_BAND, fontsize=8.5, x=0.02, ha="left")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[:, 0], label="sparsity p", fraction=0.05,
                 pad=0.02)
    return fig


def plot_step_costs(cost: pd.DataFrame) -> Figure:
    """Time and memory of a step against path sparsity, relative to plain DARTS (every op computed, unpruned),
    for pruned ops skipped and for pruned ops masked but computed.

    ``cost``: :func:`lib.report.lnas.step_costs`. Shown in: book/lnas_search_cost.
    """
    fig, axes = plt.subplots(1, 2, figsize=(MAX_WIDTH_IN, 3.6), sharey=True)
    for ax, what in zip(axes, ("time", "memory")):
        ax.plot(cost["path sparsity"], cost[f"{what} vs DARTS (skip)"], marker="o", label="pruned ops skipped")
        ax.plot(cost["path sparsity"], cost[f"{what} vs DARTS (masked, computed)"], marker="s",
                label="pruned ops masked, still computed")
        ax.axhline(1.0, color="0.5", lw=0.8, label="plain DARTS")
        ax.set(xlabel="fraction of paths pruned", title=f"{what} per search step")
    axes[0].axhline(2.6, color="tab:red", ls="--", lw=1, label="report: Variant 2 search / DARTS search = 2.6")
    axes[0].set_ylabel("relative to plain DARTS")
    legend_above(axes[0], ncol=3)
    fig.tight_layout()
    return fig


def plot_generalized(data: pd.DataFrame) -> Figure:
    """Final validation accuracy against sparsity for the two variants and Algorithm 3: means over seeds with
    95% t-interval bars, the baseline's mean as a line with its band.

    ``data``: the numeric table of :func:`lib.report.lnas.generalized_comparison`. Shown in: book/lnas_generalized.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.5))
    for variant in [v for v in COLOURS if (data["variant"] == v).any()]:
        rows = data[data["variant"] == variant].sort_values("sparsity")
        mean = rows["val_acc_final"].astype(float)
        errors = error_bars(mean, rows["val_acc_final_low"], rows["val_acc_final_high"])
        ax.errorbar(rows["sparsity"].astype(float), mean, yerr=errors, marker="o", capsize=3, color=COLOURS[variant], label=variant)
    base = data[data["variant"] == "Baseline"]
    if len(base):
        ax.axhline(float(base["val_acc_final"].iloc[0]), color="black", ls="--", lw=1, label="baseline")
        if pd.notna(base["val_acc_final_low"].iloc[0]):
            ax.axhspan(float(base["val_acc_final_low"].iloc[0]), float(base["val_acc_final_high"].iloc[0]), color="0.3", alpha=0.12)
    ax.set(xlabel="sparsity p", ylabel=FINAL_LABEL)
    ax.set_title(f"{SEED_BARS}; shaded: the baseline's", fontsize=8.5)
    legend_outside(ax)
    fig.tight_layout()
    return fig


def learning_curves(record: Record, augment: bool = False) -> Figure:
    """A baseline run: supernet accuracy per search epoch, and the derived network's train / validation curves.

    The search records one point per epoch (no per-step history); the panel says how many there are.
    Shown in: book/darts_cifar10.
    """
    m = record.metrics
    search, train = pd.DataFrame(m["search_history"]), pd.DataFrame(m["train_history"])
    fig, axes = plt.subplots(1, 2, figsize=(MAX_WIDTH_IN, 3.4), gridspec_kw={"width_ratios": [1, 1.6]})
    axes[0].plot(search["epoch"], search["train_acc"], marker="o")
    axes[0].set(title=f"search: supernet\n({len(search)} epoch(s), one point each;\nper-step history not recorded)",
                xlabel="search epoch", ylabel="accuracy on its weight split (%)")
    axes[1].plot(train["epoch"], train["train_acc"], marker="o",
                 label="train (running, augmented)" if augment else "train")
    axes[1].plot(train["epoch"], train["val_acc"], marker="o", label="validation (held out)")
    axes[1].axvline(m["mid_epoch"], color="0.6", ls="--", lw=1, label="mid epoch")
    axes[1].set(title="derived network", xlabel="training epoch", ylabel="accuracy (%)")
    axes[1].legend(loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=2)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def alpha_heatmaps(record: Record, space: str, n_nodes: int) -> Figure:
    """The final softmax weights of a search, one heatmap per cell type, relative to uniform.

    Shown in: book/darts_cifar10.
    """
    fig, axes = plt.subplots(2, 1, figsize=(MAX_WIDTH_IN, 9.0))
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
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.5))
    missing = []
    for r in records:
        epochs = r.metrics.get("search_diagnostics")
        if "alphas" not in r.metrics:
            continue
        name = LABELS[row_of(r)] + (f", p={r.config['sparsity']}" if row_of(r) != "baseline" else "") + f", seed {r.config['seed']}"
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
    title = "line: mean over the cell's edges; band: their range (min to max), one run each"
    if missing:
        title += f"\nper-epoch diagnostics not recorded for {len(missing)} run(s) made before they existed"
    ax.set_title(title, fontsize=8.5)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=2)
    fig.tight_layout()
    return fig
