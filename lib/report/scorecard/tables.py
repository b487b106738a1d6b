"""Every cell of a report's table as a scorecard row, judged by :func:`lib.report.scorecard.verdict.cell`.

Our value of a cell is the mean over the seeds cached for that row, and the baseline it is compared
with is the baseline's mean over the *same* seeds (a row run with one seed is not compared with a
two-seed baseline mean).
"""

from dataclasses import dataclass
from typing import Callable, Sequence

import pandas as pd

from lib.report.scorecard.verdict import cell


@dataclass(frozen=True)
class Column:
    """One judged column: its name in the report's JSON and in our per-seed rows, its label and its kind."""

    name: str
    label: str
    kind: str


def matching(frame: pd.DataFrame, keys: Sequence[str], row: pd.Series) -> pd.DataFrame:
    """The rows of ``frame`` equal to ``row`` on ``keys`` (empty if none)."""
    if frame.empty:
        return frame
    return frame[(frame[list(keys)] == row[list(keys)].to_numpy()).all(axis=1)]


def same_seeds(baseline: pd.DataFrame, seeds: pd.Series) -> pd.DataFrame:
    """The baseline runs with the given seeds."""
    return baseline[baseline["seed"].isin(set(seeds))]


def cells(theirs: pd.DataFrame, ours: pd.DataFrame, keys: Sequence[str], columns: Sequence[Column],
          is_baseline: pd.Series, profile: str, name: Callable[[pd.Series], str]) -> list[dict]:
    """One scorecard row per (report row, column): the printed number, ours and the verdict.

    ``theirs``: the report's rows; ``ours``: our per-seed rows (``keys``, ``seed`` and the column names);
    ``is_baseline``: a boolean mask over ``theirs``; ``name(row)`` names a report row.
    """
    base_theirs = theirs[is_baseline].iloc[0]
    base_ours = matching(ours, keys, base_theirs)
    out = []
    for index, row in theirs.iterrows():
        mine = matching(ours, keys, row)
        base = same_seeds(base_ours, mine["seed"]) if len(mine) else base_ours
        for col in columns:
            verdict = cell(col.kind, row[col.name], mine[col.name].mean() if len(mine) else None,
                           float(base_theirs[col.name]), base[col.name].mean() if len(base) else None,
                           bool(is_baseline[index]), profile, mine[col.name].std() if len(mine) > 1 else None)
            seeds = f" ({len(mine)} seeds)" if len(mine) > 1 else ""
            out.append({"claim": f"{name(row)}: {col.label}", "reported": row[col.name],
                        "ours": verdict.ours + (seeds if verdict.ours else ""),
                        "status": verdict.status, "basis": verdict.basis})
    return out
