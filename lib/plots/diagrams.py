"""LAMANAS Figures 1 and 2 redrawn with matplotlib patches (no data; layouts from reference/figures.md).

* :func:`algorithm_overview`: Figure 1, the MetaNAS overview with the loss-network additions on yellow.
* :func:`lstm_loss_flow`: Figure 2, the LSTM loss network with the MSE proxy, as drawn; with
  ``as_code=True`` as the authors' code computes it (INCONSISTENCIES #17): the label is one float
  class-index column, h0 = c0 = that index broadcast to (5, N, 64), and the residual cross-entropy is
  added after the post-LSTM FC (64 -> 32), not at the first layer.
* :func:`fnn_loss_flow`: the FNN variant the report does not draw (the configuration of Figure 3).

A diagram is data: :class:`Box` es placed on a coordinate grid and :class:`Link` s between their sides.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

HIGHLIGHT = "#fff176"
# Sized for the book's column (lib/plots/style.py): at 8 in wide and fonts >= 7 pt, the smallest text renders
# at >= 9 px when the figure is shown ~740 px wide.
LSTM_SIZE = (8.0, 3.9)
COLOURS = {"blue": "#cfe3f7", "green": "#a5d6a7", "orange": "#ffcc80", "pink": "#f8bbd0", "grey": "#d6d6d6",
           "white": "white", "meta": "#e8f5e9", "task": "#fff3e0", "title": "#b3e5fc"}


@dataclass(frozen=True)
class Box:
    """A labelled rectangle centred at (x, y) of size (w, h) in data units.

    ``highlight``: an extra last line on a yellow background (the LAMANAS additions of Figure 1);
    ``title_top``: the text sits at the top edge (a container); ``stack``: shadow copies behind (a batch).
    """

    text: str
    x: float
    y: float
    w: float
    h: float
    colour: str = "white"
    highlight: str = ""
    dotted: bool = False
    title_top: bool = False
    rotation: float = 0.0
    stack: int = 0
    fontsize: float = 8.0

    def side(self, name: str) -> tuple[float, float]:
        """Midpoint of the ``"left"``, ``"right"``, ``"top"`` or ``"bottom"`` edge."""
        dx = {"left": -self.w / 2, "right": self.w / 2}.get(name, 0.0)
        dy = {"bottom": -self.h / 2, "top": self.h / 2}.get(name, 0.0)
        return self.x + dx, self.y + dy


@dataclass(frozen=True)
class Link:
    """An arrow between box sides (``"a.right"``) or data points ``(x, y)``, optionally labelled or thick.

    ``path``: a matplotlib connection style, e.g. ``"arc3,rad=0.3"`` (a curve) or ``"angle,angleA=-90,angleB=180"``.
    """

    start: str | tuple[float, float]
    end: str | tuple[float, float]
    label: str = ""
    thick: bool = False
    path: str = "arc3,rad=0"


def _draw_box(ax: plt.Axes, box: Box) -> None:
    for k in range(box.stack, -1, -1):
        ax.add_patch(FancyBboxPatch((box.x - box.w / 2 + 0.12 * k, box.y - box.h / 2 + 0.12 * k), box.w, box.h,
                                    boxstyle="round,pad=0.02,rounding_size=0.15", fc=COLOURS[box.colour],
                                    ec="0.25", ls=":" if box.dotted else "-", lw=1.4 if box.dotted else 0.9,
                                    zorder=1 if box.title_top else 2))
    y_text = box.y + box.h / 2 - 0.3 if box.title_top else box.y + (0.22 if box.highlight else 0.0)
    ax.text(box.x, y_text, box.text, ha="center", va="center", fontsize=box.fontsize, rotation=box.rotation,
            fontweight="bold" if box.title_top else "normal", zorder=3)
    if box.highlight:
        ax.text(box.x, box.y - 0.32, box.highlight, ha="center", va="center", fontsize=box.fontsize, zorder=3,
                bbox=dict(boxstyle="square,pad=0.15", fc=HIGHLIGHT, ec="none"))


def _point(boxes: Mapping[str, Box], ref: str | tuple[float, float]) -> tuple[float, float]:
    if isinstance(ref, tuple):
        return ref
    name, side = ref.split(".")
    return boxes[name].side(side)


def _draw_link(ax: plt.Axes, boxes: Mapping[str, Box], link: Link) -> None:
    start, end = _point(boxes, link.start), _point(boxes, link.end)
    style = dict(arrowstyle="simple,head_width=0.9,head_length=0.9", fc="0.55", ec="0.55", lw=4, mutation_scale=12) \
        if link.thick else dict(arrowstyle="-|>", color="0.2", lw=1.0, mutation_scale=10)
    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=link.path, zorder=2.5, **style))
    if link.label:
        mid_x, mid_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        horizontal = abs(end[0] - start[0]) > abs(end[1] - start[1])
        ax.text(mid_x if horizontal else mid_x + 0.15, mid_y + 0.4 if horizontal else mid_y, link.label, fontsize=7,
                ha="center" if horizontal else "left", va="center", zorder=4,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))


def draw_diagram(boxes: Mapping[str, Box], links: Sequence[Link], size: tuple[float, float],
                 extent: tuple[float, float], title: str = "") -> Figure:
    """A figure of ``size`` inches whose data coordinates run over [0, extent[0]] x [0, extent[1]]."""
    fig, ax = plt.subplots(figsize=size)
    for box in boxes.values():
        _draw_box(ax, box)
    for link in links:
        _draw_link(ax, boxes, link)
    ax.set_xlim(0, extent[0])
    ax.set_ylim(0, extent[1])
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def algorithm_overview() -> Figure:
    """Figure 1: meta learning around task learning; the loss-network parts on yellow.

    Shown in: book/lamanas_algorithms.
    """
    boxes = {
        "title": Box("Loss Agnostic Meta Learning of Neural Architectures", 5, 13.3, 9.6, 0.8, "title", fontsize=8.5),
        "meta": Box("Meta learning", 5, 6.4, 9.4, 12.4, "meta", title_top=True, fontsize=9),
        "meta_loss": Box("Compute meta loss", 2.6, 10.9, 3.6, 1.6),
        "meta_update": Box("Update meta weights\n& meta architecture", 7.2, 10.9, 3.9, 2.0,
                           highlight="& meta loss NN weights"),
        "task_box": Box("Task Learning", 5, 4.6, 8.4, 7.2, "task", dotted=True, title_top=True, fontsize=9),
        "task_update": Box("Update task weights\n& task architecture", 5, 6.0, 4.6, 2.0,
                           highlight="& loss NN weights"),
        "task_loss": Box("Compute task loss", 5, 2.6, 4.0, 1.2),
        "task": Box("Task", 1.7, 2.6, 1.6, 1.2, "blue"),
    }
    links = [
        Link("meta_loss.right", "meta_update.left"),
        Link("meta_update.bottom", (7.2, 8.2)),
        Link((2.6, 8.2), "meta_loss.bottom"),
        Link((4.4, 5.0), (4.4, 3.2)),
        Link((5.6, 3.2), (5.6, 5.0)),
        Link("task.right", "task_loss.left"),
    ]
    return draw_diagram(boxes, links, size=(4.2, 6.0), extent=(10, 14))


def _drawn_lstm_boxes() -> dict[str, Box]:
    return {
        "nas": Box("Meta Neural Architecture Search", 3.1, 9.0, 6.0, 0.6, "grey"),
        "x": Box("Train_X\n(N×C×H×W)", 1.1, 6.6, 2.0, 2.2, "blue", stack=2),
        "maps": Box("feature maps • • •", 4.4, 6.6, 3.2, 1.6, "blue", fontsize=7.5),
        "logits": Box("Logits\n(N×C)", 6.9, 6.6, 1.0, 2.4, "blue", fontsize=7.5),
        "labels": Box("Labels Y (N)", 7.9, 9.0, 2.3, 0.6, "blue"),
        "concat": Box("Concat.", 8.9, 6.6, 1.3, 1.0, "grey"),
        "slab": Box("»", 10.9, 6.6, 1.4, 1.6, "blue"),
        "input": Box("Input", 10.9, 3.9, 1.4, 0.7, "blue"),
        "h0": Box("$H_0, c_0$", 10.9, 1.6, 1.4, 0.8, "blue"),
        "lstm": Box("LSTM", 13.4, 3.9, 1.6, 1.6, "green", fontsize=9),
        "l_hat": Box("$\\hat{L}$", 16.6, 3.9, 0.9, 0.9, "green", fontsize=11),
        "ce": Box("CE", 13.4, 9.0, 1.4, 1.0, "orange", fontsize=9),
        "l": Box("$L$", 16.6, 9.0, 0.9, 0.9, "orange", fontsize=11),
        "proxy": Box("Proxy\n(MSE)", 18.3, 6.4, 1.6, 1.2, "pink"),
        "ssl": Box("Self-Supervised Loss", 19.7, 3.2, 0.5, 4.4, "grey", rotation=90, fontsize=7.5),
    }


def _drawn_lstm_links() -> list[Link]:
    return [
        Link("x.right", "maps.left"), Link("maps.right", "logits.left"), Link("logits.right", "concat.left"),
        Link("labels.bottom", "concat.top", path="arc3,rad=0.2"), Link("concat.right", "slab.left"),
        Link("slab.bottom", "input.top", "FC + ELU"), Link("input.right", "lstm.left"),
        Link((7.7, 8.7), "h0.left", path="angle,angleA=-90,angleB=180,rad=0"),
        Link("h0.right", "lstm.bottom", path="arc3,rad=0.3"),
        Link("lstm.right", "l_hat.left", "FC-ELU-FC-MEAN", thick=True),
        Link("logits.top", "ce.bottom", path="arc3,rad=-0.15"), Link("labels.right", "ce.left"),
        Link("ce.right", "l.left"), Link("l.right", "proxy.top", thick=True, path="arc3,rad=-0.2"),
        Link("l_hat.right", "proxy.bottom", thick=True, path="arc3,rad=0.2"),
    ]


def _code_lstm_changes() -> dict[str, Box]:
    """Figure 2's boxes whose content the authors' code makes specific (INCONSISTENCIES #17a, c, e, f)."""
    return {
        "logits": Box("Logits\n(N×K)", 6.9, 6.6, 1.0, 2.4, "blue", fontsize=7.5),
        "labels": Box("Labels y: N×1\nfloat class index", 8.9, 9.0, 3.3, 1.0, "blue", fontsize=7),
        "concat": Box("Concat.\nN×(K+1)", 8.9, 6.6, 1.3, 1.0, "grey", fontsize=7.5),
        "h0": Box("$H_0 = c_0 = y$\nbroadcast\n5×N×64", 10.9, 1.3, 2.4, 1.3, "blue", fontsize=7),
        "lstm": Box("LSTM\n5 layers,\n1 step,\nbatch N", 13.4, 3.9, 1.9, 1.9, "green", fontsize=7.5),
        "fc_head": Box("FC 64→32", 13.4, 6.3, 1.5, 0.7, "white", fontsize=7.5),
        "residual": Box("+ CE\n(residual)", 15.6, 6.3, 1.8, 1.0, "orange", fontsize=7.5),
    }


def _code_lstm_links() -> list[Link]:
    replaced = {("lstm.right", "l_hat.left"), ("slab.bottom", "input.top")}
    links = [link for link in _drawn_lstm_links() if (link.start, link.end) not in replaced]
    return links + [
        Link("slab.bottom", "input.top", "fcz (K+1→64), ELU"),
        Link("lstm.top", "fc_head.bottom"), Link("fc_head.right", "residual.left"),
        Link("ce.bottom", "residual.top", path="arc3,rad=0.2"),
        Link("residual.bottom", "l_hat.top", "ELU, FC 32→1, mean"),
    ]


def lstm_loss_flow(as_code: bool = False) -> Figure:
    """Figure 2 (LSTM loss network, MSE proxy) as the report draws it, or with ``as_code`` as the code computes it.

    The report writes C both for image channels (N×C×H×W) and for the classes of a task (Logits N×C); the version
    as computed writes K for the classes (20, the ways).

    Shown in: book/lamanas_algorithms.
    """
    boxes = _drawn_lstm_boxes()
    if not as_code:
        return draw_diagram(boxes, _drawn_lstm_links(), size=LSTM_SIZE, extent=(20.2, 10),
                            title="Figure 2 as drawn: LSTM loss network with the MSE proxy")
    return draw_diagram({**boxes, **_code_lstm_changes()}, _code_lstm_links(), size=LSTM_SIZE, extent=(20.2, 10),
                        title="Figure 2 as the authors' code computes it (INCONSISTENCIES #17)")


def fnn_loss_flow() -> Figure:
    """The FNN loss network (the Figure 3 configuration): Concat -> FC(K+1 = 21 -> 64) (+CE) -> ELU -> FC(64->1) -> mean.

    Shown in: book/lamanas_algorithms.
    """
    boxes = {
        "logits": Box("Logits\n(N×K)", 1.0, 5.0, 1.2, 1.6, "blue", fontsize=7.5),
        "labels": Box("Labels y (N)", 1.1, 2.0, 2.2, 0.7, "blue", fontsize=7.5),
        "concat": Box("Concat.", 3.4, 3.5, 1.3, 1.0, "grey"),
        "fc1": Box("FC\n(K+1→64)", 5.8, 3.5, 1.9, 1.1, "white"),
        "residual": Box("+ CE\n(residual)", 8.3, 3.5, 2.2, 1.1, "orange"),
        "elu": Box("ELU", 10.4, 3.5, 1.0, 0.9, "white"),
        "fc2": Box("FC\n(64→1)", 12.4, 3.5, 1.6, 1.1, "white"),
        "mean": Box("mean", 14.3, 3.5, 1.0, 0.9, "white"),
        "l_hat": Box("$\\hat{L}$", 16.0, 3.5, 0.9, 0.9, "green", fontsize=11),
        "ce": Box("CE", 8.3, 6.3, 1.2, 0.9, "orange"),
        "l": Box("$L$", 16.0, 6.3, 0.9, 0.9, "orange", fontsize=11),
        "proxy": Box("Proxy\n(MSE)", 18.3, 4.9, 1.6, 1.2, "pink"),
    }
    links = [
        Link("logits.right", "concat.left"), Link("labels.right", "concat.left"), Link("concat.right", "fc1.left"),
        Link("fc1.right", "residual.left"), Link("residual.right", "elu.left"), Link("elu.right", "fc2.left"),
        Link("fc2.right", "mean.left"), Link("mean.right", "l_hat.left"),
        Link("concat.top", "ce.left", "(z, y)", path="arc3,rad=-0.3"), Link("ce.bottom", "residual.top"),
        Link("ce.right", "l.left"), Link("l.right", "proxy.top", thick=True, path="arc3,rad=-0.2"),
        Link("l_hat.right", "proxy.bottom", thick=True, path="arc3,rad=0.2"),
    ]
    return draw_diagram(boxes, links, size=(LSTM_SIZE[0], 3.2), extent=(19.4, 7.2),
                        title="FNN loss network with residual CE and the MSE proxy (the Figure 3 configuration)")


def plain(text: str) -> str:
    """A label as plain text: line breaks to spaces, mathtext unwrapped (``$\\hat{L}$`` -> ``L̂``, ``$H_0$`` -> ``H_0``)."""
    text = re.sub(r"\\hat\{(\w)\}", "\\1\u0302", text.replace("\n", " "))
    return text.replace("$", "")


def diagram_labels(fig: Figure) -> list[str]:
    """The title and box/arrow texts of a one-axes diagram as plain text, in drawing order (what the chapter checks)."""
    ax = fig.axes[0]
    return [plain(text) for text in [ax.get_title(), *(t.get_text() for t in ax.texts)] if text]
