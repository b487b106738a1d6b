"""Rows of a results table over seeds: each number as mean [low, high] (n), paired differences, run states.

A table here is built from one line per run (``per_run``: the row's key columns, ``seed`` and the metrics).
Several runs of one row at the same seed (the random control's sampled genotypes) are first averaged, so a
row's n counts seeds. Intervals come from :mod:`lib.report.stats`; the numeric frame is what the CSV holds
(``seeds`` and ``NAME``, ``NAME_low``, ``NAME_high``, ``NAME_n`` per metric), :func:`shown` is what the page shows.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lib.pipeline.results import Record
from lib.report.export import interval_columns, seeds_text
from lib.report.stats import Interval, paired_difference, t_interval

PENDING, DIVERGED = "pending", "diverged"
SEED_NOTE = ("Each number: mean [low, high] (n) with the 95% t-interval over the n seeds, clipped to what the "
             "quantity can be ([0, 100] for an accuracy); Δ: the mean per-seed difference over the seeds both rows "
             "ran, with the t-interval of those differences.")


def mark_kind(record: Record) -> str:
    """The kind of ``record``'s mark ("stale", "altered", "unsealed"), "" when it is trusted."""
    return (record.mark or "").split(":")[0]


def marks_text(records: Iterable[Record]) -> str:
    """"[2 run(s) stale]" (one bracket per kind of mark: stale, altered, unsealed) for the marked ``records`` of a
    row, so a table shows which of its numbers rest on runs the footer counts as untrusted; "" when none is."""
    kinds = [kind for kind in map(mark_kind, records) if kind]
    return " ".join(f"[{kinds.count(kind)} run(s) {kind}]" for kind in sorted(set(kinds)))


def with_marks(text: str, records: Iterable[Record]) -> str:
    """``text`` followed by :func:`marks_text` of ``records`` (``text`` alone when none is marked)."""
    return " ".join(filter(None, [text, marks_text(records)]))


def per_seed(per_run: pd.DataFrame, keys: Sequence[str], metric: str) -> dict[tuple, dict[int, float]]:
    """{row key: {seed: value}}, runs of one row at one seed averaged (NaN values dropped)."""
    values = per_run.dropna(subset=[metric]).groupby([*keys, "seed"], sort=False)[metric].mean()
    out: dict[tuple, dict[int, float]] = {}
    for index, value in values.items():
        *key, seed = index
        out.setdefault(tuple(key), {})[int(seed)] = float(value)
    return out


PERCENT: tuple[float, float] = (0.0, 100.0)
NON_NEGATIVE: tuple[float, float] = (0.0, math.inf)
PERCENT_DIFFERENCE: tuple[float, float] = (-100.0, 100.0)  # a difference of two accuracies in percent
FRACTION: tuple[float, float] = (0.0, 1.0)
AT_LEAST_ONE: tuple[float, float] = (1.0, math.inf)  # the strongest op's softmax weight over the uniform weight
SUPPORTS = {"largest_drop": NON_NEGATIVE, "best_after_pruning": PERCENT, "best_overall": PERCENT, "last": PERCENT,
            "flops_M": NON_NEGATIVE, "dense_flops_M": NON_NEGATIVE, "mean_params": NON_NEGATIVE,
            "test_query_ce": NON_NEGATIVE, "reached_sparsity": FRACTION,
            "search_top_over_uniform": AT_LEAST_ONE, "alpha_top_op_ratio": AT_LEAST_ONE,
            "phi_change_total": NON_NEGATIVE, "alpha_change_total": NON_NEGATIVE}  # a norm of a change


def support_of(metric: str | None) -> tuple[float, float] | None:
    """The range a per-row value of ``metric`` can take, to which its interval is clipped: an accuracy in percent
    (a metric named ``*acc*``: ``test_acc``, ``val_acc_final``...) lies in [0, 100], the others of ``SUPPORTS`` in
    theirs; None (no clipping) for the rest, e.g. a change, which can have either sign."""
    if metric is None:
        return None
    return PERCENT if "acc" in metric else SUPPORTS.get(metric)


def interval_or_none(values: Mapping[int, float], metric: str | None = None) -> Interval | None:
    """The t-interval of one row's per-seed values of ``metric`` (clipped to :func:`support_of`), None without values."""
    return t_interval(list(values.values())).clipped(support_of(metric)) if values else None


def difference_support(metric: str | None) -> tuple[float, float] | None:
    """The range a difference of two values of ``metric`` can take: [lo - hi, hi - lo] of :func:`support_of`
    (:data:`PERCENT_DIFFERENCE` for an accuracy in percent); None where the metric has no range."""
    support = support_of(metric)
    return None if support is None else (support[0] - support[1], support[1] - support[0])


