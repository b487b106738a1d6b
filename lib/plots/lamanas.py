"""LAMANAS figures from run records: meta-training curves, meta-test accuracy per row, phi and alpha movement."""

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.report.lamanas import row_name


def plot_training(rows: pd.DataFrame, seed: int) -> Figure:
    """Per meta-epoch query accuracy after the task steps, and its running mean (the report's "Train").

    ``rows``: :func:`lib.report.lamanas.run_rows`. Shown in: book/lamanas_table1.
    """
    rows = rows[(rows["seed"] == seed) & (rows["code"] == "ours")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for _, row in rows.iterrows():
        history = pd.DataFrame(row["record"].metrics.get("history", []), columns=["epoch", "query_acc",
                                                                                  "train_acc_running"])
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
    """Meta-test accuracy per row: the report, ours, ours with the authors' code behaviour; chance = 1 / ways.

    ``table``: :func:`lib.report.lamanas.compare_with_report`. Shown in: book/lamanas_table1.
    """
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


MOVEMENT_PANELS = {"phi_distance_from_init": "|phi - phi_0| (L2)", "alpha_distance_from_init": "|alpha - alpha_0| (L2)",
                   "alpha_top_op_ratio": "top-op weight / uniform"}


def plot_movement(rows: pd.DataFrame, seed: int) -> Figure:
    """Per meta-epoch movement of phi and alpha from their initialisation and alpha's top-op ratio (1 = uniform).

    Runs recorded before these diagnostics existed have no line ("not recorded" in the table).
    ``rows``: :func:`lib.report.lamanas.run_rows`. Shown in: book/lamanas_table1.
    """
    rows = rows[(rows["seed"] == seed) & (rows["code"] == "ours")]
    fig, axes = plt.subplots(1, len(MOVEMENT_PANELS), figsize=(12, 3.4))
    for _, row in rows.iterrows():
        history = pd.DataFrame(row["record"].metrics.get("history", []))
        for ax, key in zip(axes, MOVEMENT_PANELS):
            if key in history:
                ax.plot(history["epoch"], history[key], marker=".", label=row_name(row))
    for ax, label in zip(axes, MOVEMENT_PANELS.values()):
        ax.set(xlabel="meta-epoch", title=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if any(ax.lines for ax in axes):
        axes[-1].legend(fontsize=7)
    fig.tight_layout()
    return fig
