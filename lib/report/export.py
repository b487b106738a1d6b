"""Machine-readable results: every table the book shows as a CSV, and all run records of a profile in one file.

Files go under ``book/_static/downloads/`` (copied into the built site); a notebook page in ``book/`` links to them
with the relative path :func:`write_table` returns, which MyST turns into a download link. The environment
variable ``COMPANION_STATIC_DIR`` puts them elsewhere (the notebook tests use a temporary folder).
"""

import dataclasses
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from lib.pipeline.atomic import _temporary_sibling
from lib.pipeline.results import Record, load_records, results_dir
from lib.pipeline.provenance import REPO_ROOT, made_on
from lib.report.stats import Interval

BOOK_DIR = REPO_ROOT / "book"
STATIC_DATA_DIR = BOOK_DIR / "_static" / "downloads"  # not "data": Sphinx skips static files matching exclude_patterns
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def static_data_dir() -> Path:
    """Where tables and record bundles are written: ``$COMPANION_STATIC_DIR`` if set, else book/_static/downloads."""
    return Path(os.environ.get("COMPANION_STATIC_DIR") or STATIC_DATA_DIR)


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


def table_path(notebook: str, name: str, root: Path = STATIC_DATA_DIR) -> Path:
    """Where :func:`write_table` puts table ``name`` of ``notebook``."""
    return Path(root) / notebook / f"{name}.csv"


def site_link(path: Path) -> str:
    """The link from a chapter page of the built site to ``path``, a file under book/_static/.

    The build copies book/_static/ to the site's _static/, a level above the pages (_build/html/book/*.html);
    a file elsewhere (a test's temporary folder) is linked by its file URI.
    """
    path, static = Path(path).resolve(), (BOOK_DIR / "_static").resolve()
    return f"../_static/{path.relative_to(static).as_posix()}" if path.is_relative_to(static) else path.as_uri()


def write_table(table: pd.DataFrame, notebook: str, name: str, root: Path = STATIC_DATA_DIR,
                page_dir: Path = BOOK_DIR, results: bool = True) -> str:
    """Write ``table`` to ``root/<notebook>/<name>.csv`` atomically; return its path relative to ``page_dir``.

    A results table (``results=True``) must carry a ``seeds`` column and at least one pair of interval bounds
    (``*_low``/``*_high``), so an external reader never gets a mean without knowing what it rests on; a
    missing interval is an empty cell. ``results=False`` is for the other tables (settings, explanations).
    The returned link is what the notebook shows under the table (see :func:`download_markdown`).
    """
    _check_name("notebook", notebook)
    _check_name("table", name)
    if results:
        _check_columns(table)
    path = table_path(notebook, name, root)
    with _temporary_sibling(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return _link(path, page_dir)


def _link(path: Path, page_dir: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(page_dir).resolve())).as_posix()


def download_markdown(link: str, what: str = "this table") -> str:
    """The line a notebook prints under a table: a Markdown link to its CSV."""
    return f"[Download {what} as CSV]({link})"


def config_field(config: dict, name: str) -> Any:
    """A field of a stored config, or of the run it repeats (a device repeat holds its ``original``'s profile and
    seed, :mod:`lib.experiments.lamanas_repeat`); None when neither has it."""
    return config[name] if name in config else config.get("original", {}).get(name)


def profile_records(profile: str, experiments: Iterable[str] | None = None, source: Path | None = None) -> list[Record]:
    """Every stored run record of ``profile`` (of ``experiments``, default all), ordered by experiment and key."""
    base = Path(source or results_dir())
    found = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.is_dir() else []
    names = sorted(experiments) if experiments is not None else found
    records = [r for e in names for r in load_records(e, base) if config_field(r.config, "profile") == profile]
    return sorted(records, key=lambda r: (r.experiment, r.key))


def records_table(records: Iterable[Record]) -> pd.DataFrame:
    """One row per run record: experiment, key, seed, status, trust mark, commit, the device it was made on
    (``CPU`` or the accelerator's name), minutes, date.

    Shown in: book/records.
    """
    return pd.DataFrame([{
        "experiment": r.experiment, "key": r.key, "seed": config_field(r.config, "seed"), "status": r.status,
        "mark": r.mark or "", "commit": str(r.provenance["git"]["commit"])[:7],
        "device": made_on(r.provenance), "minutes": r.provenance["wall_time_s"] / 60,
        "date": str(r.provenance["date"])[:10]} for r in records],
        columns=["experiment", "key", "seed", "status", "mark", "commit", "device", "minutes", "date"])


def records_shown(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`records_table` as the page shows it: a record's trust mark after its status ("ok; stale: ..."),
    so the column wraps and the table fits the page (the CSV keeps the two columns). Shown in: book/records."""
    status = table["status"] + table["mark"].map(lambda mark: f"; {mark}" if mark else "")
    return table.drop(columns="mark").assign(status=status)


def bundle_records(profile: str, experiments: Iterable[str] | None = None, source: Path | None = None,
                   root: Path | None = None, page_dir: Path = BOOK_DIR) -> tuple[Path, str]:
    """Write every run record of ``profile`` as JSON lines to ``root/records_<profile>.jsonl`` (atomically).

    One line per record, in a stable order (experiment, then key), each the record exactly as stored in
    data/results/. ``experiments`` defaults to every folder under the results directory. Returns the file
    and its link relative to ``page_dir``.
    """
    _check_name("profile", profile)
    records = profile_records(profile, experiments, source)
    path = Path(root or static_data_dir()) / f"records_{profile}.jsonl"
    with _temporary_sibling(path) as tmp:
        tmp.write_text("".join(json.dumps(dataclasses.asdict(r), sort_keys=True) + "\n" for r in records))
    return path, _link(path, page_dir)
