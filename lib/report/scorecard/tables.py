"""Every cell of a report's table as a scorecard row, judged by :func:`lib.report.scorecard.verdict.cell`.

Our value of a cell rests on the per-seed values of that row (several runs of one row at one seed are
averaged first); the baseline it is compared with is the baseline's runs at the *same* seeds, paired.
A cell can be declared not testable before any number is looked at (``fixed``): its value is fixed by
construction, or the report's column does not behave like a measurement.
"""

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import pandas as pd

from lib.report.devices import compared_runs, offset_margin, spans_note, widening_note
from lib.report.scorecard.verdict import NOT_TESTABLE, Verdict, cell
from lib.report.seeds import per_seed


@dataclass(frozen=True)
class Column:
    """One judged column: its name in the report's JSON and in our per-seed rows, its label and its kind."""

    name: str
    label: str
    kind: str


Fixed = Callable[[pd.Series, Column], str | None]


def cells(theirs: pd.DataFrame, ours: pd.DataFrame, keys: Sequence[str], columns: Sequence[Column],
          is_baseline: pd.Series, profile: str, name: Callable[[pd.Series], str],
          fixed: Fixed = lambda row, col: None, label: Callable[[pd.Series, Column], str] = lambda row, col: "",
          offset: float | None = None) -> list[dict]:
    """One scorecard row per (report row, column): the printed number, ours and the verdict.

    ``theirs``: the report's rows; ``ours``: our per-run rows (``keys``, ``seed`` and the column names);
    ``is_baseline``: a boolean mask over ``theirs``; ``name(row)`` names a report row; ``fixed(row, col)``
    returns the reason a cell is not testable whatever the runs say (else None); ``label(row, col)`` is added to
    our value (e.g. "search near uniform"); ``offset``: the device offset bound by which a paired difference is
    widened for the share of its seeds whose runs span devices (:func:`lib.report.devices.offset_margin`).
    """
    base_row = theirs[is_baseline].iloc[0]
    base_key = tuple(base_row[list(keys)])
    out = []
    for index, row in theirs.iterrows():
        key = tuple(row[list(keys)])
        for col in columns:
            values = per_seed(ours, keys, col.name) if len(ours) else {}
            reason = fixed(row, col)
            if reason:
                verdict = Verdict("not testable", "", reason)
            else:
                mine, base = values.get(key, {}), values.get(base_key, {})
                widen = offset_margin(compared_runs(ours, keys, (key, base_key)), set(mine) & set(base), offset) \
                    if offset and "made_on" in ours and profile != "paper" else 0.0
                verdict = cell(col.kind, row[col.name], float(base_row[col.name]), mine, base,
                               bool(is_baseline[index]), profile, widen)
                if profile != "paper":  # at paper a cell is our interval against the report's value: no pair
                    verdict = _with_devices(verdict, ours, keys, (key, base_key), values)
            mark = label(row, col) if verdict.ours and verdict.ours != "pending" else ""
            out.append({"claim": f"{name(row)}: {col.label}", "reported": row[col.name],
                        "ours": verdict.ours + (f" [{mark}]" if mark else ""),
                        "status": verdict.status, "basis": verdict.basis, "widened (pp)": verdict.widened})
    return out


def _with_devices(verdict: Verdict, ours: pd.DataFrame, keys: Sequence[str], compared: tuple[tuple, tuple],
                  values: dict[tuple, dict[int, float]]) -> Verdict:
    """``verdict`` with the devices caveat where a judged paired difference compares runs made on different
    devices at some of its seeds, and how far its interval was widened for them (``lib/report/devices.py``;
    ``ours`` without ``made_on``: unchanged)."""
    key, base_key = compared
    if verdict.status == NOT_TESTABLE or key == base_key or "made_on" not in ours:
        return verdict
    runs = compared_runs(ours, keys, compared)
    note = spans_note(runs, set(values.get(key, {})) & set(values.get(base_key, {})))
    return replace(verdict, basis="; ".join(filter(None, [verdict.basis, note, widening_note(verdict.widened)])))
