"""LAMANAS figures from run records: meta-training curves, meta-test accuracy per row, phi and alpha movement."""

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.report.seeds import NON_NEGATIVE, PERCENT
from lib.plots.bands import (SEED_BAND, SEED_BARS, SEED_RINGS, Support, band, error_bars,
                             seed_values)
from lib.plots.style import MAX_WIDTH_IN, legend_above
from lib.report.lamanas import KEYS, row_name


def _histories(rows: pd.DataFrame, columns: list[str]) -> dict[str, pd.DataFrame]:
    """{row name: one line per (seed, meta-epoch) with ``columns``} of our runs (``code == "ours"``)."""
    out: dict[str, list[pd.DataFrame]] = {}
    for _, row in rows[rows["code"] == "ours"].iterrows():
        history = pd.DataFrame(row["record"].metrics.get("history", []))
        present = [c for c in columns if c in history]
        if "epoch" in history and present:
            out.setdefault(row_name(row), []).append(history[["epoch", *present]].assign(seed=row["seed"]))
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


def plot_training(rows: pd.DataFrame) -> Figure:
    """Per meta-epoch query accuracy after the task steps, and its running mean (the report's "Train"): per row,
    the mean over seeds with its 95% t-band over seeds clipped to [0, 100] (no band for a row with one seed; with
    two, each seed as a thin line too; n in the legend).

    ``rows``: :func:`lib.report.lamanas.run_rows`. Shown in: book/lamanas_table1.
    """
    fig, axes = plt.subplots(2, 1, figsize=(MAX_WIDTH_IN, 6.8), sharex=True, sharey=True)
    for (name, history), colour in zip(_histories(rows, ["query_acc", "train_acc_running"]).items(), _colours()):
        for ax, column in zip(axes, ("query_acc", "train_acc_running")):
            band(ax, history, "epoch", column, name, PERCENT, color=colour)
    axes[0].set(title="per meta-epoch (de-averaged)", ylabel="query acc. after K steps (%)")
    axes[1].set(title="running mean since epoch 1 (the report's 'Train')", xlabel="meta-epoch", ylabel="running mean (%)")
    _finish(fig, axes)
    return fig


def _colours() -> list:
    """One colour per row, the same row the same colour in every panel (the style's cycle, repeated)."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4


def _finish(fig: Figure, axes) -> None:
    """Integer epochs, the legend under the last panel, and which interval the bands are."""
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if any(ax.lines for ax in axes):
        axes[-1].legend(loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=2)
    fig.suptitle(SEED_BAND, fontsize=8.5)
    fig.tight_layout()


def plot_test_accuracy(data: pd.DataFrame, ways: int, runs: pd.DataFrame | None = None) -> Figure:
    """Meta-test accuracy per row: the report (one run), ours and ours with the authors' code behaviour (means
    over seeds with 95% t-interval bars clipped to [0, 100]; each row's n seeds in its label); chance = 1 / ways.
    Given ``runs``, a bar that rests on two seeds also shows each seed's value (rings).

    ``data``: the numeric table of :func:`lib.report.lamanas.table1`; ``runs``: the
    :func:`lib.report.lamanas.run_rows` of the same records. Shown in: book/lamanas_table1.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 1.5 + 0.55 * len(data)))
    data = data.copy()
    baseline = data["loss_network"] == "Baseline"  # no loss network: the authors'-code column is the same run
    for suffix in ("", "_low", "_high"):
        data.loc[baseline, f"test_acc_authors_code{suffix}"] = data.loc[baseline, f"test_acc{suffix}"]
    names = [row_name(row) + (f" (n={int(row['test_acc_n'])})" if row["test_acc_n"] else "") for _, row in data.iterrows()]
    y = range(len(data))
    ax.barh([i - 0.27 for i in y], data["test_acc (report)"].astype(float), height=0.27, color="0.6",
            label="report (one run)")
    for shift, column, code, color, label in ((0.0, "test_acc", "ours", "tab:blue", "ours"),
                                              (0.27, "test_acc_authors_code", "authors", "tab:orange",
                                               "ours, authors' code")):
        mean = data[column].astype(float)
        ax.barh([i + shift for i in y], mean, height=0.27, color=color, label=f"{label} (mean over seeds)",
                xerr=error_bars(mean, data[f"{column}_low"], data[f"{column}_high"], PERCENT), capsize=2,
                error_kw={"elinewidth": 1, "ecolor": "0.2"})
        if runs is not None and len(runs):
            seed_values(ax, _at_bars(data, runs, code, shift), "position", "test_acc", "0.1", horizontal=True)
    ax.axvline(100 / ways, color="black", ls=":", lw=1, label=f"chance ({ways}-way)")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    seeds = f";\n{SEED_RINGS}" if runs is not None else ""
    # right-aligned: the long note runs on under the row names, not past the figure's right edge
    ax.set_xlabel(f"meta-test accuracy (%)\n{SEED_BARS}{seeds}", loc="right")
    ax.set_xlim(0, 100)
    legend_above(ax, ncol=2)
    fig.tight_layout()
    return fig


def _at_bars(data: pd.DataFrame, runs: pd.DataFrame, code: str, shift: float) -> pd.DataFrame:
    """The ``runs`` (:func:`lib.report.lamanas.run_rows`) behind one column of bars, one line per run with the
    bar's ``position`` (its row of ``data`` + ``shift``); the baseline's authors'-code bar is its own run."""
    mine = runs[runs["code"] == np.where(runs["loss_network"] == "Baseline", "ours", code)]
    placed = mine.merge(data[KEYS].reset_index(drop=True).rename_axis("position").reset_index(), on=KEYS)
    return placed.assign(position=placed["position"] + shift)


MOVEMENT_PANELS = {"phi_distance_from_init": "|phi - phi_0| (L2)", "alpha_distance_from_init": "|alpha - alpha_0| (L2)",
                   "alpha_top_op_ratio": "top-op weight / uniform"}
MOVEMENT_SUPPORT: dict[str, Support] = {"phi_distance_from_init": NON_NEGATIVE,
                                        "alpha_distance_from_init": NON_NEGATIVE,
                                        "alpha_top_op_ratio": (1.0, np.inf)}  # the top op weighs >= uniform


def plot_movement(rows: pd.DataFrame) -> Figure:
    """Per meta-epoch movement of phi and alpha from their initialisation and alpha's top-op ratio (1 = uniform):
    per row, the mean over seeds with its 95% t-band over seeds clipped to what the quantity can be (distances
    >= 0, the ratio >= 1; no band for a row with one seed; with two, each seed as a thin line too).

    Runs recorded before these diagnostics existed have no line ("not recorded" in the table).
    ``rows``: :func:`lib.report.lamanas.run_rows`. Shown in: book/lamanas_table1.
    """
    fig, axes = plt.subplots(len(MOVEMENT_PANELS), 1, figsize=(MAX_WIDTH_IN, 7.9), sharex=True)
    for (name, history), colour in zip(_histories(rows, list(MOVEMENT_PANELS)).items(), _colours()):
        for ax, key in zip(axes, MOVEMENT_PANELS):
            if key in history:
                band(ax, history, "epoch", key, name, MOVEMENT_SUPPORT[key], color=colour)
    for ax, label in zip(axes, MOVEMENT_PANELS.values()):
        ax.set(title=label)
    axes[-1].set_xlabel("meta-epoch")
    _finish(fig, axes)
    return fig
