"""The statistics the book shows: an estimate, its 95% interval, how many numbers it rests on, and which interval.

Every function returns an :class:`Interval` whose ``method`` names the interval, so a table or the scorecard
can print it next to the number. Inputs are plain sequences of floats (one per seed, per task or per pair);
NaN is refused rather than skipped, so a missing run is never averaged away silently.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.95
Z_95 = 1.96  # the normal quantile the few-shot literature uses for "95% confidence intervals over tasks"


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval: ``low``/``high`` are None when ``n`` is too small for one."""

    estimate: float
    low: float | None
    high: float | None
    n: int
    method: str

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the closed interval (False when there is no interval)."""
        return self.has_interval and self.low <= value <= self.high

    def clipped(self, support: tuple[float, float] | None) -> "Interval":
        """This interval intersected with ``support``, the range the quantity can take (e.g. [0, 100] for an
        accuracy in percent): still a 95% interval, since the true value lies in the support. None: unchanged."""
        if support is None or not self.has_interval or (self.low >= support[0] and self.high <= support[1]):
            return self
        low, high = max(self.low, support[0]), min(self.high, support[1])
        return Interval(self.estimate, low, high, self.n, f"{self.method}, clipped to [{support[0]:g}, {support[1]:g}]")

    def widened(self, margin: float, why: str) -> "Interval":
        """This interval with ``margin`` added on both sides (an uncertainty it does not hold, named by ``why``);
        unchanged when ``margin`` is 0 or there is no interval."""
        if margin <= 0 or not self.has_interval:
            return self
        return Interval(self.estimate, self.low - margin, self.high + margin, self.n,
                        f"{self.method}, widened by ±{margin:.2f} for {why}")

    def text(self, digits: int = 2) -> str:
        """``mean [low, high] (n=k)``, or ``mean (n=1, no interval)``."""
        if not self.has_interval:
            return f"{self.estimate:.{digits}f} (n={self.n}, no interval)"
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] (n={self.n})"


def _array(values: Sequence[float], what: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError(f"{what}: no values")
    if np.isnan(x).any():
        raise ValueError(f"{what}: NaN among the values; drop missing runs explicitly")
    return x


def t_interval(values: Sequence[float], level: float = LEVEL, over: str = "seeds") -> Interval:
    """Mean with a Student-t interval over seeds (or over what ``over`` names, e.g. paired meta-test tasks):
    mean ± t_{(1+level)/2, n-1} · s / √n (s with ddof=1).

    Seeds are few (3-10), so the t quantile, not 1.96, is the right multiplier. n=1 gives the value with no
    interval (``low``/``high`` None), and ``method`` says so.
    """
    x = _array(values, "t_interval")
    n, mean = x.size, float(x.mean())
    if n == 1:
        return Interval(mean, None, None, 1, f"one value (n=1 {over}): no interval" if over != "seeds" else "one seed: no interval")
    half = float(sps.t.ppf((1 + level) / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, f"{level:.0%} t-interval over {n} {over}")


def paired_difference(a: Mapping[int, float], b: Mapping[int, float], level: float = LEVEL) -> Interval:
    """Mean of ``a[s] - b[s]`` over the seeds s both rows ran, with the t-interval of those differences.

    Seed s gives both rows the same initial weights, data order and tasks, so the per-seed difference removes
    the seed-to-seed spread the two rows share. Seeds only one row ran are ignored.
    """
    shared = sorted(set(a) & set(b))
    if not shared:
        raise ValueError("paired_difference: the two rows share no seed")
    diff = t_interval([a[s] - b[s] for s in shared], level)
    method = "one shared seed: no interval" if len(shared) == 1 else \
        f"{100 * level:g}% t-interval of the paired difference over {len(shared)} shared seeds"
    return Interval(diff.estimate, diff.low, diff.high, diff.n, method)


def task_interval(accuracies: Sequence[float], z: float = Z_95) -> Interval:
    """Mean over meta-test tasks ± z · s / √n (s with ddof=1): the normal-approximation interval over tasks.

    This is the convention of the few-shot literature: MAML (Finn et al. 2017, Table 1) states "the ± shows
    95% confidence intervals over tasks". It describes the spread of the task sample of one run, not the
    variation between runs (seeds); with 25+ tasks the normal quantile is within 5% of the t quantile.
    """
    x = _array(accuracies, "task_interval")
    n, mean = x.size, float(x.mean())
    if n == 1:
        return Interval(mean, None, None, 1, "one task: no interval")
    half = z * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, f"mean ± {z:g}·s/√n over {n} meta-test tasks")


def bootstrap_interval(values: Sequence[float], statistic: Callable[[np.ndarray], np.ndarray] = np.mean,
                       level: float = LEVEL, resamples: int = 10_000, seed: int = 0) -> Interval:
    """Percentile bootstrap interval of ``statistic`` (seeded, so the book is reproducible).

    For statistics without a t-interval (a median, a ratio, a maximum over seeds) or clearly skewed values.
    ``statistic`` must accept an array (resamples, n) and reduce along ``axis=-1``. Needs n >= 2.
    """
    x = _array(values, "bootstrap_interval")
    estimate = float(statistic(x[None, :], axis=-1)[0])
    if x.size == 1:
        return Interval(estimate, None, None, 1, "one value: no interval")
    rng = np.random.default_rng(seed)
    draws = statistic(x[rng.integers(0, x.size, size=(resamples, x.size))], axis=-1)
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Interval(estimate, float(low), float(high), x.size,
                    f"{level:.0%} percentile bootstrap ({resamples} resamples, seed {seed}) over {x.size} values")


def spearman(x: Sequence[float], y: Sequence[float], level: float = LEVEL, method: str = "fisher",
             resamples: int = 10_000, seed: int = 0) -> Interval:
    """Spearman rank correlation (ties get average ranks) with an interval.

    ``method="fisher"``: Fisher z with the Bonett & Wright (2000) variance for Spearman,
    se = √((1 + ρ²/2) / (n − 3)); needs n >= 4. ``method="bootstrap"``: percentile bootstrap over pairs
    (resamples where one side is constant are dropped). With n < 4, or |ρ| = 1 under Fisher z, the
    estimate comes without an interval; a constant input makes ρ undefined (NaN, no interval).
    """
    if method not in ("fisher", "bootstrap"):
        raise ValueError(f"method must be 'fisher' or 'bootstrap', got {method!r}")
    a, b = _array(x, "spearman x"), _array(y, "spearman y")
    if a.size != b.size:
        raise ValueError(f"spearman: x has {a.size} values, y has {b.size}")
    n = a.size
    if n < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return Interval(math.nan, None, None, n, "Spearman undefined (fewer than 2 pairs or a constant side)")
    rho = float(sps.spearmanr(a, b).statistic)
    if n < 4:
        return Interval(rho, None, None, n, f"Spearman over {n} pairs: too few for an interval")
    if method == "bootstrap":
        return _spearman_bootstrap(a, b, rho, level, resamples, seed)
    if abs(rho) > 1 - 1e-12:  # perfect agreement up to rounding: atanh is infinite
        return Interval(rho, None, None, n, f"Spearman over {n} pairs: |ρ| = 1, Fisher z has no interval")
    se = math.sqrt((1 + rho ** 2 / 2) / (n - 3))
    half = float(sps.norm.ppf((1 + level) / 2)) * se
    z = math.atanh(rho)
    return Interval(rho, math.tanh(z - half), math.tanh(z + half), n,
                    f"{level:.0%} Fisher-z interval (Bonett-Wright variance) over {n} pairs")


def _spearman_bootstrap(a: np.ndarray, b: np.ndarray, rho: float, level: float, resamples: int,
                        seed: int) -> Interval:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(resamples, a.size))
    ra, rb = sps.rankdata(a[idx], axis=-1), sps.rankdata(b[idx], axis=-1)
    ra, rb = ra - ra.mean(-1, keepdims=True), rb - rb.mean(-1, keepdims=True)
    denom = np.sqrt((ra ** 2).sum(-1) * (rb ** 2).sum(-1))
    keep = denom > 0
    draws = (ra * rb).sum(-1)[keep] / denom[keep]
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Interval(rho, float(low), float(high), a.size,
                    f"{level:.0%} percentile bootstrap over {a.size} pairs ({int(keep.sum())} usable resamples)")
