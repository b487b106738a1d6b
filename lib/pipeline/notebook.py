"""The notebooks' parameters: what each declares (papermill's ``parameters`` cell) and a strict check.

papermill only *warns* about a parameter the notebook does not declare and then runs with the default,
so a typo (``-p seed 3`` to a notebook that takes ``seeds``) silently changes nothing. The runner
(``tools/run_notebook.py``) calls :func:`check_parameters` first and stops with the list of valid names.
"""

import ast
from pathlib import Path
from typing import Any, Mapping

import papermill

from lib.pipeline.provenance import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
PROFILES = ("smoke", "cpu", "paper")


def notebook_path(notebook: str, root: Path = NOTEBOOK_DIR) -> Path:
    """``notebooks/<notebook>.ipynb``; an unknown name raises with the list of notebooks."""
    path = Path(root) / f"{notebook}.ipynb"
    if not path.exists():
        known = sorted(p.stem for p in Path(root).glob("*.ipynb"))
        raise ValueError(f"unknown notebook {notebook!r}; choose one of {known}")
    return path


def declared_parameters(notebook: str, root: Path = NOTEBOOK_DIR) -> dict[str, Any]:
    """Each parameter of the notebook's ``parameters`` cell with its default value."""
    found = papermill.inspect_notebook(str(notebook_path(notebook, root)))
    if not found:
        return {}
    return {name: ast.literal_eval(spec["default"]) for name, spec in found.items()}


def check_profile(profile: str) -> None:
    """Raise ``ValueError`` listing the profiles if ``profile`` is not one of them."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")


def check_parameters(notebook: str, given: Mapping[str, Any], root: Path = NOTEBOOK_DIR) -> None:
    """Raise ``ValueError`` naming what is wrong if ``given`` has an undeclared name or an unknown profile."""
    declared = declared_parameters(notebook, root)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"notebook {notebook!r} has no parameter(s) {unknown}; it takes {sorted(declared) or 'none'}")
    if "profile" in given:
        check_profile(given["profile"])


def effective_parameters(notebook: str, namespace: Mapping[str, Any], root: Path = NOTEBOOK_DIR) -> dict[str, Any]:
    """The notebook's parameters as they stand in ``namespace`` (a running notebook's ``globals()``)."""
    return {name: namespace[name] for name in declared_parameters(notebook, root) if name in namespace}
