"""Run independent experiment rows on one of two backends behind one function, ``run_all``.

- ``local`` (the default, nothing to start): this process, or a pool of one-thread spawned processes
  (DESIGN: 1.3-1.8x the throughput of one two-thread process on 2 cores).
- ``ray``: each row is a Ray task on a cluster (``RAY_ADDRESS``) or on a local one Ray starts; workers
  return records and this process writes them into the cache (:mod:`lib.pipeline.executors.ray`).

The backend comes from the ``executor`` argument, else ``$EXECUTOR`` (so ``make book EXECUTOR=ray`` reaches
the notebooks). Rows already cached never reach a backend. A row that fails for good does not stop the
others: ``run_all`` finishes the sweep, then raises :class:`SweepFailed` naming each failed row and why.
"""

import dataclasses
import logging
import os
import re
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from tqdm import tqdm

from lib.pipeline import results
from lib.pipeline.results import Record

Job = tuple[Any, Callable]  # (config dataclass, run function defined at module level)
BACKENDS = ("local", "ray")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowFailure:
    """A row that failed for good: which row (``describe_row``) and why (exception type, message, place)."""

    row: str
    reason: str


@dataclass
class Summary:
    """What a sweep did: rows found in the cache, computed, failed; on which backend; how long it took."""

    backend: str
    rows: int
    cached: int = 0
    computed: int = 0
    failures: list[RowFailure] = field(default_factory=list)
    wall_s: float = 0.0

    def __str__(self) -> str:
        head = (f"{self.rows} rows on {self.backend}: {self.cached} cached, {self.computed} computed, "
                f"{len(self.failures)} failed, {self.wall_s:.1f} s")
        return "\n".join([head, *(f"  failed {f.row}: {f.reason}" for f in self.failures)])


class Sweep(list):
    """The records of a sweep in the order of its jobs (a plain list), with its ``summary``."""

    def __init__(self, records: Sequence[Record], summary: Summary) -> None:
        super().__init__(records)
        self.summary = summary


class SweepFailed(RuntimeError):
    """Some rows failed for good; the others finished and are cached. ``summary`` lists each failure."""

    def __init__(self, summary: Summary) -> None:
        super().__init__(str(summary))
        self.summary = summary


class Progress:
    """A tqdm bar over rows on the driver, with done / running / failed in its postfix."""

    def __init__(self, total: int, desc: str, done: int = 0) -> None:
        self.bar = tqdm(total=total, desc=desc, initial=done)
        self.counts = {"done": done, "running": 0, "failed": 0}
        self._show()

    def _show(self) -> None:
        self.bar.set_postfix(self.counts, refresh=False)
        self.bar.refresh()

    def running(self, n: int) -> None:
        self.counts["running"] = n
        self._show()

    def finished(self, ok: bool) -> None:
        self.counts["done" if ok else "failed"] += 1
        self.bar.update(1)
        self._show()

    def close(self) -> None:
        self.bar.close()


def describe_row(config: Any) -> str:
    """``experiment/key (field=value, ...)``: the seed and every field that differs from the config's profile."""
    named = f"{config.experiment}/{results.config_key(config)}"
    try:
        reference = type(config).for_profile(config.profile)
    except (AttributeError, TypeError, ValueError):
        reference = None
    shown = [f.name for f in dataclasses.fields(config) if f.name == "seed" or (
        reference is not None and f.name not in results.EXECUTION_FIELDS
        and getattr(config, f.name) != getattr(reference, f.name))]
    return f"{named} ({', '.join(f'{n}={getattr(config, n)!r}' for n in shown)})"


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def failure_reason(error: BaseException, traceback_text: str | None = None) -> str:
    """``Type: message (at file:line in function)`` from the innermost frame, without the whole traceback."""
    frames = _FRAME.findall(traceback_text or "".join(traceback.format_tb(error.__traceback__)))
    where = f" (at {os.path.relpath(frames[-1][0])}:{frames[-1][1]} in {frames[-1][2]})" if frames else ""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}{where}"


def default_processes() -> int:
    """One process per core (never more: oversubscribing 2 cores ran 2.7x slower here, STYLE pitfall 11)."""
    return max(1, os.cpu_count() or 1)


def _backend(name: str) -> Callable:
    if name == "local":
        from lib.pipeline.executors import local
        return local.execute
    if name == "ray":
        from lib.pipeline.executors import ray as ray_executor  # imports ray only when asked for
        return ray_executor.execute
    raise ValueError(f"unknown executor {name!r}; choose one of {BACKENDS} (argument or $EXECUTOR)")


def run_all(jobs: Sequence[Job], processes: int = 1, force: bool = False, desc: str = "runs",
            executor: str | None = None) -> Sweep:
    """Run (or load from the cache) every job; return the records in the order of ``jobs``.

    ``executor`` (else ``$EXECUTOR``, else ``"local"``) picks the backend. Locally, ``processes == 1`` runs
    in this process with the config's thread count, otherwise each job runs in a fresh spawned process with
    one thread; on Ray the cluster's resources decide how many rows run at once. ``threads``, the device
    and the backend are not part of the cache key, so the records are the same either way. The summary is
    logged and kept on the returned list (``.summary``); failed rows raise :class:`SweepFailed` at the end.
    """
    name = executor or os.environ.get("EXECUTOR") or "local"
    execute = _backend(name)
    start = time.perf_counter()
    found = [None if force else results.stored(config) for config, _ in jobs]
    todo = [(i, config, run) for i, ((config, run), hit) in enumerate(zip(jobs, found)) if hit is None]
    summary = Summary(name, rows=len(jobs), cached=len(jobs) - len(todo))
    progress = Progress(len(jobs), desc, done=summary.cached)
    try:
        outcomes = execute(todo, force, processes, progress) if todo else {}
    finally:
        progress.close()
    summary.failures = [o for o in outcomes.values() if isinstance(o, RowFailure)]
    summary.computed = len(outcomes) - len(summary.failures)
    summary.wall_s = time.perf_counter() - start
    log.info("%s: %s", desc, summary)
    if summary.failures:
        raise SweepFailed(summary)
    return Sweep([found[i] or outcomes[i] for i in range(len(jobs))], summary)
