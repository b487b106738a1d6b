"""The LNAS figures (and the DARTS baseline's): accuracy against sparsity, Figure 1's curves, search-step
costs, Algorithm 3 against both variants, learning curves, alpha heatmaps and the search diagnostics.
Tables come from :mod:`lib.report.lnas`; the shared style and cell drawings from :mod:`lib.plots.style`.
"""

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.darts.ops import SEARCH_SPACES
from lib.experiments.lnas_sweep import row_of
from lib.experiments.search_diagnostics import NEAR_UNIFORM
from lib.pipeline.results import Record
from lib.report.seeds import PERCENT
from lib.plots.bands import (SEED_BAND, SEED_BARS, SEED_RINGS, SEEDS_DRAWN, band, clip, error_bars,
                             seed_values)
from lib.plots.style import MAX_WIDTH_IN, alpha_heatmap, legend_above, legend_outside, sequential_colours
from lib.report.lnas import LABELS, Table1, reported_table1, rows as run_rows

COLOURS = {"Variant 1": "tab:blue", "Variant 2": "tab:orange", "Algorithm 3": "tab:green"}
NO_PRUNED_ROW = "no pruned row is cached yet: the baseline alone"
BASELINE_SEEDS = f"{SEED_RINGS}; shaded: the baseline's interval, dotted: its seeds where n=2"
FINAL_LABEL = "best validation accuracy\nup to the last epoch (%)"  # two lines: one is taller than the axes


