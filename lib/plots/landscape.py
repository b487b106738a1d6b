"""LAMANAS Figure 3: panels of a learned loss network over two logits (values from lib/meta/landscape.py)."""

from collections.abc import Mapping

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lib.meta.landscape import Landscape


def draw_landscape(ax: Axes, ls: Landscape, title: str) -> None:
    """One Figure-3 panel: filled contours in Greens with default levels and a colour bar (sci ticks: authors')."""
    contours = ax.contourf(ls.x, ls.y, ls.z, cmap="Greens")
    ax.figure.colorbar(contours, ax=ax)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$", rotation=0)
    if ls.recipe == "authors":
        ax.ticklabel_format(axis="both", style="sci", scilimits=(0, 0))
    ax.set_title(title, fontsize=9)
    ax.grid(False)


def plot_rows(rows: Mapping[str, Mapping[str, Landscape]], panel_size: tuple[float, float] = (3.6, 2.8)) -> Figure:
    """A grid of panels: one row per key of ``rows`` ({row label: {panel title: landscape}}).

    Shown in: book/lamanas_loss_landscape ("The panels").
    """
    n_cols = max(len(panels) for panels in rows.values())
    fig, axes = plt.subplots(len(rows), n_cols, squeeze=False,
                             figsize=(panel_size[0] * n_cols, panel_size[1] * len(rows)))
    for ax_row, (row_label, panels) in zip(axes, rows.items()):
        for ax, (title, ls) in zip(ax_row, panels.items()):
            draw_landscape(ax, ls, title)
        for ax in ax_row[len(panels):]:
            ax.axis("off")
        ax_row[0].annotate(row_label, (-0.45, 0.5), xycoords="axes fraction", rotation=90, ha="center",
                           va="center", fontsize=10, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_maxima(maxima: pd.DataFrame, recipes: list[str]) -> Figure:
    """Colour-bar maximum per recipe over meta-epochs (symlog when it passes 1e3).

    ``maxima``: :func:`lib.report.lamanas.maxima`. Shown in: book/lamanas_loss_landscape.
    """
    fig, ax = plt.subplots(figsize=(5, 3))
    for name in recipes:
        ax.plot(maxima.index, maxima[name], marker="o", label=f"{name} recipe")
    ax.set_xticks(list(maxima.index))
    ax.set_xlabel("meta-epoch")
    ax.set_ylabel("colour-bar maximum")
    if maxima[list(recipes)].abs().to_numpy().max() > 1e3:
        ax.set_yscale("symlog")
    ax.legend()
    return fig
