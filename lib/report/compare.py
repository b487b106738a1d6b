"""Reported-vs-reproduced tables: the report's number, ours, and the difference, side by side."""

import json
from pathlib import Path
from typing import Mapping

import pandas as pd

from lib.pipeline.provenance import REPO_ROOT

REPORTED_DIR = REPO_ROOT / "data" / "reported"
REPORTS = ("lnas", "lamanas")


def reported(report: str, table: str = "Table 1", root: Path = REPORTED_DIR) -> pd.DataFrame:
    """The rows of one table as the report printed them (from ``data/reported/<report>_reported.json``)."""
    if report not in REPORTS:
        raise ValueError(f"unknown report {report!r}; choose one of {REPORTS}")
    tables = json.loads((Path(root) / f"{report}_reported.json").read_text())["tables"]
    by_id = {t["id"]: t for t in tables}
    if table not in by_id:
        raise ValueError(f"{report} has no table {table!r}; it has {sorted(by_id)}")
    return pd.DataFrame(by_id[table]["rows"])


def compare(ours: pd.DataFrame, theirs: pd.DataFrame, on: list[str], metrics: Mapping[str, str]) -> pd.DataFrame:
    """Join our rows to the report's on the ``on`` columns and put each metric's pair side by side.

    ``metrics`` maps a display name to a column present in both frames. For each metric the result has
    ``<name> (report)``, ``<name> (ours)`` and ``<name> Δ`` = ours - report. Rows the report has and we
    did not run keep NaN in our columns (they are not silently dropped).
    """
    missing = [c for c in on + list(metrics.values()) if c not in ours.columns or c not in theirs.columns]
    if missing:
        raise KeyError(f"columns missing from one of the frames: {missing}")
    joined = theirs[on + list(metrics.values())].merge(
        ours[on + list(metrics.values())], on=on, how="left", suffixes=(" (report)", " (ours)")
    )
    out = joined[on].copy()
    for name, column in metrics.items():
        out[f"{name} (report)"] = joined[f"{column} (report)"]
        out[f"{name} (ours)"] = joined[f"{column} (ours)"]
        out[f"{name} Δ"] = out[f"{name} (ours)"] - out[f"{name} (report)"]
    return out

