"""Code fingerprints: which version of the result-changing code computed a run record.

A record is reused only when its fingerprint equals the current one (``results.stored``); otherwise it
is shown marked "stale: computed with code X, now Y". The fingerprint of an experiment is defined as
follows, so that it is both honest (any change that can alter a number changes it) and quiet (edits that
cannot, never do):

* **Which files.** The experiment's entry modules (:data:`ENTRY`, e.g. ``lib.experiments.lamanas``) and
  every ``lib`` module it imports, transitively (static ``import`` statements anywhere in a file, found
  with :mod:`ast`; package ``__init__`` files included). Nothing to maintain when a file is added or
  moved: what the experiment imports is what it is fingerprinted over. The pipeline, report and plots
  layers (:data:`EXCLUDED`) are never part of it (a new cache format or table layout does not change
  what a run computed); their imports are not followed. An unknown experiment gets every science file.
* **What of each file.** Its syntax tree without docstrings and comments (:func:`dump`: ``ast.dump``'s text
  without empty fields, the same on every Python version), with import
  statements written as the full module names they bind; files with no code left (a package
  ``__init__`` holding only a docstring) are skipped. So re-wording a docstring or re-wrapping a
  line changes nothing, while any change of code, of a default value, or of where a name is imported
  from changes the fingerprint.
* **Profile tables are data.** A module-level ``PROFILES = ...`` (the named profiles' changes, e.g.
  ``lib.experiments.darts_cifar10.PROFILES``) is left out: every config's cache key holds its resolved
  settings (a profile only chooses them), so a changed profile asks for new records instead of making the
  stored ones wrong. Resizing the ``cpu`` profile therefore leaves the ``small`` profile's records and the
  measurement runs current. A config whose key does not hold its resolved settings must not read a table.
* **Under which name.** Each file under its logical (current) path. Files moved by the re-grouping of
  commit 54114c7 (``lib/results.py`` -> ``lib/pipeline/results.py``, ...) are listed in :data:`MOVES`;
  in a tree that still has an old file, the old path and the old module name are read as the new ones.
  The same code therefore has the same fingerprint before and after a pure move.

``fingerprint = sha256(sorted (logical path, normalised tree))``, first 12 hex digits. The working tree
is read from disk (uncommitted edits included: a run records the code that actually ran); a past commit
is read with ``git show`` (:func:`commit_fingerprint`, for records written before fingerprints existed),
which gives ``"unknown"`` when the commit is not in this clone.
"""

import ast
import functools
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lib.pipeline.provenance import REPO_ROOT

UNKNOWN = "unknown"
SAME_SOURCE = ("the source at its commit {commit} is the current source (fingerprint recomputed from git with the "
               "current fingerprint function)")  # the reason tools/seal_records.py --refingerprint records
PROFILE_TABLE = "PROFILES"  # module-level assignments of this name are data, not code (module docstring)
EXCLUDED = ("lib/pipeline/", "lib/report/", "lib/plots/")
ENTRY = {
    "darts_cifar10": "lib.experiments.darts_cifar10",
    # every LNAS row kind runs from its own file; their shared stages are in lib.experiments.lnas
    "lnas": ("lib.experiments.lnas_variant1", "lib.experiments.lnas_variant2", "lib.experiments.lnas_algorithm3",
             "lib.experiments.lnas"),
    "lnas_search_cost": "lib.experiments.search_cost",
    "lamanas": "lib.experiments.lamanas",
    "random_architecture": "lib.experiments.random_architecture",
    "lamanas_curve": "lib.experiments.lamanas_curve",
    "lamanas_device_repeat": "lib.experiments.lamanas_repeat",
}
# old path -> current path (commit 54114c7 "lib grouped in three layers"); add a line for every future move
MOVES = {
    "lib/flops.py": "lib/darts/flops.py",
    "lib/landscape.py": "lib/meta/landscape.py",
    "lib/losses.py": "lib/meta/losses.py",
    "lib/atomic.py": "lib/pipeline/atomic.py",
    "lib/checkpoint.py": "lib/pipeline/checkpoint.py",
    "lib/device.py": "lib/pipeline/device.py",
    "lib/notebook.py": "lib/pipeline/notebook.py",
    "lib/provenance.py": "lib/pipeline/provenance.py",
    "lib/results.py": "lib/pipeline/results.py",
    "lib/runner.py": "lib/pipeline/runner.py",
    "lib/diagrams.py": "lib/plots/diagrams.py",
    "lib/plots.py": "lib/plots/style.py",
    "lib/report.py": "lib/report/compare.py",
    "lib/footer.py": "lib/report/footer.py",
    "lib/scorecard/__init__.py": "lib/report/scorecard/__init__.py",
    "lib/scorecard/build.py": "lib/report/scorecard/build.py",
    "lib/scorecard/lamanas.py": "lib/report/scorecard/lamanas.py",
    "lib/scorecard/lnas.py": "lib/report/scorecard/lnas.py",
    "lib/scorecard/tables.py": "lib/report/scorecard/tables.py",
    "lib/scorecard/verdict.py": "lib/report/scorecard/verdict.py",
    "lib/scorecard/view.py": "lib/report/scorecard/view.py",
}


