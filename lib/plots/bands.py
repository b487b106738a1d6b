"""Means over seeds drawn with their 95% interval: a curve with a band, or a point/bar with an error bar.

Every figure of means in the book draws its interval with these, and says which interval it is
(:data:`SEED_BAND`, :data:`SEED_BARS`); intervals come from :mod:`lib.report.stats`. A mean over one seed has
no interval: it is drawn without a band and its legend entry says ``n=1``.

A t-interval over few seeds can run far outside what the quantity can be (at n=2 its quantile is 12.7: a
collapsed run at 0% beside a working one at 100% gives -585% to 685%). Every function takes the quantity's
``support`` (:data:`lib.report.seeds.PERCENT` for an accuracy, :data:`~lib.report.seeds.NON_NEGATIVE` for a distance or a loss) and clips the
interval to it: a confidence interval intersected with the parameter's possible range is still one, and the
axis then stays on the curves. Where a mean rests on two seeds (:data:`SEEDS_DRAWN`) both seeds' own values
are drawn too (:func:`seed_values`), so the reader sees the two runs and not only a wide band.
"""


import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.typing import ColorType

from lib.report.stats import t_interval

Support = tuple[float, float]
SEEDS_DRAWN = 2  # a mean over 2..SEEDS_DRAWN seeds also shows each seed's value (at n=1 the mean is the seed)

SEED_BAND = ("lines: mean over seeds; bands: 95% t-interval over the n seeds, clipped to the possible range;\n"
             "no band where n=1; thin lines with rings: each seed where n=2")
SEED_BARS = "bars: 95% t-interval over the n seeds, clipped to the possible range (none where n=1)"
SEED_RINGS = "rings: each seed where n=2"


def clip(values: pd.Series, support: Support | None) -> pd.Series:
    """``values`` (a Series of numbers, NaN kept) as floats limited to ``support`` (low, high); None: not limited."""
    values = pd.to_numeric(values, errors="coerce").astype(float)
    return values if support is None else values.clip(*support)


def over_seeds(curves: pd.DataFrame, x: str, y: str, support: Support | None = None) -> pd.DataFrame:
    """Per value of ``x``: the mean of ``y`` over seeds with its 95% t-interval (``low``/``high`` NaN where n=1),
    clipped to ``support`` (the range ``y`` can take; None: not clipped).

    ``curves``: one line per (seed, x) point, columns ``seed``, ``x`` and ``y`` (NaN values are dropped).
    Returns columns ``x``, ``mean``, ``low``, ``high``, ``n``, one line per value of ``x``, sorted by ``x``.
    """
    out = []
    for value, group in curves.dropna(subset=[y]).groupby(x, sort=True):
        interval = t_interval(group.groupby("seed")[y].mean().to_list())
        out.append({x: value, "mean": interval.estimate, "low": interval.low if interval.has_interval else np.nan,
                    "high": interval.high if interval.has_interval else np.nan, "n": interval.n})
    stats = pd.DataFrame(out, columns=[x, "mean", "low", "high", "n"])
    stats["low"], stats["high"] = clip(stats["low"], support), clip(stats["high"], support)
    return stats


def seeds_label(label: str, n: pd.Series) -> str:
    """``label`` with the seed count of its points: ``(n=3)``, or ``(n=1-3)`` when points rest on different counts."""
    low, high = (int(n.min()), int(n.max())) if len(n) else (0, 0)
    return f"{label} (n={low})" if low == high else f"{label} (n={low}-{high})"


def seed_values(ax: Axes, values: pd.DataFrame, x: str, y: str, color: ColorType, joined: bool = False,
                horizontal: bool = False) -> None:
    """Draw each seed's own ``y`` at the values of ``x`` where the mean rests on 2..:data:`SEEDS_DRAWN` seeds:
    small hollow rings in ``color`` (``joined``: and a thin line per seed, for curves). Not in the legend.

    ``values``: one line per (seed, x) point, columns ``seed``, ``x``, ``y`` (several lines of one seed at one
    ``x`` are averaged, as the mean does). ``horizontal``: ``y`` along the horizontal axis (horizontal bars).
    """
    per_seed = values.dropna(subset=[y]).groupby([x, "seed"])[y].mean().unstack("seed")  # (x values, seeds)
    n = per_seed.notna().sum(axis=1)
    shown = per_seed[(n >= 2) & (n <= SEEDS_DRAWN)].reindex(per_seed.index)  # NaN elsewhere: no ring, a break
    shown = shown.dropna(axis=1, how="all")  # a seed that ran only where more seeds ran: nothing to draw
    if shown.empty:
        return
    position, value = np.asarray(shown.index, dtype=float), shown.to_numpy(dtype=float)  # (X,), (X, seeds)
    ax.plot(*((value, position) if horizontal else (position, value)), color=color, ls="-" if joined else "none",
            lw=0.6, marker="o", ms=4, mfc="none", mew=0.9, alpha=0.8, label="_seed")


def band(ax: Axes, curves: pd.DataFrame, x: str, y: str, label: str, support: Support | None = None,
         **style) -> pd.DataFrame:
    """Draw the mean of ``y`` over seeds against ``x`` (a line with markers) and its 95% t-band over seeds,
    clipped to ``support``; where a mean rests on two seeds, each seed as a thin line with rings.

    ``curves``: one line per (seed, x); ``style``: matplotlib line style (colour, ls, marker...). The legend
    label gets the seed count. Returns :func:`over_seeds` (what was drawn).
    """
    stats = over_seeds(curves, x, y, support)
    if not len(stats):
        return stats
    line, = ax.plot(stats[x], stats["mean"], label=seeds_label(label, stats["n"]), **{"marker": "o", "ms": 3, **style})
    seed_values(ax, curves, x, y, line.get_color(), joined=True)
    ax.fill_between(stats[x], stats["low"], stats["high"], color=line.get_color(), alpha=0.18, lw=0)
    return stats


def error_bars(mean: pd.Series, low: pd.Series, high: pd.Series, support: Support | None = None) -> list[pd.Series]:
    """``yerr`` (or ``xerr``) for matplotlib from a mean and its interval bounds clipped to ``support``; 0 where
    there is no interval. All series of one length (one entry per point); returns [below, above]."""
    mean, low, high = clip(mean, None), clip(low, support), clip(high, support)
    return [(mean - low).fillna(0), (high - mean).fillna(0)]
