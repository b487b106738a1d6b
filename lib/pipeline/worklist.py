"""A resumable work list of runs: claim, run, store and commit each record; safe to kill at any moment.

A list is a sequence of :class:`Item` (a config, its run function, the configs whose records it reads,
its modelled cost) in priority order. Workers (:func:`work`, one per process) take the first item that is
neither done (a trusted record), nor claimed, nor waiting for a dependency, and:

1. claim it: a marker ``<results>/.running/<experiment>-<key>.json`` (pid, process start time, host, start
   date), created under a lock so two workers never claim the same item; a marker whose process is gone
   is *dead*: :func:`state` reports it, the next claim removes it;
2. run it (resuming from its checkpoint; a stale record is re-run, not loaded) and store the record;
3. commit the record (and any record it created on the way) to git under a lock, so two workers never
   run git at once; only those paths are committed (``git commit --only``);
4. remove the marker.

A worker killed between 2 and 3 leaves a trusted but uncommitted record; :func:`commit_pending` (run at
the start of every :func:`work`) commits it. Estimates (:class:`Estimator`) come from the measured wall
times of records of the same kind (same config but the seed), else from a cost model scaled by the
median measured/model ratio of its siblings' records (same config but the seed and the sparsity: the same
row at other sparsities, which the model does not tell apart), else of the experiment's records, else of all
records, else the model alone. What is left of a run is its estimate less the part behind it: what its
checkpoint holds, and the time its live worker has run since (:func:`spent_s`).
"""

import contextlib
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch

from lib.pipeline import results
from lib.pipeline.atomic import file_lock, write_json
from lib.pipeline.results import Record

RUNNING = ".running"
# The longest run a CPU worker starts, in hours of its threads (issue 15: "about two hours of one core at most"):
# a checkpoint lives in the working tree only, so on a fresh clone a run that outlived its session starts over.
LONGEST_RUN_HOURS = 2.0
DONE, STALE, RUNNING_STATE, DEAD, FAILED, LEFT = "done", "stale", "running", "dead", "failed", "left"


@dataclass(frozen=True)
class Item:
    """One run of the list: ``name`` for people, ``group`` (a priority tier), ``needs`` (configs read by the run)."""

    name: str
    group: str
    config: Any
    run: Callable
    needs: tuple[Any, ...] = ()
    model_s: float = 0.0

    @property
    def ident(self) -> str:
        return f"{self.config.experiment}-{results.config_key(self.config)}"


