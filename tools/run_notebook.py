"""Execute one notebook of notebooks/ into book/ with papermill, after checking its parameters.

    python tools/run_notebook.py NAME [--profile P] [--seed N] [--device D] [--force] [-p NAME VALUE ...]

``--profile/--seed/--device/--force`` go to each notebook that declares them (``make run`` passes them
to all); every ``-p`` must be declared by the notebook, else this stops before starting a kernel and
lists the names it takes (papermill itself would only warn and run with the default).
"""

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

import papermill

from lib.pipeline.notebook import check_parameters, declared_parameters, notebook_path
from lib.pipeline.provenance import REPO_ROOT


def _value(text: str) -> Any:
    """A Python literal if ``text`` is one (3, 0.5, [0, 1], None, True), else the string itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The common options the notebook declares, then every ``-p``."""
    declared = declared_parameters(args.notebook)
    common = {"profile": args.profile, "seed": args.seed, "device": args.device, "force": args.force or None}
    chosen = {k: v for k, v in common.items() if v is not None and k in declared}
    return {**chosen, **{name: _value(value) for name, value in args.parameter}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", help="name in notebooks/, without .ipynb")
    parser.add_argument("--profile")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--output-dir", type=Path, default=REPO_ROOT / "book")
    args = parser.parse_args(argv)
    try:
        source = notebook_path(args.notebook)
        given = parameters(args)
        check_parameters(args.notebook, given)
    except ValueError as error:
        parser.error(str(error))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    output = args.output_dir / source.name
    print(f"papermill {source.relative_to(REPO_ROOT)} -> {output} {given}", flush=True)
    papermill.execute_notebook(source, output, parameters=given, cwd=source.parent, progress_bar=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
