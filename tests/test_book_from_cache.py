"""The book builds at any moment from what is in the cache (issue 15, sec. 3): every chapter that reads run records
executes at the cpu profile with an empty cache, shows its missing runs as pending, and computes nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READERS = ["darts_cifar10", "lnas_table1", "lnas_generalized", "lnas_curves", "lnas_search_cost", "lamanas_table1",
           "lamanas_loss_landscape", "scaling", "scorecard", "records"]


def _texts(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
                     for c in cells for o in c.get("outputs", []))


def test_every_reading_chapter_builds_at_cpu_from_an_empty_cache(tmp_path):
    results, static, out = tmp_path / "results", tmp_path / "static", tmp_path / "book"
    env = {**os.environ, "COMPANION_RESULTS_DIR": str(results), "COMPANION_STATIC_DIR": str(static),
           "DATA_DIR": str(tmp_path / "no-data"), "TQDM_DISABLE": "1", "COMPANION_STRICT": "0"}
    done = subprocess.run([sys.executable, "tools/run_notebook.py", *READERS, "--profile", "cpu", "--output-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not any(results.rglob("*.json")), "a chapter computed a run instead of showing it as pending"
    for name in ("darts_cifar10", "lnas_table1", "lnas_search_cost", "lamanas_table1", "lamanas_loss_landscape"):
        assert "pending" in _texts(out / f"{name}.ipynb").lower(), f"{name} does not say what is pending"


def test_every_committed_download_is_linked_from_its_chapter():
    """A chapter's CSVs are the tables its committed page shows (tools/run_notebook.py clears the folder before a
    run): a CSV that no page links to would be a stale table a reader could download without knowing it."""
    downloads = ROOT / "book" / "_static" / "downloads"
    unlinked = [f"{table.parent.name}/{table.name}" for table in sorted(downloads.glob("*/*.csv"))
                if f"_static/downloads/{table.parent.name}/{table.name}"
                not in (ROOT / "book" / f"{table.parent.name}.ipynb").read_text()]
    assert not unlinked, f"downloads no chapter links to: {unlinked}; re-run those chapters (tools/run_notebook.py)"