def plot_sparsity(table: Table1) -> Figure:
    """Final validation accuracy against sparsity: ours (mean over seeds, 95% t-interval as error bars clipped to
    [0, 100]; a row with one seed has none; a row with two also shows each seed) and the report's, per variant;
    the baselines as lines (ours with its band).

    Shown in: book/lnas_table1.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.8))
    ours, theirs, per_run = table.data.dropna(subset=["val_acc_final"]), reported_table1(), run_rows(table.records)
    for variant in ("Variant 1", "Variant 2"):
        _final_bars(ax, ours[ours["variant"] == variant], _runs_of(per_run, variant), COLOURS[variant],
                    f"{variant} (ours, mean over seeds)")
        rep = theirs[theirs["variant"] == variant]
        ax.plot(rep["sparsity"].astype(float), rep["val_acc_final"], ls="--", marker="x", color=COLOURS[variant],
                alpha=0.6, label=f"{variant} (report)")
    _baseline(ax, ours[ours["variant"] == "Baseline"], _runs_of(per_run, "Baseline"), "baseline (ours)", color="0.3")
    ax.axhline(float(theirs.loc[theirs["variant"] == "Baseline", "val_acc_final"].iloc[0]), color="0.3", ls="--", lw=1,
               label="baseline (report)")
    ax.set(xlabel="sparsity p", ylabel=FINAL_LABEL)
    ax.set_title(f"{SEED_BARS};\n{BASELINE_SEEDS}", fontsize=8.5, loc="left")
    legend_outside(ax)
    fig.tight_layout()
    return fig


def _runs_of(per_run: pd.DataFrame | None, variant: str) -> pd.DataFrame | None:
    """The lines of ``per_run`` (:func:`lib.report.lnas.rows`) of one variant; None where there are no runs."""
    return None if per_run is None or per_run.empty else per_run[per_run["variant"] == variant]


def _final_bars(ax: Axes, rows: pd.DataFrame, runs: pd.DataFrame | None, colour: str, label: str) -> None:
    """One variant's final validation accuracy against sparsity: the means with their 95% bars clipped to [0, 100],
    and each seed's value where a mean rests on two seeds.

    ``rows``: the variant's lines of a numeric table (``sparsity``, ``val_acc_final`` with ``_low``/``_high``);
    ``runs``: its lines of :func:`lib.report.lnas.rows` (None: seeds not drawn).
    """
    rows = rows.sort_values("sparsity")
    mean = rows["val_acc_final"].astype(float)
    errors = error_bars(mean, rows["val_acc_final_low"], rows["val_acc_final_high"], PERCENT)
    ax.errorbar(rows["sparsity"].astype(float), mean, yerr=errors, marker="o", capsize=3, color=colour, label=label)
    if runs is not None and len(runs):
        seed_values(ax, runs, "sparsity", "val_acc_final", colour)


def _baseline(ax: Axes, base: pd.DataFrame, runs: pd.DataFrame | None, label: str, **line) -> None:
    """The baseline's mean final accuracy as a horizontal line (``line``: its style), its 95% interval (clipped to
    [0, 100]) shaded and, where it rests on two seeds, each seed as a thin dotted line. ``base``: its line of a
    numeric table (or none); ``runs``: its lines of :func:`lib.report.lnas.rows` (None: seeds not drawn)."""
    if not len(base):
        return
    row = base.iloc[0]
    ax.axhline(float(row["val_acc_final"]), lw=1, label=label, **line)
    if pd.notna(row["val_acc_final_low"]):
        low, high = clip(pd.Series([row["val_acc_final_low"], row["val_acc_final_high"]]), PERCENT)
        ax.axhspan(low, high, color="0.3", alpha=0.12)
    seeds = [] if runs is None else runs.groupby("seed")["val_acc_final"].mean().dropna()
    if 2 <= len(seeds) <= SEEDS_DRAWN:
        for value in seeds:
            ax.axhline(value, color=line["color"], lw=0.6, ls=":")


def _epochs(runs: pd.DataFrame) -> pd.DataFrame:
    """One line per (seed, training epoch) of ``runs`` (rows of :func:`lib.report.lnas.rows`): ``val_acc``."""
    parts = [pd.DataFrame(run["record"].metrics["train_history"])[["epoch", "val_acc"]].assign(seed=run["seed"])
             for _, run in runs.iterrows()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["epoch", "val_acc", "seed"])


def plot_curves(per_run: pd.DataFrame) -> Figure:
    """Figure 1: validation accuracy per training epoch, one panel per variant, one line per sparsity: the mean
    over seeds with its 95% t-band over seeds clipped to [0, 100] (no band where a row has one seed; with two,
    each seed as a thin line too; the title gives n).

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
            band(ax, _epochs(runs), "epoch", "val_acc", f"p={sparsity}", PERCENT, color=colour_of[float(sparsity)],
                 lw=1.2)
        if len(baseline):
            band(ax, _epochs(baseline), "epoch", "val_acc", "baseline (unpruned)", PERCENT, color="black", ls="--",
                 marker=".")
        n = f"n={seeds.min()}" if seeds.min() == seeds.max() else f"n={seeds.min()}-{seeds.max()}"
        ax.set(title=f"{variant} ({n} seed(s) per sparsity)" if len(chosen) else variant, ylabel="val. accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1, 0].set_xlabel("training epoch")
    if len(baseline):
        handle = [line for line in axes[0, 0].lines if line.get_label().startswith("baseline")]
        axes[0, 0].legend(handles=handle, loc="lower right")  # inside: above the panel it met the caption
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


def plot_generalized(data: pd.DataFrame, per_run: pd.DataFrame | None = None) -> Figure:
    """Final validation accuracy against sparsity for the two variants and Algorithm 3: means over seeds with
    95% t-interval bars clipped to [0, 100], the baseline's mean as a line with its band; given ``per_run``, each
    seed's value too where a mean rests on two seeds.

    ``data``: the numeric table of :func:`lib.report.lnas.generalized_comparison`; ``per_run``: the
    :func:`lib.report.lnas.rows` it was made from. Shown in: book/lnas_generalized.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.5))
    for variant in [v for v in COLOURS if (data["variant"] == v).any()]:
        _final_bars(ax, data[data["variant"] == variant], _runs_of(per_run, variant), COLOURS[variant], variant)
    _baseline(ax, data[data["variant"] == "Baseline"], _runs_of(per_run, "Baseline"), "baseline", color="black", ls="--")
    ax.set(xlabel="sparsity p", ylabel=FINAL_LABEL)
    seeds = f";\n{BASELINE_SEEDS}" if per_run is not None else "; shaded: the baseline's interval"
    ax.set_title(SEED_BARS + seeds, fontsize=8.5, loc="left")
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
