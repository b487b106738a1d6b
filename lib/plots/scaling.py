"""How large must a run be? The measured curves of :mod:`lib.experiments.scaling`, each point with its cost;
points not yet run are drawn as pending (hollow, on the axis) with their estimated cost. Shown in: book/scaling.
"""

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from lib.experiments.scaling import TARGETS
from lib.experiments.search_diagnostics import NEAR_UNIFORM
from lib.plots.style import MAX_WIDTH_IN
from lib.report.seeds import PERCENT
from lib.report.stats import task_interval
from lib.report.targets import ProfileSearch, power_law, steps_to_reach


NO_INTERVAL = "one run (one seed): no interval"
TASK_BARS = "bars: 95% interval over the point's meta-test tasks"
ONE_RUN = "one run per point (one seed): no interval"
X_UNITS = {"lamanas": "meta-training tasks seen", "lnas_search": "alpha steps of the search",
           "lnas_training": "training images x epochs"}  # what a curve's x counts


def table(points: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One line per point: curve, series, x (and what it counts), accuracy (with its task-level interval for LAMANAS, clipped to
    [0, 100], and which interval it is), status, cost."""
    rows = []
    for p in points:
        interval = task_interval(p["accuracies"]).clipped(PERCENT) if p.get("accuracies") else None
        accuracy = interval.text(1) if interval else None if p["y"] is None else round(p["y"], 1)
        rows.append({"curve": p["curve"], "series": p["series"], "x": p["x"], "x is": X_UNITS[p["curve"]],
                     "status": p["status"],
                     "accuracy (%)": accuracy,
                     "interval": interval.method if interval else NO_INTERVAL if p["y"] is not None else "",
                     "top op / uniform": p.get("top_over_uniform"), "phi moved (L2)": p.get("phi_distance"),
                     "cost (core-min)": round(p["cost_s"] / 60, 1), "cost is": p["cost"]})
    return pd.DataFrame(rows)


def _cost(ax: Axes, x: float, y: float, seconds: float, pending: bool, row: int = 0, stale: bool = False) -> None:
    """The point's cost in one-core minutes ("~": estimated); ``row`` stacks labels (of pending series, of close
    points)."""
    text = f"{'~' if pending else ''}{seconds / 60:.0f}m{' stale' if stale else ''}"
    ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, 6 + 7 * row), ha="center", fontsize=8.5,
                color="0.5" if pending else "0.2")


def cost_range(seconds: Sequence[float]) -> str:
    """The one-core minutes of a series' points, as one legend text (``"18-39 min each"``)."""
    low, high = round(min(seconds) / 60), round(max(seconds) / 60)
    return f"{low} min each" if low == high else f"{low}-{high} min each"


def staggered(xs: Sequence[float], close: float = 0.08) -> list[int]:
    """A label row for each of the sorted positions ``xs``: 0, or the other row from its left neighbour's when the two
    are closer than ``close`` of the span (their labels would overlap)."""
    if not xs:
        return []
    span = (max(xs) - min(xs)) or 1.0
    rows = [0] * len(xs)
    for i in range(1, len(xs)):
        rows[i] = 1 - rows[i - 1] if xs[i] - xs[i - 1] < close * span else 0
    return rows


def _series(ax: Axes, frame: pd.DataFrame, value: str = "y") -> None:
    """Done points as a line with markers (and task intervals where known); pending ones hollow at the bottom.
    The cost of a done point is written above it, or in its series' legend entry where several series share the
    panel (their labels would overlap)."""
    bottom = ax.get_ylim()[0] if ax.has_data() else 0.0
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    in_legend = frame["series"].nunique() > 1
    for row, ((name, group), colour) in enumerate(zip(frame.groupby("series", sort=False), colours)):
        done = group[group[value].notna()] if value in group else group.iloc[0:0]
        if len(done):
            label = f"{name} ({cost_range(done['cost_s'].tolist())})" if in_legend else name
            ax.plot(done["x"], done[value], "o-", color=colour, label=label, ms=4)
            stale = done[done["status"] == "stale"]
            ax.plot(stale["x"], stale[value], "x", color="k", ms=7, label="stale record (old code)" if len(stale) else None)
            done = done.sort_values("x")
            for lift, (_, p) in zip(staggered(done["x"].astype(float).tolist()), done.iterrows()):
                if value == "y" and isinstance(p.get("accuracies"), list):
                    i = task_interval(p["accuracies"]).clipped(PERCENT)
                    if i.has_interval:
                        ax.vlines(p["x"], i.low, i.high, color=colour, alpha=0.4)
                if not in_legend:
                    _cost(ax, p["x"], p[value], p["cost_s"], False, row + lift, stale=p["status"] == "stale")
        pending = group[group["status"] == "pending"]
        if len(pending):
            ax.plot(pending["x"], [bottom] * len(pending), "o", mfc="none", color=colour, ms=5,
                    label=f"{name}: pending" if not len(done) else None, clip_on=False)
            for _, p in pending.iterrows():
                _cost(ax, p["x"], bottom, p["cost_s"], True, row)