def running_dir(root: Path | None = None) -> Path:
    return Path(root or results.results_dir()) / RUNNING


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (field 22 of /proc/<pid>/stat), None where /proc is missing."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def alive(marker: dict[str, Any]) -> bool:
    """Whether the process that wrote ``marker`` still runs (a marker from another host counts as alive)."""
    if marker.get("host") != platform.node():
        return True
    pid = int(marker["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = marker.get("process_start")
    return started is None or _process_start(pid) in (None, started)


def read_markers(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """ident -> marker of every claimed item (each with ``alive`` and ``failed`` filled in)."""
    out = {}
    for path in sorted(running_dir(root).glob("*.json")):
        try:
            marker = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # written at this moment, or half-written by a killed process: next read sees it
        marker["alive"] = alive(marker) if "pid" in marker else False
        out[path.stem] = marker
    return out


def record_status(item: Item, root: Path | None = None) -> str:
    """``done`` (a trusted record), ``stale`` (a record that is not: re-run) or ``left`` (no record)."""
    path = results.record_path(item.config, root)
    if not path.exists():
        return LEFT
    return DONE if results.check(Record.load(path), item.config).mark is None else STALE


@dataclass
class Estimator:
    """Core-seconds of an item: measured (same kind), else model x the measured/model ratio of its siblings, else
    of its experiment, else of all records."""

    model: Callable[[dict[str, Any]], float]
    measured: dict[str, list[float]] = field(default_factory=dict)
    ratios: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    @staticmethod
    def kind(config: Any, ignoring: tuple[str, ...] = ("seed",)) -> str:
        """The config's result fields but those ``ignoring`` (also inside the ``original`` a device repeat holds,
        :mod:`lib.experiments.lamanas_repeat`), as one comparable text."""
        fields = results.result_fields(config)
        for name in ignoring:
            fields.pop(name, None)
            if isinstance(fields.get("original"), dict):
                fields["original"].pop(name, None)
        return json.dumps(fields, sort_keys=True)

    @classmethod
    def sibling(cls, experiment: str, config: Any) -> tuple[str, str]:
        """The runs the cost model gets wrong by about the same factor: the same row at any seed and sparsity."""
        return experiment, cls.kind(config, ("seed", "sparsity"))

    @classmethod
    def from_records(cls, model: Callable[[dict[str, Any]], float], records: Iterable[Record],
                     device: str = "cpu") -> "Estimator":
        """From the records that ran on ``device`` ("cpu" or "cuda"): a GPU's wall time says nothing of a core's."""
        est = cls(model)
        for r in records:
            if str(r.provenance.get("hardware", {}).get("device", "cpu")).split(":")[0] != device:
                continue
            core_s = float(r.provenance["wall_time_s"]) * int(r.provenance.get("hardware", {}).get("torch_threads") or 1)
            est.measured.setdefault(cls.kind(r.config), []).append(core_s)
            with contextlib.suppress(KeyError, TypeError, ValueError, ZeroDivisionError):
                est.ratios.setdefault(cls.sibling(r.experiment, r.config), []).append(core_s / model(r.config))
        return est

    def seconds(self, config: Any) -> tuple[float, str]:
        """(core-seconds, how: "measured", "model x <ratio>" or "model")."""
        same = self.measured.get(self.kind(config))
        if same:
            return statistics.median(same), "measured"
        modelled = self.model(dataclasses.asdict(config))
        sibling = self.sibling(config.experiment, config)
        ratios = (self.ratios.get(sibling) or [r for k, rs in self.ratios.items() if k[0] == sibling[0] for r in rs]
                  or [r for rs in self.ratios.values() for r in rs])
        if ratios:
            ratio = statistics.median(ratios)
            return modelled * ratio, f"model x {ratio:.2f}"
        return modelled, "model"


def records_of(experiments: Iterable[str], root: Path | None = None) -> list[Record]:
    """Every stored record of ``experiments`` (unchecked: wall times are informative even when stale)."""
    out = []
    for experiment in sorted(set(experiments)):
        for path in sorted((Path(root or results.results_dir()) / experiment).glob("*.json")):
            with contextlib.suppress(Exception):
                out.append(Record.load(path))
    return out


@dataclass
class Row:
    """An item's state for :func:`state`: status, estimate (core-s of the whole run), and its marker if claimed;
    ``spent_s`` (:func:`spent_s`) is the part of the run already behind it."""

    item: Item
    status: str
    estimate_s: float
    how: str
    marker: dict[str, Any] | None = None
    spent_s: float = 0.0

    @property
    def left_s(self) -> float:
        """Core-seconds still to run: none when done, else the estimate less what is spent (at least 0)."""
        return 0.0 if self.status == DONE else max(0.0, self.estimate_s - self.spent_s)


def spent_s(item: Item, marker: dict[str, Any] | None, root: Path | None = None, now: float | None = None) -> float:
    """Core-seconds of ``item``'s run already behind it: what its checkpoint holds (none without one, or with
    one its run would discard), and while a live worker runs it, the time since that worker claimed it or since
    the checkpoint's last save, whichever is later (one thread, the sweep's arrangement)."""
    checkpoint = results.checkpoint_of(item.config, root)
    saved = checkpoint.saved_core_seconds()
    if marker is None or not marker.get("alive") or marker.get("failed"):
        return saved
    now = time.time() if now is None else now
    since = marker.get("started", now)
    if saved:
        with contextlib.suppress(OSError):  # the run may finish and clear its checkpoint at this moment
            since = max(since, checkpoint.path.stat().st_mtime)
    return saved + max(0.0, now - since)


def state(items: Sequence[Item], model: Callable[[dict[str, Any]], float], root: Path | None = None) -> list[Row]:
    """The status of every item: done / stale / running / dead / failed / left (a stale record counts as left)."""
    devices = {"cuda" if getattr(i.config, "device", "cpu") == "cuda" else "cpu" for i in items}
    device = devices.pop() if len(devices) == 1 else "cpu"
    estimator = Estimator.from_records(model, records_of((i.config.experiment for i in items), root), device)
    markers = read_markers(root)
    rows = []
    for item in items:
        status = record_status(item, root)
        marker = markers.get(item.ident)
        if status != DONE and marker is not None:
            status = FAILED if marker.get("failed") else RUNNING_STATE if marker["alive"] else DEAD
        spent = spent_s(item, marker, root) if status != DONE else 0.0
        rows.append(Row(item, status, *estimator.seconds(item.config), marker, spent))
    return rows


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)


def repo_of(root: Path | None = None) -> Path | None:
    """The git checkout holding the results folder, None if it is not in one."""
    out = _git(Path(root or results.results_dir()), "rev-parse", "--show-toplevel")
    return Path(out.stdout.strip()) if out.returncode == 0 else None


def commit(paths: Sequence[Path], message: str, root: Path | None = None) -> bool:
    """Commit ``paths`` (only them) if they are new or changed; one git process at a time. True if committed."""
    repo = repo_of(root)
    if repo is None:
        return False
    with file_lock(running_dir(root) / ".git.lock"):
        names = [str(Path(p).resolve().relative_to(repo)) for p in paths if Path(p).exists()]
        changed = _git(repo, "status", "--porcelain", "--untracked-files=all", "--", *names).stdout.strip() if names else ""
        if not changed:
            return False
        _git(repo, "add", "--", *names)
        done = _git(repo, "commit", "--quiet", "--only", "-m", message, "--", *names)
        if done.returncode != 0:
            raise RuntimeError(f"git commit of {names} failed: {done.stderr.strip() or done.stdout.strip()}")
        return True


def commit_pending(items: Sequence[Item], root: Path | None = None) -> int:
    """Commit the trusted records of ``items`` that are not committed yet (a worker killed before its commit)."""
    done = [i for i in items if record_status(i, root) == DONE]
    paths = [results.record_path(i.config, root) for i in done]
    return len(paths) if paths and commit(paths, f"evidence: {len(paths)} record(s) left uncommitted", root) else 0


def unmet_needs(item: Item, root: Path | None = None) -> list[Item]:
    """The runs ``item`` reads (its ``needs``, as items of its own kind) whose records are not done yet: it
    cannot start before they land."""
    needs = [dataclasses.replace(item, config=need) for need in item.needs]
    return [need for need in needs if record_status(need, root) != DONE]


def claim(items: Sequence[Item], deadline: float | None, estimates: dict[str, float],
          root: Path | None = None, longest_s: float | None = None) -> Item | None:
    """Claim the first item to do (not done, not claimed, dependencies done, fits before ``deadline``, its
    estimate at most ``longest_s``)."""
    folder = running_dir(root)
    with file_lock(folder / ".claim.lock"):
        markers = read_markers(root)
        for ident, marker in markers.items():
            if not marker["alive"] and not marker.get("failed"):
                (folder / f"{ident}.json").unlink(missing_ok=True)
        for item in items:
            if item.ident in markers and (markers[item.ident]["alive"] or markers[item.ident].get("failed")):
                continue
            if record_status(item, root) == DONE or unmet_needs(item, root):
                continue
            if deadline is not None and time.time() + estimates.get(item.ident, 0.0) > deadline:
                continue
            if longest_s is not None and estimates.get(item.ident, 0.0) > longest_s:
                continue
            write_json(folder / f"{item.ident}.json", {
                "name": item.name, "group": item.group, "pid": os.getpid(), "process_start": _process_start(os.getpid()),
                "host": platform.node(), "started": time.time()})
            return item
    return None


def run_item(item: Item, threads: int, root: Path | None = None) -> Record:
    """Run ``item`` (resuming from its checkpoint, ignoring a stale record), store and return its record."""
    torch.set_num_threads(threads)
    config = dataclasses.replace(item.config, threads=threads) if hasattr(item.config, "threads") else item.config
    record = results.compute(config, item.run, root=root)
    results.store(record, root)
    results.checkpoint_of(config, root).clear()
    return record


def _release(item: Item, root: Path | None, failure: str | None = None) -> None:
    path = running_dir(root) / f"{item.ident}.json"
    if failure is None:
        path.unlink(missing_ok=True)
    else:
        write_json(path, {"name": item.name, "group": item.group, "failed": failure, "host": platform.node()})


def work(items: Sequence[Item], model: Callable[[dict[str, Any]], float], threads: int = 1,
         deadline: float | None = None, root: Path | None = None, poll_s: float = 30.0,
         longest_s: float | None = None) -> int:
    """Work through ``items`` until nothing is left to claim; return how many records this worker made.

    ``deadline`` (a ``time.time()``): start no item whose estimate says it would end after it. ``longest_s``:
    start no item estimated to take longer (core-seconds; a run that outlives the session loses its checkpoint).
    Both read what is left of a run (:attr:`Row.left_s`): a run resumed from its checkpoint needs only the rest.

    A failed run leaves a ``failed`` marker (status shows why; the next ``start`` clears it) and the worker
    goes on. While the only items left wait for a dependency another worker is running, it polls.
    """
    made = 0
    commit_pending(items, root)
    while True:
        bounded = deadline is not None or longest_s is not None
        estimates = {r.item.ident: r.left_s for r in state(items, model, root)} if bounded else {}
        item = claim(items, deadline, estimates, root, longest_s)
        if item is None:
            if not _waiting(items, root):
                return made
            time.sleep(poll_s)
            continue
        try:
            record = run_item(item, threads, root)
        except Exception as error:  # the item is reported as failed; the list goes on
            _release(item, root, f"{type(error).__name__}: {error}")
            continue
        paths = [results.record_path(c, root) for c in (item.config, *item.needs)]
        commit(paths, f"evidence: {item.name} ({record.status}, {record.provenance['wall_time_s'] / 60:.1f} min)", root)
        _release(item, root)
        made += 1


def _waiting(items: Sequence[Item], root: Path | None) -> bool:
    """Whether some item not done waits only for a dependency that a live worker is running."""
    markers = read_markers(root)
    running = {k for k, m in markers.items() if m["alive"] and not m.get("failed")}
    return any(record_status(i, root) != DONE and i.ident not in markers and unmet_needs(i, root)
               and any(dataclasses.replace(i, config=n).ident in running for n in i.needs) for i in items)


def clear_failed(root: Path | None = None) -> int:
    """Remove the ``failed`` markers (a new start retries those items); return how many."""
    gone = 0
    for ident, marker in read_markers(root).items():
        if marker.get("failed"):
            (running_dir(root) / f"{ident}.json").unlink(missing_ok=True)
            gone += 1
    return gone
