"""LAMANAS Figure 3: panels of a learned loss network over two logits (values from lib/meta/landscape.py)."""

from collections.abc import Mapping

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.colors import CenteredNorm
from matplotlib.figure import Figure

from lib.meta.landscape import Landscape
from lib.plots.style import DIVERGING, MAX_WIDTH_IN, legend_outside

PANELS_PER_ROW = 2


def draw_landscape(ax: Axes, ls: Landscape, title: str) -> None:
    """One Figure-3 panel: filled contours on a diverging map centred at zero (a learned loss is signed), with a
    colour bar (sci ticks: authors' recipe). The report drew single-hue greens; zero is white here."""
    contours = ax.contourf(ls.x, ls.y, ls.z, cmap=DIVERGING, norm=CenteredNorm(vcenter=0.0))
    ax.figure.colorbar(contours, ax=ax)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$", rotation=0)
    if ls.recipe == "authors":
        ax.ticklabel_format(axis="both", style="sci", scilimits=(0, 0))
    ax.set_title(title)
    ax.grid(False)


def plot_rows(rows: Mapping[str, Mapping[str, Landscape]], panel_height: float = 2.7) -> Figure:
    """A grid of panels, ``PANELS_PER_ROW`` to a line: each row of ``rows`` ({row label: {panel title:
    landscape}}) starts a new line, and each panel is titled "<row label>, <panel title>".

    Shown in: book/lamanas_loss_landscape ("The panels").
    """
    lines = [(label, list(panels.items())[i:i + PANELS_PER_ROW]) for label, panels in rows.items()
             for i in range(0, len(panels), PANELS_PER_ROW)]
    fig, axes = plt.subplots(len(lines), PANELS_PER_ROW, squeeze=False,
                             figsize=(MAX_WIDTH_IN, panel_height * len(lines)))
    for ax_row, (row_label, panels) in zip(axes, lines):
        for ax, (title, ls) in zip(ax_row, panels):
            draw_landscape(ax, ls, f"{row_label}, {title}")
        for ax in ax_row[len(panels):]:
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_maxima(maxima: pd.DataFrame, recipes: list[str]) -> Figure:
    """Colour-bar maximum per recipe over meta-epochs (symlog when it passes 1e3).

    ``maxima``: :func:`lib.report.lamanas.maxima`. Shown in: book/lamanas_loss_landscape.
    """
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3))
    for name in recipes:
        ax.plot(maxima.index, maxima[name], marker="o", label=f"{name} recipe")
    ax.set_xticks(list(maxima.index))
    ax.set_xlabel("meta-epoch")
    ax.set_ylabel("colour-bar maximum")
    if maxima[list(recipes)].abs().to_numpy().max() > 1e3:
        ax.set_yscale("symlog")
    legend_outside(ax)
    fig.tight_layout()
    return fig
