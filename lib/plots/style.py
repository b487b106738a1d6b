"""The book's figure style, how a figure becomes the PNG the book shows, genotype drawings and the alpha heatmap.

Sizes are chosen for the page: the content column is about 720-800 px wide, and a figure is rendered at
``DPI`` no wider than ``MAX_WIDTH_IN`` inches, so it is shown at (nearly) its natural size and its smallest
text (``MIN_FONT_PT``) renders at >= 9 px. :func:`figure_png` records the smallest font size and the dpi in
the PNG's text chunks (``min_font_pt``, ``dpi``); the browser test (tools/browser_check.py) reads them and
checks the text size as displayed.
"""

import struct
import zlib
from io import BytesIO
from typing import Sequence

import graphviz
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, ListedColormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.text import Text

from lib.darts.genotype import Genotype

DPI = 110
MAX_WIDTH_IN = 6.8  # 748 px at DPI
MIN_FONT_PT = 8.0   # 12.2 px at DPI, >= 9 px down to a 0.74 display scale
STYLE = {"figure.dpi": DPI, "savefig.dpi": DPI, "axes.spines.top": False, "axes.spines.right": False,
         "axes.grid": True, "grid.alpha": 0.3, "font.size": 9.5, "axes.titlesize": 10, "axes.labelsize": 9.5,
         "xtick.labelsize": 8.5, "ytick.labelsize": 8.5, "legend.fontsize": 8.5, "legend.frameon": False,
         "figure.titlesize": 10.5, "lines.markersize": 4.5}
GRAPH_DPI = 96
GRAPH_MIN_FONT_PT = 10  # Graphviz points are 1/72 inch: 13.3 px at GRAPH_DPI
SEQUENTIAL = "viridis"  # line families ordered by a number (sparsity)
DIVERGING = "RdBu_r"    # signed quantities, centred at zero (or at the neutral value)


def use_style() -> None:
    """Apply the book's figure style (does not touch the backend)."""
    plt.rcParams.update(STYLE)


def sequential_colours(values: Sequence[float], cmap: str = SEQUENTIAL) -> tuple[list, Normalize, Colormap]:
    """One colour per value along a sequential map (its yellow end left out, it does not read on white)."""
    norm = Normalize(min(values), max(values) if max(values) > min(values) else min(values) + 1)
    colormap = ListedColormap(plt.get_cmap(cmap)(np.linspace(0.0, 0.85, 256)))
    return [colormap(norm(v)) for v in values], norm, colormap


def legend_outside(ax: Axes, **kwargs) -> None:
    """The legend to the right of the axes, outside the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def legend_above(ax: Axes, ncol: int = 3, **kwargs) -> None:
    """The legend above the axes, outside the data."""
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=ncol, borderaxespad=0.0, **kwargs)


def min_font_pt(fig: Figure) -> float:
    """The smallest font size (points) of the figure's drawn, non-empty texts."""
    fig.canvas.draw()
    box = fig.bbox
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_window_extent().overlaps(box)]
    return min(sizes, default=MIN_FONT_PT)


def png_text_chunks(png: bytes, texts: dict[str, str]) -> bytes:
    """``png`` with a tEXt chunk per entry inserted after its header chunk."""
    chunks = b""
    for key, value in texts.items():
        body = key.encode("latin-1") + b"\0" + value.encode("latin-1")
        chunks += struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, CRC
    return png[:end_of_header] + chunks + png[end_of_header:]


def figure_png(fig: Figure) -> bytes:
    """The figure as the book shows it: PNG at ``DPI`` with ``min_font_pt`` and ``dpi`` text chunks."""
    smallest = min_font_pt(fig)
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight",
                metadata={"min_font_pt": f"{smallest:g}", "dpi": str(DPI)})
    return buffer.getvalue()


def state_name(state: int) -> str:
    """A cell state's name in both the genotype drawing and the heatmap: c_{k-2}, c_{k-1}, then nodes 0, 1, ..."""
    return {0: "c_{k-2}", 1: "c_{k-1}"}.get(state, str(state - 2))


