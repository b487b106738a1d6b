"""The notebook checks can fail: parameters are found and validated, and nbval catches a changed output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from lib.pipeline import notebook
from lib.pipeline.provenance import REPO_ROOT

NOTEBOOKS = sorted(p.stem for p in notebook.NOTEBOOK_DIR.glob("*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"


def _env(tmp_path: Path) -> dict[str, str]:
    """A child environment with an empty results cache and the repository importable."""
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "COMPANION_RESULTS_DIR": str(tmp_path / "results"), "TQDM_DISABLE": "1",
            "PYTHONPATH": pythonpath}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_cell_is_found_and_declares_a_profile(name):
    declared = notebook.declared_parameters(name)
    assert declared.get("profile") == "smoke"  # nbval runs every notebook at its default: smoke


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_has_a_checked_cell_with_stored_output(name):
    nb = nbformat.read(notebook.notebook_path(name), as_version=4)
    checked = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(CHECK)]
    assert checked and all(c.outputs for c in checked)


def test_unknown_parameter_or_profile_is_refused_before_running():
    with pytest.raises(ValueError, match=r"has no parameter\(s\) \['seeed'\]; it takes"):
        notebook.check_parameters("lnas_table1", {"seeed": 1})
    with pytest.raises(ValueError, match=r"unknown profile 'gpu'; choose one of"):
        notebook.check_parameters("lnas_table1", {"profile": "gpu"})
    with pytest.raises(ValueError, match="unknown notebook"):
        notebook.notebook_path("lnas_tabel1")


def test_runner_refuses_an_undeclared_parameter(tmp_path):
    cmd = [sys.executable, str(REPO_ROOT / "tools" / "run_notebook.py"), "lamanas_table1", "-p", "seed", "3",
           "--output-dir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert done.returncode == 2 and "has no parameter(s) ['seed']" in done.stderr
    assert not list(tmp_path.glob("*.ipynb"))  # nothing was executed


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_an_unknown_profile_stops_the_notebook_with_a_clear_message(name, tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="unknown profile 'gpu'"):
        papermill.execute_notebook(str(notebook.notebook_path(name)), str(tmp_path / "out.ipynb"),
                                   parameters={"profile": "gpu"}, cwd=str(notebook.NOTEBOOK_DIR), progress_bar=False)


def _nbval(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
           "--nbval-sanitize-with", str(REPO_ROOT / "tests" / "nbval_sanitize.cfg"), str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), timeout=300, cwd=tmp_path)


def test_nbval_fails_when_a_checked_output_changes(tmp_path):
    """The scorecard notebook is the quickest to execute; its checked cell prints the claim counts."""
    nb = json.loads(notebook.notebook_path("scorecard").read_text())
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    good.write_text(json.dumps(nb))
    checked = next(c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).startswith(CHECK))
    stream = next(o for o in checked["outputs"] if o["output_type"] == "stream")
    stream["text"] = [line.replace("claims", "claimz") for line in stream["text"]]
    bad.write_text(json.dumps(nb))
    assert _nbval(good, tmp_path).returncode == 0
    failed = _nbval(bad, tmp_path)
    assert failed.returncode != 0 and "1 failed" in failed.stdout


def test_footer_links_to_the_cell_that_made_the_output(tmp_path):
    """current_cell() equals the execution count the book shows (and anchors) for that cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from lib.report.footer import current_cell"),
                nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("current_cell()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, out = tmp_path / "probe.ipynb", tmp_path / "probe_out.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(str(source), str(out), cwd=str(REPO_ROOT), progress_bar=False)
    last = nbformat.read(out, as_version=4).cells[-1]
    assert last.outputs[0]["data"]["text/plain"] == str(last.execution_count)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_book_folds_code_but_shows_the_parameters(name):
    """A reader sees results first: every code cell's source is folded in the book (``hide-input``: one click
    shows it; the source lines' cell links still land on it), except the parameters a reader may change."""
    nb = nbformat.read(notebook.notebook_path(name), as_version=4)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        tags = cell.metadata.get("tags", [])
        assert ("parameters" in tags) != ("hide-input" in tags), cell.source[:80]
