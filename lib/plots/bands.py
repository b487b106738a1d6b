"""Means over seeds drawn with their 95% interval: a curve with a band, or a point/bar with an error bar.

Every figure of means in the book draws its interval with these, and says which interval it is
(:data:`SEED_BAND`, :data:`SEED_BARS`); intervals come from :mod:`lib.report.stats`. A mean over one seed has
no interval: it is drawn without a band and its legend entry says ``n=1``.
"""

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from lib.report.stats import t_interval

SEED_BAND = "lines: mean over seeds; bands: 95% t-interval over the n seeds (none where n=1)"
SEED_BARS = "bars: 95% t-interval over the n seeds (none where n=1)"


def over_seeds(curves: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per value of ``x``: the mean of ``y`` over seeds with its 95% t-interval (``low``/``high`` NaN where n=1).

    ``curves``: one line per (seed, x) point, columns ``seed``, ``x`` and ``y`` (NaN values are dropped).
    Returns columns ``x``, ``mean``, ``low``, ``high``, ``n``, sorted by ``x``.
    """
    out = []
    for value, group in curves.dropna(subset=[y]).groupby(x, sort=True):
        interval = t_interval(group.groupby("seed")[y].mean().to_list())
        out.append({x: value, "mean": interval.estimate, "low": interval.low if interval.has_interval else np.nan,
                    "high": interval.high if interval.has_interval else np.nan, "n": interval.n})
    return pd.DataFrame(out, columns=[x, "mean", "low", "high", "n"])


def seeds_label(label: str, n: pd.Series) -> str:
    """``label`` with the seed count of its points: ``(n=3)``, or ``(n=1-3)`` when points rest on different counts."""
    low, high = (int(n.min()), int(n.max())) if len(n) else (0, 0)
    return f"{label} (n={low})" if low == high else f"{label} (n={low}-{high})"


def band(ax: Axes, curves: pd.DataFrame, x: str, y: str, label: str, **style) -> pd.DataFrame:
    """Draw the mean of ``y`` over seeds against ``x`` (a line with markers) and its 95% t-band over seeds.

    ``curves``: one line per (seed, x); ``style``: matplotlib line style (colour, ls, marker...). The legend
    label gets the seed count. Returns :func:`over_seeds` (what was drawn).
    """
    stats = over_seeds(curves, x, y)
    if not len(stats):
        return stats
    line, = ax.plot(stats[x], stats["mean"], label=seeds_label(label, stats["n"]), **{"marker": "o", "ms": 3, **style})
    ax.fill_between(stats[x], stats["low"], stats["high"], color=line.get_color(), alpha=0.18, lw=0)
    return stats


def error_bars(mean: pd.Series, low: pd.Series, high: pd.Series) -> list[pd.Series]:
    """``yerr`` (or ``xerr``) for matplotlib from a mean and its interval bounds; 0 where there is no interval."""
    mean, low, high = (pd.to_numeric(s, errors="coerce").astype(float) for s in (mean, low, high))
    return [(mean - low).fillna(0), (high - mean).fillna(0)]
