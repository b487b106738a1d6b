"""LAMANAS figures from run records: meta-training curves, meta-test accuracy per row, phi and alpha movement."""

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.plots.style import MAX_WIDTH_IN, legend_above
from lib.report.lamanas import row_name


def plot_training(rows: pd.DataFrame, seed: int) -> Figure:
    """Per meta-epoch query accuracy after the task steps, and its running mean (the report's "Train").

    ``rows``: :func:`lib.report.lamanas.run_rows`. Shown in: book/lamanas_table1.
    """
    rows = rows[(rows["seed"] == seed) & (rows["code"] == "ours")]
    fig, axes = plt.subplots(2, 1, figsize=(MAX_WIDTH_IN, 6.4), sharex=True, sharey=True)
    for _, row in rows.iterrows():
        history = pd.DataFrame(row["record"].metrics.get("history", []), columns=["epoch", "query_acc",
                                                                                  "train_acc_running"])
        label = row_name(row)
        axes[0].plot(history["epoch"], history["query_acc"], marker="o", ms=3, label=label)
        axes[1].plot(history["epoch"], history["train_acc_running"], marker="o", ms=3, label=label)
    axes[0].set(title="per meta-epoch (de-averaged)", ylabel="query acc. after K steps (%)")
    axes[1].set(title="running mean since epoch 1 (the report's 'Train')", xlabel="meta-epoch", ylabel="running mean (%)")
    axes[1].legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=2)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def plot_test_accuracy(table: pd.DataFrame, ways: int) -> Figure:
    """Meta-test accuracy per row: the report, ours, ours with the authors' code behaviour; chance = 1 / ways.

    ``table``: :func:`lib.report.lamanas.compare_with_report`. Shown in: book/lamanas_table1.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 1.2 + 0.55 * len(table)))
    names = [row_name(row) for _, row in table.iterrows()]
    y = range(len(table))
    for shift, column, color in ((-0.27, "test acc (report)", "0.6"), (0.0, "test acc (ours)", "tab:blue"),
                                 (0.27, "test acc (authors' code)", "tab:orange")):
        ax.barh([i + shift for i in y], table[column], height=0.27, color=color, label=column)
    ax.axvline(100 / ways, color="black", ls=":", lw=1, label=f"chance ({ways}-way)")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set(xlabel="meta-test accuracy (%)", xlim=(0, 100))
    legend_above(ax, ncol=2)
    fig.tight_layout()
    return fig


MOVEMENT_PANELS = {"phi_distance_from_init": "|phi - phi_0| (L2)", "alpha_distance_from_init": "|alpha - alpha_0| (L2)",
                   "alpha_top_op_ratio": "top-op weight / uniform"}


def plot_movement(rows: pd.DataFrame, seed: int) -> Figure:
    """Per meta-epoch movement of phi and alpha from their initialisation and alpha's top-op ratio (1 = uniform).

    Runs recorded before these diagnostics existed have no line ("not recorded" in the table).
    ``rows``: :func:`lib.report.lamanas.run_rows`. Shown in: book/lamanas_table1.
    """
    rows = rows[(rows["seed"] == seed) & (rows["code"] == "ours")]
    fig, axes = plt.subplots(len(MOVEMENT_PANELS), 1, figsize=(MAX_WIDTH_IN, 7.5), sharex=True)
    for _, row in rows.iterrows():
        history = pd.DataFrame(row["record"].metrics.get("history", []))
        for ax, key in zip(axes, MOVEMENT_PANELS):
            if key in history:
                ax.plot(history["epoch"], history[key], marker="o", ms=3, label=row_name(row))
    for ax, label in zip(axes, MOVEMENT_PANELS.values()):
        ax.set(title=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("meta-epoch")
    if any(ax.lines for ax in axes):
        axes[-1].legend(loc="upper left", bbox_to_anchor=(0.0, -0.3), ncol=2)
    fig.tight_layout()
    return fig
