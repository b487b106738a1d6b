"""Assemble the scorecard of both reports from the cached runs of one profile.

Every claim listed in ``data/reported/<report>_reported.json`` (each table cell and each quantitative
prose claim) gets one row; a claim without a judging rule is an error, so a new claim cannot be
silently dropped. Nothing here runs an experiment: re-running a notebook (or adding a seed) and
rebuilding updates the scorecard.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lib.report.compare import REPORTED_DIR
from lib.pipeline.results import Record
from lib.report.scorecard import lamanas, lnas
from lib.report.scorecard.verdict import STATUSES

COLUMNS = ["report", "id", "where", "claim", "reported", "ours", "status", "basis", "authors' code", "profile"]


def _claims(report: str, root: Path) -> list[dict]:
    return json.loads((root / f"{report}_reported.json").read_text())["quantitative_claims"]


def _check_rules(report: str, claims: list[dict], rules: dict) -> None:
    unjudged = [c["id"] for c in claims if c["id"] not in rules]
    if unjudged:
        raise KeyError(f"{report}: no scorecard rule for claim(s) {unjudged}; add one to lib/scorecard/{report}.py")


def _prose(report: str, claims: list[dict], verdicts: dict[str, tuple]) -> list[dict]:
    rows = []
    for c in claims:
        verdict, authors = verdicts[c["id"]]
        rows.append({"report": report.upper(), "id": c["id"], "where": c["where"], "claim": c["claim"], "reported": "",
                     "ours": verdict.ours, "status": verdict.status, "basis": verdict.basis,
                     "authors' code": authors.status if authors else ""})
    return rows


def _table(report: str, rows: list[dict]) -> list[dict]:
    return [{"report": report.upper(), "id": f"T1.{i + 1}", "where": "Table 1", "authors' code": "", **row}
            for i, row in enumerate(rows)]


@dataclass
class Scorecard:
    """One row per claim (``table``, columns ``COLUMNS``) and the run records it was judged from."""

    table: pd.DataFrame
    records: list[Record]


def lnas_rows(profile: str, root: Path = REPORTED_DIR) -> tuple[list[dict], list[Record]]:
    claims = _claims("lnas", root)
    _check_rules("lnas", claims, lnas.CLAIMS)
    ev = lnas.evidence(profile)
    verdicts = {c["id"]: (lnas.CLAIMS[c["id"]](ev), None) for c in claims}
    return _table("lnas", lnas.table_rows(ev)) + _prose("lnas", claims, verdicts), ev.records


def lamanas_rows(profile: str, root: Path = REPORTED_DIR) -> tuple[list[dict], list[Record]]:
    claims = _claims("lamanas", root)
    _check_rules("lamanas", claims, lamanas.CLAIMS)
    ev = lamanas.evidence(profile)
    verdicts = {}
    for c in claims:
        rule = lamanas.CLAIMS[c["id"]]
        authors = rule(ev.authors, profile) if c["id"] in lamanas.RESULT_CLAIMS else None
        verdicts[c["id"]] = (rule(ev.ours, profile), authors)
    return _table("lamanas", lamanas.table_rows(ev)) + _prose("lamanas", claims, verdicts), ev.records


def scorecard(profile: str) -> Scorecard:
    """Every claim of both reports, judged from the runs cached at ``profile`` (nothing is run).

    Shown in: book/scorecard.
    """
    lnas_part, lnas_records = lnas_rows(profile)
    lamanas_part, lamanas_records = lamanas_rows(profile)
    frame = pd.DataFrame(lnas_part + lamanas_part)
    frame["profile"] = profile
    return Scorecard(frame[COLUMNS], lnas_records + lamanas_records)


def counts(card: pd.DataFrame) -> pd.DataFrame:
    """Claims per report and status (held / did not hold / not testable), with totals. Shown in: book/scorecard."""
    table = pd.crosstab(card["report"], card["status"]).reindex(columns=list(STATUSES), fill_value=0)
    table.loc["both"] = table.sum()
    table["total"] = table.sum(axis=1)
    return table