def _module(path: str) -> str:
    """``lib/a/b.py`` -> ``lib.a.b``; ``lib/a/__init__.py`` -> ``lib.a``."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass(frozen=True)
class Tree:
    """The ``lib`` sources of one version: path -> text (the working tree, or a commit read with git)."""

    files: dict[str, str]

    def logical(self, path: str) -> str:
        return MOVES.get(path, path)

    @functools.cached_property
    def renames(self) -> dict[str, str]:
        """Old module name -> current one, for the moved files this tree still has under their old path."""
        return {_module(old): _module(new) for old, new in MOVES.items() if old in self.files}

    def module_file(self, module: str) -> str | None:
        base = module.replace(".", "/")
        return next((p for p in (f"{base}.py", f"{base}/__init__.py") if p in self.files), None)


def working_tree(root: Path = REPO_ROOT) -> Tree:
    """The ``lib`` sources on disk under ``root``."""
    return Tree({p.relative_to(root).as_posix(): p.read_text() for p in sorted((Path(root) / "lib").rglob("*.py"))})


def commit_tree(commit: str, root: Path = REPO_ROOT) -> Tree | None:
    """The ``lib`` sources of ``commit`` (None if git or the commit is not available here)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout if out.returncode == 0 else None

    listing = git("ls-tree", "-r", "--name-only", commit, "--", "lib")
    if listing is None or not commit or commit == UNKNOWN:
        return None
    paths = [p for p in listing.splitlines() if p.endswith(".py")]
    texts = {p: git("show", f"{commit}:{p}") for p in paths}
    return None if any(t is None for t in texts.values()) else Tree(texts)  # type: ignore[misc]


class _Normalise(ast.NodeTransformer):
    """Drop docstrings; write each import as one ``import <full module or name> as <bound name>`` string."""

    def __init__(self, tree: Tree, package: str) -> None:
        self.tree, self.package = tree, package

    def _rename(self, name: str) -> str:
        head = next((old for old in self.tree.renames if name == old or name.startswith(old + ".")), None)
        return name if head is None else self.tree.renames[head] + name[len(head):]

    def _statement(self, target: str, bound: str) -> ast.stmt:
        return ast.Expr(ast.Constant(f"import {self._rename(target)} as {bound}"))

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = [s for s in node.body if PROFILE_TABLE not in _assigned_names(s)]
        return self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> list[ast.stmt]:
        return [self._statement(a.name, a.asname or a.name.split(".")[0]) for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> list[ast.stmt]:
        base = _absolute(node, self.package)
        return [self._statement(f"{base}.{a.name}", a.asname or a.name) for a in node.names]

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:]  # type: ignore[attr-defined]
        return super().generic_visit(node)


def _assigned_names(statement: ast.stmt) -> set[str]:
    """The plain names a module-level ``x = ...`` / ``x: T = ...`` statement binds (empty for other statements)."""
    targets = statement.targets if isinstance(statement, ast.Assign) else \
        [statement.target] if isinstance(statement, ast.AnnAssign) else []
    return {t.id for t in targets if isinstance(t, ast.Name)}


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of ``from ... import``, resolving relative imports against ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


def _package(path: str) -> str:
    module = _module(path)
    return module if path.endswith("__init__.py") else module.rpartition(".")[0]


