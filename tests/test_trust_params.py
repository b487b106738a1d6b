"""Issue 10: notebook parameters are read as their declared types and refused, in one line, before any kernel."""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lib.pipeline.notebook import ParameterError, parse_value
from tools import run_notebook

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, default, expected", [
    ("3", 0, 3), ("-1", 0, -1), ("true", False, True), ("False", True, False), ("0.5", 1.0, 0.5), ("2", 1.0, 2.0),
    ("cpu", "auto", "cpu"), ("3", "auto", "3"), ("[1,2]", [1], [1, 2]), ("[0.5, 0.75]", [], [0.5, 0.75]),
    ('{"train_epochs": 4}', {}, {"train_epochs": 4}), ("{'augment': True}", {}, {"augment": True}),
    ('{"augment": true}', {}, {"augment": True}), ("None", None, None), ("[1, 2]", None, [1, 2]),
    ("weights.pt", None, "weights.pt"),
])
def test_values_are_read_as_the_declared_type(text, default, expected):
    value = parse_value("nb", "x", text, default)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("name, text, default, expected", [
    ("seed", "abc", 0, "an integer"), ("seed", "1.5", 0, "an integer"), ("force", "no", False, "true or false"),
    ("force", "1", False, "true or false"), ("extent", "nan", 10.0, "a finite number"),
    ("overrides", "{bad", {}, "a dict such as"), ("overrides", "[1]", {}, "a dict such as"),
    ("extra_seeds", "1,2", [1], "a list such as"),
])
def test_unreadable_values_are_refused_naming_parameter_value_and_type(name, text, default, expected):
    with pytest.raises(ParameterError, match=re.escape(f"notebook 'nb': parameter {name} = {text!r} is not {expected}")):
        parse_value("nb", name, text, default)



def test_params_go_to_the_notebooks_that_declare_them():
    args = argparse.Namespace(notebook=["lnas_table1", "scorecard"], profile="cpu", seed=None, device="auto",
                              force=True, run_missing=False, parameter=[["extra_seeds", "[1,2]"]])
    runs = run_notebook.plan(args)
    assert runs["lnas_table1"] == {"profile": "cpu", "device": "auto", "force": True, "run_missing": True,
                                   "extra_seeds": [1, 2]}
    assert runs["scorecard"] == {"profile": "cpu"}
    args.parameter = [["extra_seed", "[1,2]"]]
    with pytest.raises(ValueError, match=r"no listed notebook has parameter\(s\) \['extra_seed'\]"):
        run_notebook.plan(args)


@pytest.mark.parametrize("force, run_missing, expected", [(False, False, None), (False, True, True), (True, False, True)])
def test_a_forced_or_run_missing_book_computes_what_the_cache_lacks(force, run_missing, expected):
    args = argparse.Namespace(notebook=["lamanas_table1", "records"], profile="paper", seed=None, device=None,
                              force=force, run_missing=run_missing, parameter=[])
    runs = run_notebook.plan(args)
    assert runs["lamanas_table1"].get("run_missing") is expected  # else the notebook shows every row as pending
    assert "run_missing" not in runs["records"]  # only to the notebooks that declare it


@pytest.mark.parametrize("argv, message", [
    (["darts_cifar10", "-p", "force", "no"], "parameter force = 'no' is not true or false"),
    (["darts_cifar10", "-p", "seed", "abc"], "parameter seed = 'abc' is not an integer"),
    (["darts_cifar10", "-p", "overrides", "{train_epochs: 4"], "parameter overrides = '{train_epochs: 4' is not a dict"),
    (["lnas_table1", "scorecard", "--profile", "gpu"], "unknown profile 'gpu'"),
])
def test_the_runner_refuses_bad_values_in_one_line_before_any_kernel(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        run_notebook.main([*argv, "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing was executed


def test_an_error_inside_a_notebook_ends_the_runner_with_one_line(tmp_path):
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("train_epochs = 1", metadata={"tags": ["parameters"]}),
                  nbformat.v4.new_code_cell("from lib.experiments.checks import ConfigError\n"
                                            "if train_epochs < 1:\n"
                                            "    raise ConfigError(f'Config.train_epochs = {train_epochs}: must be in [1, inf]')")]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nbs").mkdir()
    nbformat.write(book, tmp_path / "nbs" / "toy.ipynb")
    for folder in ("toy", "other"):  # last run's downloads: the toy's are cleared, another chapter's are kept
        (tmp_path / "static" / folder).mkdir(parents=True)
        (tmp_path / "static" / folder / "table-9.csv").write_text("a\n1\n")
    cmd = [sys.executable, str(REPO / "tools" / "run_notebook.py"), "toy", "-p", "train_epochs", "0",
           "--notebook-dir", str(tmp_path / "nbs"), "--output-dir", str(tmp_path / "out")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TQDM_DISABLE": "1",
                               "HOME": str(tmp_path), "COMPANION_STATIC_DIR": str(tmp_path / "static")})
    assert done.returncode == 1, done.stderr
    assert "error: notebook toy stopped: ConfigError: Config.train_epochs = 0: must be in [1, inf]" in done.stderr
    assert "Traceback" not in done.stderr and json.loads((tmp_path / "out" / "toy.ipynb").read_text())
    assert not (tmp_path / "static" / "toy" / "table-9.csv").exists()
    assert (tmp_path / "static" / "other" / "table-9.csv").exists()
