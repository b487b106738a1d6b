"""The notebooks' parameters: what each declares (papermill's ``parameters`` cell) and a strict check.

papermill only *warns* about a parameter the notebook does not declare and then runs with the default,
so a typo (``-p seed 3`` to a notebook that takes ``seeds``) silently changes nothing. The runner
(``tools/run_notebook.py``) calls :func:`check_parameters` first and stops with the list of valid names.

Values given on the command line (``-p NAME VALUE``) are read by :func:`parse_value` against the type of
the parameter's declared default, before any kernel starts. papermill's own CLI turns ``True``/``False``/
``None`` into those constants, then tries ``int``, then ``float``, and keeps anything else as a string
(so ``-p force no`` would be the true string ``"no"``, and ``-p seeds [1,2]`` the string ``"[1,2]"``).
Accepted here, by the default's type:

* bool: ``true``/``false``/``True``/``False`` only;
* int: what ``int()`` reads (``3``, ``-1``), never ``1.5`` or ``True``;
* float: what ``float()`` reads, finite (``0.1``, ``1e-3``, ``2``);
* str: the text as it is;
* list or tuple: a JSON or Python list literal (``[1,2]``, ``[0.5, 0.75]``);
* dict: a JSON or Python dict literal (``'{"train_epochs": 4}'``);
* None (an optional parameter): ``None``, else a JSON or Python literal, else the text as a string.

Anything else is refused with an error naming the notebook, the parameter, the value and what is expected.
Ranges (``seed >= 0``, ``n_train >= 1``...) are checked by the configs themselves (``lib.experiments.checks``).
"""

import ast
import json
import math
from pathlib import Path
from typing import Any, Mapping

import papermill

from lib.experiments.profiles import PROFILES
from lib.pipeline.provenance import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"


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


class ParameterError(ValueError):
    """A ``-p`` value that cannot be read as the parameter's type; the message says what is expected."""


def _literal(text: str) -> Any:
    """A JSON literal, else a Python literal (``ValueError`` if neither)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise ValueError(str(error)) from error


def _typed(text: str, default: Any) -> Any:
    """``text`` read as the type of ``default``; ``ValueError`` naming what is expected if it cannot be."""
    if isinstance(default, bool):
        if text in ("true", "True", "false", "False"):
            return text in ("true", "True")
        raise ValueError("true or false")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ValueError("an integer") from None
    if isinstance(default, float):
        try:
            value = float(text)
        except ValueError:
            raise ValueError("a number") from None
        if not math.isfinite(value):
            raise ValueError("a finite number")
        return value
    if isinstance(default, str):
        return text
    kinds = {list: "a list such as [1, 2]", tuple: "a list such as [1, 2]", dict: """a dict such as '{"train_epochs": 4}'"""}
    for kind, expected in kinds.items():
        if isinstance(default, kind):
            try:
                value = _literal(text)
            except ValueError:
                raise ValueError(expected) from None
            if not isinstance(value, {list: list, tuple: (list, tuple), dict: dict}[kind]):
                raise ValueError(expected)
            return list(value) if kind is not dict else value
    if text == "None":
        return None
    try:
        return _literal(text)
    except ValueError:
        return text


def parse_value(notebook: str, name: str, text: str, default: Any) -> Any:
    """The ``-p name text`` value for ``notebook`` whose declared default is ``default`` (module docstring)."""
    try:
        return _typed(text, default)
    except ValueError as expected:
        raise ParameterError(f"notebook {notebook!r}: parameter {name} = {text!r} is not {expected} "
                             f"(its default is {default!r})") from None


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