def _imported_files(tree: Tree, path: str) -> set[str]:
    """The ``lib`` files that ``path`` imports (modules, and the ``__init__`` of every package on the way)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(tree.files[path])):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, _package(path))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                file = tree.module_file(".".join(parts[:depth])) if parts[0] == "lib" else None
                if file:
                    found.add(file)
    return found


def _excluded(tree: Tree, path: str) -> bool:
    return tree.logical(path).startswith(EXCLUDED)


def sources(tree: Tree, experiment: str) -> list[str]:
    """The files (paths in ``tree``) that can change ``experiment``'s results; empty if its entry is missing."""
    if experiment not in ENTRY:
        return sorted(p for p in tree.files if not _excluded(tree, p))
    entries = ENTRY[experiment] if isinstance(ENTRY[experiment], tuple) else (ENTRY[experiment],)
    starts = {tree.module_file(entry) for entry in entries} - {None}  # an older tree may lack some entries
    if not starts:
        return []
    packages = {tree.module_file(".".join(entry.split(".")[:depth]))
                for entry in entries for depth in range(1, len(entry.split(".")))} - {None}
    seen, todo = {*starts, *packages}, [*starts, *packages]
    while todo:
        for file in _imported_files(tree, todo.pop()) - seen:
            seen.add(file)
            if not _excluded(tree, file):
                todo.append(file)
    return sorted(p for p in seen if not _excluded(tree, p))


def dump(node: object) -> str:
    """``ast.dump`` without empty fields (``None``, ``[]``): the same text on every Python version (3.12 adds
    ``type_params=[]`` to every function and class, 3.13 leaves empty fields out), so a record computed on a
    machine with another interpreter (a lent GPU's 3.12) carries the fingerprint this one computes."""
    if isinstance(node, ast.AST):
        fields = ", ".join(f"{name}={dump(value)}" for name, value in ast.iter_fields(node)
                           if value is not None and value != [])
        return f"{type(node).__name__}({fields})"
    if isinstance(node, list):
        return "[" + ", ".join(dump(item) for item in node) + "]"
    return repr(node)


def normalised(tree: Tree, path: str) -> str:
    """The file's syntax tree without docstrings and with canonical imports (see the module docstring)."""
    return dump(_Normalise(tree, _package(path)).visit(ast.parse(tree.files[path])))


_EMPTY = dump(ast.parse(""))


def fingerprint(tree: Tree, experiment: str) -> str:
    """12 hex digits of the experiment's code in ``tree``, or ``"unknown"`` when its entry module is missing."""
    files = sources(tree, experiment)
    if not files:
        return UNKNOWN
    digest = hashlib.sha256()
    for logical, path in sorted((tree.logical(p), p) for p in files):
        code = normalised(tree, path)
        if code != _EMPTY:  # a package __init__ with only a docstring runs nothing
            digest.update(f"{logical}\0{code}\0".encode())
    return digest.hexdigest()[:12]


def _signature(root: Path) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted((Path(root) / "lib").rglob("*.py")))


@functools.lru_cache(maxsize=64)
def _current(root: Path, experiment: str, signature: tuple) -> str:
    return fingerprint(working_tree(root), experiment)


def current_fingerprint(experiment: str, root: Path = REPO_ROOT) -> str:
    """The fingerprint of ``experiment``'s code as it is on disk now (recomputed when a lib file changes)."""
    return _current(Path(root), experiment, _signature(root))


@functools.lru_cache(maxsize=256)
def commit_fingerprint(commit: str, experiment: str, root: Path = REPO_ROOT) -> str:
    """The fingerprint of ``experiment``'s code at a past ``commit`` (``"unknown"`` if git cannot show it)."""
    tree = commit_tree(commit, root)
    return UNKNOWN if tree is None else fingerprint(tree, experiment)


def is_same_source(reason: str) -> bool:
    """Whether a vouched record's ``reason`` is the checked one of ``--refingerprint`` (:data:`SAME_SOURCE`),
    as opposed to a reason a person declared with ``--vouch``."""
    head, tail = SAME_SOURCE.split("{commit}")
    return re.fullmatch(re.escape(head) + "[0-9a-f]+" + re.escape(tail), reason) is not None
