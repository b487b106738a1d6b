"""LAMANAS Figure 3: panels of a learned loss network over two logits (values from lib/meta/landscape.py)."""

from collections.abc import Mapping

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.colors import CenteredNorm
from matplotlib.figure import Figure

from lib.meta.landscape import RECIPES, Landscape
from lib.plots.style import DIVERGING, MAX_WIDTH_IN, legend_outside

PANELS_PER_ROW = 2
DIRECTIONS = {  # per recipe: what a grid coordinate z_k is ({k}: 1 or 2), and a note under it (lib/meta/landscape.py)
    "ours": ("logit-space direction {k}", "{nth} singular vector"),
    "authors": ("first-layer PCA direction {k}", "randomized PCA"),
    "ce": ("logit of class {c}", ""),
}
COLOURS = {  # per recipe: what the colour of a panel shows
    "ours": r"learned loss $L_\phi(z, y)$",
    "authors": f"learned loss / {RECIPES['authors'].scale:,.0f}",
    "ce": "cross-entropy",
}


def axis_labels(ls: Landscape) -> tuple[str, str]:
    """(horizontal, vertical) axis labels: which coordinate of the input each axis varies.

    Ours: ``z_k`` is the coordinate of the logit vector ``z1 v1 + z2 v2`` along ``v_k``, the k-th right singular
    vector of the first layer's centred logit block; the authors': the k-th coordinate along the randomized PCA
    of the whole first layer; the cross-entropy panels: the two logits. A transposed image (the authors', #30)
    varies ``z_2`` along the horizontal axis, and its label says so.
    """
    name, note = DIRECTIONS[ls.recipe]
    horizontal, vertical = (2, 1) if ls.transposed else (1, 2)

    def label(k: int, *extra: str) -> str:
        notes = [n for n in (note.format(nth=("top", "2nd")[k - 1]), *extra) if n]
        return f"$z_{k}$: {name.format(k=k, c=k - 1)}" + (f"\n({'; '.join(notes)})" if notes else "")

    return label(horizontal, *(["transposed, #30"] if ls.transposed else [])), label(vertical)


def draw_landscape(ax: Axes, ls: Landscape, title: str) -> None:
    """One Figure-3 panel: filled contours on a diverging map centred at zero (a learned loss is signed), with a
    colour bar that says what it shows (:data:`COLOURS`) and axes that say which direction of the input they
    vary (:func:`axis_labels`). The report drew single-hue greens on axes labelled z1, z2; zero is white here."""
    contours = ax.contourf(ls.x, ls.y, ls.z, cmap=DIVERGING, norm=CenteredNorm(vcenter=0.0))
    ax.figure.colorbar(contours, ax=ax, label=COLOURS[ls.recipe])
    horizontal, vertical = axis_labels(ls)
    ax.set_xlabel(horizontal, fontsize=8.5)
    ax.set_ylabel(vertical, fontsize=8.5)
    if ls.recipe == "authors":  # a +-1e4 grid: three plain ticks, no offset text to collide with the label
        ends = [float(ls.x[0]), 0.0, float(ls.x[-1])]
        ax.set_xticks(ends)
        ax.set_yticks(ends)
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
