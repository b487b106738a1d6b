"""Published anchor numbers (DARTS, random-search baselines, MAML, Reptile), as data with citations.

They live in ``data/reported/anchors.json``, apart from the two reports' own numbers, and are shown beside
them so a reader sees where the reports stand against the papers they build on.
"""

import json
from pathlib import Path

import pandas as pd

from lib.pipeline.provenance import REPO_ROOT

ANCHORS_PATH = REPO_ROOT / "data" / "reported" / "anchors.json"
REQUIRED = ("id", "method", "benchmark", "metric", "value", "unit", "source", "table", "page", "verified_from")


def load(path: Path = ANCHORS_PATH) -> pd.DataFrame:
    """One row per anchor with its citation spelled out (``paper``, ``authors``, ``venue``, ``arxiv``).

    Raises ValueError when an entry lacks a field of :data:`REQUIRED`, cites an unknown source, has a
    non-numeric value or repeats an id: an anchor without its citation is not shown.
    """
    data = json.loads(Path(path).read_text())
    sources, entries = data["sources"], data["anchors"]
    for entry in entries:
        _check(entry, sources)
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError(f"anchor ids repeat: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
    table = pd.DataFrame([{**entry, **sources[entry["source"]]} for entry in entries])
    return table.astype({"page": "Int64"})


def _check(entry: dict, sources: dict) -> None:
    name = entry.get("id", "<no id>")
    missing = [k for k in REQUIRED if k not in entry or (entry[k] in ("", None) and k != "page")]
    if missing:
        raise ValueError(f"anchor {name} lacks {missing}")
    if entry["source"] not in sources:
        raise ValueError(f"anchor {name} cites unknown source {entry['source']!r}")
    if not isinstance(entry["value"], (int, float)) or isinstance(entry["value"], bool):
        raise ValueError(f"anchor {name}: value must be a number, got {entry['value']!r}")
    if entry["page"] is not None and not isinstance(entry["page"], int):
        raise ValueError(f"anchor {name}: page must be an integer or null, got {entry['page']!r}")


def for_benchmark(benchmark: str, path: Path = ANCHORS_PATH) -> pd.DataFrame:
    """The anchors of one benchmark (e.g. ``"CIFAR-10"``, ``"Omniglot 20-way 5-shot"``)."""
    table = load(path)
    return table[table["benchmark"] == benchmark].reset_index(drop=True)
