"""Execute notebooks of notebooks/ into book/ with papermill, after checking every parameter of every one.

    python tools/run_notebook.py NAME [NAME ...] [--profile P] [--seed N] [--device D] [--run-missing] [--force]
                                 [-p NAME VALUE ...]

Without ``--run-missing`` a notebook at any profile but ``smoke`` reads the cache and shows a run it does not
find as pending; ``--run-missing`` computes those runs, and ``--force`` recomputes every run (so it implies
``--run-missing``). ``--profile/--seed/--device/--force/--run-missing`` and each ``-p`` go to every listed
notebook that declares the
parameter (``make run`` lists all); a ``-p`` name that none of them declares is an error, and so is a
value that cannot be read as the parameter's type (see ``lib.pipeline.notebook.parse_value``: e.g.
``-p force no`` is refused, ``-p extra_seeds [1,2]`` is a list). All of this is checked before the first
kernel starts. A notebook that stops on an error (a config value out of range, a stale record under
``STRICT=1``, a damaged file...) ends this command with one line naming the notebook and the error; the
executed notebook in the output folder keeps the full traceback.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import papermill

from lib.pipeline.notebook import NOTEBOOK_DIR, check_parameters, declared_parameters, notebook_path, parse_value
from lib.pipeline.provenance import REPO_ROOT
from lib.report.export import static_data_dir


def parameters(notebook: str, args: argparse.Namespace, root: Path = NOTEBOOK_DIR) -> dict[str, Any]:
    """The common options and ``-p`` values that ``notebook`` declares, each read as its declared type."""
    declared = declared_parameters(notebook, root)
    common = {"profile": args.profile, "seed": args.seed, "device": args.device, "force": args.force or None,
              "run_missing": args.run_missing or args.force or None}
    chosen = {k: v for k, v in common.items() if v is not None and k in declared}
    given = {name: parse_value(notebook, name, text, declared[name]) for name, text in args.parameter if name in declared}
    values = {**chosen, **given}
    check_parameters(notebook, values, root)
    return values


def plan(args: argparse.Namespace, root: Path = NOTEBOOK_DIR) -> dict[str, dict[str, Any]]:
    """Each notebook's parameters; ``ValueError`` for an unknown notebook, name, value or profile."""
    for name in args.notebook:
        notebook_path(name, root)
    declared = {name: declared_parameters(name, root) for name in args.notebook}
    unknown = sorted({p for p, _ in args.parameter} - {p for names in declared.values() for p in names})
    if unknown and len(declared) == 1:
        (name, names), = declared.items()
        raise ValueError(f"notebook {name!r} has no parameter(s) {unknown}; it takes {sorted(names) or 'none'}")
    if unknown:
        takes = {name: sorted(names) for name, names in declared.items()}
        raise ValueError(f"no listed notebook has parameter(s) {unknown}; they take {takes}")
    return {name: parameters(name, args, root) for name in args.notebook}


def clear_downloads(name: str) -> None:
    """Delete the CSVs notebook ``name`` wrote last time: each run writes every table it shows again, so a table
    it no longer shows (renumbered or removed) must not stay behind as a download that no page links to."""
    for table in (static_data_dir() / name).glob("*.csv"):
        table.unlink()


def execute(name: str, values: dict[str, Any], output_dir: Path, root: Path) -> str | None:
    """Run one notebook (its old downloads cleared first); None when it finished, else one line saying which
    error stopped it."""
    source = notebook_path(name, root)
    clear_downloads(name)
    output = output_dir / source.name
    print(f"papermill {source.name} -> {output} {values}", flush=True)
    try:
        papermill.execute_notebook(source, output, parameters=values, cwd=source.parent, progress_bar=True)
    except papermill.PapermillExecutionError as error:
        return f"notebook {name} stopped: {error.ename}: {error.evalue} (traceback in {output})"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", nargs="+", help="name(s) in notebooks/, without .ipynb")
    parser.add_argument("--profile")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device")
    parser.add_argument("--force", action="store_true", help="recompute every run (implies --run-missing)")
    parser.add_argument("--run-missing", action="store_true", help="compute the runs the cache lacks (else: pending)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--output-dir", type=Path, default=REPO_ROOT / "book")
    parser.add_argument("--notebook-dir", type=Path, default=NOTEBOOK_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        runs = plan(args, args.notebook_dir)
    except ValueError as error:
        parser.error(str(error))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for name, values in runs.items():
        failure = execute(name, values, args.output_dir, args.notebook_dir)
        if failure:
            print(f"{parser.prog}: error: {failure}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
