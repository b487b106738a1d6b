"""Machine-readable results: every table the book shows as a CSV, and all run records of a profile in one file.

Files go under ``book/_static/data/`` (copied into the built site); a notebook page in ``book/`` links to them
with the relative path :func:`write_table` returns, which MyST turns into a download link.
"""

import dataclasses
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from lib.pipeline.atomic import _temporary_sibling
from lib.pipeline.provenance import REPO_ROOT
from lib.pipeline.results import Record, load_records, results_dir
from lib.report.stats import Interval

BOOK_DIR = REPO_ROOT / "book"
STATIC_DATA_DIR = BOOK_DIR / "_static" / "data"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def interval_columns(name: str, interval: Interval) -> dict[str, float | int | str | None]:
    """The CSV columns of one interval: ``name``, ``name_low``, ``name_high``, ``name_n``, ``name_interval``."""
    return {name: interval.estimate, f"{name}_low": interval.low, f"{name}_high": interval.high,
            f"{name}_n": interval.n, f"{name}_interval": interval.method}


def seeds_text(seeds: Iterable[int]) -> str:
    """The ``seeds`` column: the seeds a row rests on, sorted, separated by ';' (e.g. ``"0;1;2"``)."""
    return ";".join(str(s) for s in sorted(set(seeds)))


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"{kind} {name!r}: use letters, digits, '_', '-', '.' only")


def _check_columns(table: pd.DataFrame) -> None:
    if "seeds" not in table.columns:
        raise ValueError("a results table needs a 'seeds' column (see seeds_text)")
    lows = [c[:-4] for c in table.columns if str(c).endswith("_low")]
    if not lows:
        raise ValueError("a results table needs interval bounds: columns NAME_low and NAME_high (see interval_columns)")
    unpaired = [f"{n}_low" for n in lows if f"{n}_high" not in table.columns]
    if unpaired:
        raise ValueError(f"interval bounds without a matching _high column: {unpaired}")


def write_table(table: pd.DataFrame, notebook: str, name: str, root: Path = STATIC_DATA_DIR,
                page_dir: Path = BOOK_DIR) -> str:
    """Write ``table`` to ``root/<notebook>/<name>.csv`` atomically; return its path relative to ``page_dir``.

    The table must carry a ``seeds`` column and at least one pair of interval bounds (``*_low``/``*_high``),
    so an external reader never gets a mean without knowing what it rests on. A missing interval is an
    empty cell. The returned link is what the notebook shows under the table (see :func:`download_markdown`).
    """
    _check_name("notebook", notebook)
    _check_name("table", name)
    _check_columns(table)
    path = Path(root) / notebook / f"{name}.csv"
    with _temporary_sibling(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return _link(path, page_dir)


def _link(path: Path, page_dir: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(page_dir).resolve())).as_posix()


def download_markdown(link: str, what: str = "this table") -> str:
    """The line a notebook prints under a table: a Markdown link to its CSV."""
    return f"[Download {what} as CSV]({link})"


def bundle_records(profile: str, experiments: Iterable[str] | None = None, source: Path | None = None,
                   root: Path = STATIC_DATA_DIR, page_dir: Path = BOOK_DIR) -> tuple[Path, str]:
    """Write every run record of ``profile`` as JSON lines to ``root/records_<profile>.jsonl`` (atomically).

    One line per record, in a stable order (experiment, then key), each the record exactly as stored in
    data/results/. ``experiments`` defaults to every folder under the results directory. Returns the file
    and its link relative to ``page_dir``.
    """
    _check_name("profile", profile)
    base = Path(source or results_dir())
    names = sorted(experiments) if experiments is not None else sorted(p.name for p in base.iterdir() if p.is_dir())
    records: list[Record] = [r for e in names for r in load_records(e, base) if r.config.get("profile") == profile]
    records.sort(key=lambda r: (r.experiment, r.key))
    path = Path(root) / f"records_{profile}.jsonl"
    with _temporary_sibling(path) as tmp:
        tmp.write_text("".join(json.dumps(dataclasses.asdict(r), sort_keys=True) + "\n" for r in records))
    return path, _link(path, page_dir)