def plot_scaling(points: Sequence[dict[str, Any]]) -> Figure:
    """Four panels: LAMANAS accuracy and phi movement against tasks seen, LNAS accuracy and distance from
    uniform against search steps, LNAS accuracy against training image-epochs. A LAMANAS accuracy has its 95%
    interval over the point's meta-test tasks (bars); the LNAS points are single runs (one seed), without one.
    The two LAMANAS panels show the same runs, so one legend (the phi panel's, with each series' cost) serves both."""
    frame = pd.DataFrame(list(points))
    for column in ("y", "phi_distance", "top_over_uniform", "accuracies"):
        if column not in frame:
            frame[column] = None
    frame["y"] = frame["y"].astype(float)
    fig, axes = plt.subplots(2, 2, figsize=(MAX_WIDTH_IN, 6.4))
    panels = [("lamanas", "y", f"LAMANAS: meta-test accuracy (%)\n{TASK_BARS}", TARGETS["lamanas"]),
              ("lamanas", "phi_distance", "LAMANAS: phi moved from init (L2)\none run per point", None),
              ("lnas_search", "y", f"LNAS: derived network test accuracy (%)\n{ONE_RUN}", TARGETS["lnas"]),
              ("lnas_training", "y", f"LNAS: derived network test accuracy (%)\n{ONE_RUN}", TARGETS["lnas"])]
    for i, (ax, (curve, value, title, target)) in enumerate(zip(axes.flat, panels)):
        part = frame[frame["curve"] == curve].copy()
        part[value] = part[value].astype(float)
        headroom = 1.6  # the legend sits above the curves
        ax.set_ylim(0, 100 if value == "y" else max(1e-3, float(part[value].max() or 0) * headroom) if part[value].notna().any() else 1)
        bar = [ax.axhline(target, color="0.6", ls="--", lw=0.8, label=f"target ({target:g}%)")] if target else []
        _series(ax, part, value)
        if curve == "lnas_search":
            _uniform_axis(ax, part)
        if curve == "lnas_training":
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels (2x10^4, 4x10^4, ...) overlap
        ax.set_title(title, fontsize=8.5)
        ax.set_xlabel(X_UNITS[curve])
        handles = bar if i == 0 else ax.get_legend_handles_labels()[0]  # panel 0: its series are in panel 1's legend
        if handles:
            ax.legend(handles=handles, fontsize=8, loc="upper left")
    fig.suptitle("How large must a run be? Cost in one-core minutes, above each point or in the legend\n"
                 "(~: estimated, not yet run)", fontsize=9.5)
    fig.tight_layout()
    return fig


def _uniform_axis(ax: Axes, part: pd.DataFrame) -> None:
    """The searched alphas' mean top-op weight over uniform on a second axis, with the 1.5x bar."""
    twin = ax.twinx()
    done = part[part["top_over_uniform"].notna()]
    twin.plot(done["x"], done["top_over_uniform"].astype(float), "s:", color="tab:red", ms=4, label="top op / uniform")
    twin.axhline(NEAR_UNIFORM, color="tab:red", lw=0.6, alpha=0.5)
    twin.set_ylim(1.0, max(2.0, float(done["top_over_uniform"].max()) * 1.1) if len(done) else 2.0)
    twin.set_ylabel("top op weight / uniform", color="tab:red")
    twin.grid(False)


def plot_search_trajectory(trajectory: pd.DataFrame, bar: float = NEAR_UNIFORM,
                           here: ProfileSearch | None = None) -> Figure:
    """One search's mean top-op weight over uniform after every epoch (``targets.search_trajectory``), with
    :func:`lib.report.targets.power_law` (fitted to the later half of the points, at least 3) extended to where it
    reaches ``bar``; and where a profile's own searches end (``here``: their mean with its 95% interval over seeds)."""
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN * 0.6, 3.0))
    ax.plot(trajectory["alpha steps"], trajectory["top / uniform"], "o-", ms=4, label="measured (one run, one seed)")
    if here is not None and here.leaves is not None:
        est = here.leaves
        bars = [[est.estimate - est.low], [est.high - est.estimate]] if est.has_interval else None
        ax.errorbar([here.alpha_steps], [est.estimate], yerr=bars, fmt="s", ms=5, color="tab:green", capsize=3,
                    label=f"the {here.profile} profile's searches ({est.n} seed{'s' * (est.n != 1)}, 95% interval)")
    reach, fit = steps_to_reach(trajectory, bar), power_law(trajectory["alpha steps"], trajectory["top / uniform"] - 1)
    if reach is not None and fit is not None and reach > trajectory["alpha steps"].max():
        steps = np.linspace(trajectory["alpha steps"].iloc[len(trajectory) // 2], reach, 50)
        ax.plot(steps, 1 + fit[0] * steps ** fit[1], "--", color="0.4", label=f"power law, extrapolated: {reach:,.0f} steps")
    ax.axhline(bar, color="tab:red", lw=0.8, alpha=0.6, label=f"the {bar:g}x bar")
    ax.set_ylim(top=bar + 0.05 * (bar - 1))
    ax.set_xlabel(X_UNITS["lnas_search"])
    ax.set_ylabel("mean top-op weight / uniform")
    ax.legend(fontsize=8.5, loc="upper left")
    fig.tight_layout()
    return fig