def paired_or_none(a: Mapping[int, float], b: Mapping[int, float], metric: str | None = None) -> Interval | None:
    """The paired difference a - b over shared seeds (clipped to :func:`difference_support` of ``metric``), or None
    when they share no seed."""
    return paired_difference(a, b).clipped(difference_support(metric)) if set(a) & set(b) else None


def columns(name: str, interval: Interval | None) -> dict[str, Any]:
    """The CSV columns of one interval (empty cells when there is none)."""
    if interval is None:
        return {name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan, f"{name}_n": 0, f"{name}_interval": ""}
    return interval_columns(name, interval)


def text(interval: Interval | None, digits: int = 2, missing: str = PENDING) -> str:
    """``mean [low, high] (n=k)``, ``mean (n=1, no interval)``, or ``missing``."""
    return missing if interval is None else interval.text(digits)


def from_columns(row: Mapping[str, Any], name: str) -> Interval | None:
    """The interval stored under ``name`` in a numeric row (None when empty)."""
    if not row.get(f"{name}_n"):
        return None
    low, high = row[f"{name}_low"], row[f"{name}_high"]
    ok = lambda v: v is not None and not (isinstance(v, float) and np.isnan(v))
    return Interval(float(row[name]), float(low) if ok(low) else None, float(high) if ok(high) else None,
                    int(row[f"{name}_n"]), str(row.get(f"{name}_interval", "")))


def over_seeds(per_run: pd.DataFrame, keys: Sequence[str], metrics: Mapping[str, tuple[str, int]],
               missing: str = "n/a") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per row (``keys``, first-seen order): its seeds and each metric as mean [low, high] over seeds.

    ``metrics``: {shown label: (metric column of ``per_run``, digits)}. A cell names its n only where it rests on
    fewer seeds than its row (the ``seeds`` column, followed by :func:`marks_text` where ``per_run`` has a
    ``record`` column and a run is marked); a metric a row never recorded shows ``missing``.
    Returns (shown: the text table, data: ``seeds``, each metric's interval columns and ``marked runs``, for the CSV).
    """
    shown, data = [], []
    for key, group in per_run.groupby(list(keys), sort=False):
        labels = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        values = {m: per_seed(group, keys, m).get(tuple(labels.values()), {}) for m, _ in metrics.values()}
        ivs = {m: interval_or_none(v, m) for m, v in values.items()}
        seeds, marked = seeds_text(group["seed"]), list(group["record"]) if "record" in group else []
        shown.append({**labels, "seeds": with_marks(seeds, marked),
                      **{label: _compact(ivs[m], digits, group["seed"].nunique(), missing)
                         for label, (m, digits) in metrics.items()}})
        data.append({**labels, "seeds": seeds, **{c: v for m, iv in ivs.items() for c, v in columns(m, iv).items()},
                     "marked runs": marks_text(marked)})
    return pd.DataFrame(shown), pd.DataFrame(data)


def _compact(interval: Interval | None, digits: int, row_seeds: int, missing: str) -> str:
    """``mean [low, high]``, ``mean (no interval)`` for one seed; `` (n=k)`` added where k < ``row_seeds``."""
    if interval is None:
        return missing
    n = f" (n={interval.n})" if interval.n < row_seeds else ""
    if not interval.has_interval:
        return f"{interval.estimate:.{digits}f} (no interval){n}"
    return f"{interval.estimate:.{digits}f} [{interval.low:.{digits}f}, {interval.high:.{digits}f}]{n}"


def runs_state(records: Iterable[Record], requested: int) -> str:
    """What a row rests on: ``n=3``, ``pending``, ``n=1; 2 pending``, diverged runs, stale/altered marks."""
    records = list(records)
    ok = [r for r in records if r.status == "ok"]
    seeds = sorted({r.config["seed"] for r in ok})
    parts = [f"n={len(seeds)}" if seeds else PENDING]
    diverged = sum(r.status == DIVERGED for r in records)
    parts += [f"{diverged} {DIVERGED}"] if diverged else []
    missing = requested - len(records)
    parts += [f"{missing} {PENDING}"] if seeds and missing > 0 else []
    marks = sorted({r.mark.split(":")[0] for r in records if r.mark})
    parts += [f"records {', '.join(marks)}"] if marks else []
    return "; ".join(parts)


def seeds_of(records: Iterable[Record]) -> str:
    return seeds_text(r.config["seed"] for r in records if r.status == "ok")


def publish(source: Any, shown: Any, data: pd.DataFrame, records: Sequence[Record], notebook: str, name: str) -> None:
    """Show a results table (``shown``: the text version) with its source line, and write its numeric version
    (``data``: ``seeds`` and interval bounds) as ``<notebook>/<name>.csv`` under the downloads, linked beneath it."""
    if notebook != source.notebook:
        raise ValueError(f"publish: table of {notebook!r} shown by the source of {source.notebook!r}")
    source.show(shown, records, csv=name, results=True, data=data)
