"""Shared figure style and the figures several notebooks draw (cells, curves, alpha heatmaps)."""

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

STYLE = {"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.alpha": 0.3, "font.size": 9, "legend.frameon": False}


def use_style() -> None:
    """Apply the book's figure style (does not touch the backend)."""
    plt.rcParams.update(STYLE)


def _node_positions(n_nodes: int) -> dict[int, tuple[float, float]]:
    """Inputs 0 and 1 on the left, intermediate nodes on a staggered middle column, output on the right."""
    pos = {0: (0.0, 0.75), 1: (0.0, 0.25)}
    for j in range(n_nodes):
        pos[j + 2] = (1.0 + j, 0.5 + (0.3 if j % 2 else -0.3) * (j > 0))
    pos[n_nodes + 2] = (1.0 + n_nodes, 0.5)
    return pos


def draw_cell(edges: Sequence[tuple[str, int]], concat: Sequence[int], ax: Axes, title: str) -> None:
    """Draw one derived cell as a DAG.

    ``edges`` is the genotype's list of (op, input state) pairs, two per intermediate node in node
    order; state 0 / 1 are the cell inputs c_{k-2} / c_{k-1}, state i >= 2 is intermediate node i-2.
    """
    n_nodes = len(edges) // 2
    pos = _node_positions(n_nodes)
    names = {0: "$c_{k-2}$", 1: "$c_{k-1}$", n_nodes + 2: "$c_k$", **{j + 2: str(j) for j in range(n_nodes)}}
    for i, (op, src) in enumerate(edges):
        _arrow(ax, pos[src], pos[i // 2 + 2], op)
    for state in concat:
        _arrow(ax, pos[state], pos[n_nodes + 2], "")
    for state, (x, y) in pos.items():
        color = "#cfe3f7" if state in (0, 1) else "#f7e3cf" if state == n_nodes + 2 else "#e3f7cf"
        ax.annotate(names[state], (x, y), ha="center", va="center", fontsize=10,
                    bbox=dict(boxstyle="round,pad=0.4", fc=color, ec="0.3"))
    ax.set_xlim(-0.5, n_nodes + 1.5)
    ax.set_ylim(0.0, 1.0)
    ax.set_title(title)
    ax.axis("off")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str) -> None:
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="->", color="0.4", shrinkA=12, shrinkB=12,
                                                  connectionstyle="arc3,rad=0.12"))
    if label:
        mid = (0.4 * start[0] + 0.6 * end[0], 0.4 * start[1] + 0.6 * end[1] + 0.03)
        ax.text(*mid, label, fontsize=7, ha="center", color="0.15",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))


def draw_genotype(genotype, title: str = "") -> Figure:
    """Normal and reduction cell of a ``Genotype`` side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    draw_cell(genotype.normal, genotype.normal_concat, axes[0], "normal cell")
    draw_cell(genotype.reduce, genotype.reduce_concat, axes[1], "reduction cell")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def edge_labels(n_nodes: int) -> list[str]:
    """Row labels of a cell's edges in the supernet's order: node j takes inputs 0 .. j+1."""
    return [f"{i}→{j}" for j in range(n_nodes) for i in range(j + 2)]


def alpha_heatmap(weights: np.ndarray, ops: Sequence[str], n_nodes: int, ax: Axes, title: str) -> None:
    """Softmax weights (n_edges, n_ops) of one cell type, one row per edge, relative to uniform.

    Colour shows ``weight * n_ops``: 1 is the uniform mixture the search starts from, above 1 an op the
    search favours. Inputs 0 / 1 are the cell inputs; input i >= 2 is intermediate node i-2.
    """
    relative = weights * weights.shape[1]
    spread = max(abs(relative - 1).max(), 1e-3)
    norm = TwoSlopeNorm(vcenter=1.0, vmin=1.0 - spread, vmax=1.0 + spread)
    image = ax.imshow(relative, aspect="auto", cmap="PRGn", norm=norm)
    ax.set_xticks(range(len(ops)), ops, rotation=45, ha="right")
    ax.set_yticks(range(weights.shape[0]), edge_labels(n_nodes), fontsize=7)
    ax.set_ylabel("edge (input → node)")
    ax.set_title(title)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, label="weight × number of ops")
