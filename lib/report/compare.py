"""Reported-vs-reproduced tables: the report's number, ours, and the difference, side by side."""

import json
from pathlib import Path
from typing import Mapping

import pandas as pd

from lib.pipeline.provenance import REPO_ROOT

REPORTED_DIR = REPO_ROOT / "data" / "reported"
REPORTS = ("lnas", "lamanas")


PARTS = {"table": "tables", "figure": "figures", "claim": "quantitative_claims"}  # what a report's JSON holds, by kind


def _entry(report: str, kind: str, id_: str, root: Path) -> dict:
    """The entry of kind ``kind`` (a key of :data:`PARTS`) whose ``id`` is ``id_``."""
    if report not in REPORTS:
        raise ValueError(f"unknown report {report!r}; choose one of {REPORTS}")
    by_id = {e["id"]: e for e in json.loads((Path(root) / f"{report}_reported.json").read_text())[PARTS[kind]]}
    if id_ not in by_id:
        raise ValueError(f"{report} has no {kind} {id_!r}; it has {sorted(by_id)}")
    return by_id[id_]


def reported(report: str, table: str = "Table 1", root: Path = REPORTED_DIR) -> pd.DataFrame:
    """The rows of one table as the report printed them (from ``data/reported/<report>_reported.json``)."""
    return pd.DataFrame(_entry(report, "table", table, root)["rows"])


def reported_figure(report: str, figure: str, root: Path = REPORTED_DIR) -> dict:
    """One figure as the report rendered it (caption, panels), from ``data/reported/<report>_reported.json``."""
    return _entry(report, "figure", figure, root)


def reported_claim(report: str, claim: str, root: Path = REPORTED_DIR) -> str:
    """The words of one quantitative claim (its ``id``, e.g. "L11") as transcribed in ``data/reported/``."""
    return _entry(report, "claim", claim, root)["claim"]


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