def draw_genotype(genotype: Genotype, title: str = "") -> graphviz.Digraph:
    """Normal and reduction cell of a ``Genotype`` drawn by Graphviz (dot), as DARTS draws them.

    Inputs c_{k-2} / c_{k-1} (green), intermediate nodes 0, 1, ... (blue), the output c_{k} (yellow); each
    edge is labelled with its op, a 'none' slot is dashed. Shown in: book/darts_cifar10.
    """
    graph = graphviz.Digraph(graph_attr={"rankdir": "TB", "dpi": str(GRAPH_DPI), "label": title, "labelloc": "t",
                                         "fontsize": "13", "fontname": "DejaVu Sans", "nodesep": "0.3",
                                         "ranksep": "0.35"},
                             node_attr={"style": "filled", "shape": "box", "fontsize": "12", "height": "0.35",
                                        "fontname": "DejaVu Sans", "penwidth": "1.2"},
                             edge_attr={"fontsize": str(GRAPH_MIN_FONT_PT), "fontname": "DejaVu Sans"})
    for cell, gene, concat in (("normal", genotype.normal, genotype.normal_concat),
                               ("reduction", genotype.reduce, genotype.reduce_concat)):
        with graph.subgraph(name=f"cluster_{cell}") as sub:
            sub.attr(label=f"{cell} cell", fontsize="12", style="rounded", color="0.6 0 0.6")
            _draw_cell(sub, cell, gene, concat, genotype.n_nodes)
    # The reduction cell below the normal one, not beside it: the drawing then fits the book's column.
    graph.edge("normal_c_{k}", "reduction_c_{k-2}", style="invis")
    return graph


def _draw_cell(graph: graphviz.Digraph, cell: str, gene: Sequence[tuple[str, int]], concat: Sequence[int],
               n_nodes: int) -> None:
    node = lambda state: f"{cell}_{state_name(state)}"  # unique ids across the two cells
    with graph.subgraph() as inputs:
        inputs.attr(rank="same")
        for state in (0, 1):
            inputs.node(node(state), state_name(state), fillcolor="darkseagreen2")
        inputs.edge(node(0), node(1), style="invis")  # c_{k-2} left of c_{k-1}
    for state in range(2, n_nodes + 2):
        graph.node(node(state), state_name(state), fillcolor="lightblue")
    output = f"{cell}_c_{{k}}"
    graph.node(output, "c_{k}", fillcolor="palegoldenrod")
    for i, (op, src) in enumerate(gene):
        graph.edge(node(src), node(i // 2 + 2), label=op, style="dashed" if op == "none" else "solid")
    for state in concat:
        graph.edge(node(state), output, color="gray40")


def graph_png(graph: graphviz.Digraph) -> bytes:
    """A Graphviz drawing as the book shows it: PNG with ``min_font_pt`` and ``dpi`` text chunks."""
    return png_text_chunks(graph.pipe(format="png"), {"min_font_pt": f"{GRAPH_MIN_FONT_PT:g}", "dpi": str(GRAPH_DPI)})


def edge_labels(n_nodes: int) -> list[str]:
    """Row labels of a cell's edges in the supernet's order (node j takes inputs c_{k-2}, c_{k-1}, 0 .. j-1).

    The names are the genotype drawing's (:func:`draw_genotype`): inputs c_{k-2} / c_{k-1}, nodes 0, 1, ...
    """
    return [f"{state_name(i)} → {j}" for j in range(n_nodes) for i in range(j + 2)]


def alpha_heatmap(weights: np.ndarray, ops: Sequence[str], n_nodes: int, ax: Axes, title: str) -> None:
    """Softmax weights (n_edges, n_ops) of one cell type, one row per edge, relative to uniform.

    Colour shows ``weight * n_ops`` on a diverging map centred at 1, the uniform mixture the search starts
    from: above 1 an op the search favours, below 1 one it disfavours.
    """
    relative = weights * weights.shape[1]
    spread = max(abs(relative - 1).max(), 1e-3)
    norm = TwoSlopeNorm(vcenter=1.0, vmin=1.0 - spread, vmax=1.0 + spread)
    image = ax.imshow(relative, aspect="auto", cmap=DIVERGING, norm=norm)
    ax.set_xticks(range(len(ops)), ops, rotation=45, ha="right")
    ax.set_yticks(range(weights.shape[0]), edge_labels(n_nodes))
    ax.set_ylabel("edge (input → node)")
    ax.set_title(title)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, label="weight × number of ops")
