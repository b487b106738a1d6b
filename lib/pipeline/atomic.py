"""Atomic file writes: a crash, Ctrl-C or SIGKILL never leaves a half-written result behind.

A write goes to ``.<name>.<pid>.<random>.tmp`` next to the target and is renamed over it when complete.
A writer killed mid-write leaves its temporary file; the next write to the same folder removes every
temporary file whose process is gone (:func:`remove_stale_temporaries`).
"""

import fcntl
import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch

class DamagedFileError(OSError):
    """A file that cannot be read back as what it should be; the message names the file and the repair."""

    def __init__(self, path: Path, problem: str, repair: str) -> None:
        super().__init__(f"{path} {problem}. Repair: {repair}")
        self.path = Path(path)


_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files of killed writers in ``folder``; returns what was removed."""
    removed = []
    for path in Path(folder).glob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def _temporary_sibling(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` and move it into place when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)  # mkstemp creates 0600; results and caches are meant to be shared
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted, standard JSON (NaN/inf refused with ValueError) atomically."""
    text = json.dumps(obj, indent=1, sort_keys=True, allow_nan=False) + "\n"
    with _temporary_sibling(Path(path)) as tmp:
        tmp.write_text(text)


def save_torch(path: Path, obj: Any) -> None:
    """``torch.save`` to ``path`` atomically."""
    with _temporary_sibling(Path(path)) as tmp:
        torch.save(obj, tmp)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block; another process
    asking for the same lock waits. Lock files are left in place: removing one while a process waits on it
    would let a third lock a new file of the same name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
