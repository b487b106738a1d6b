"""Run records cached under ``data/results/<experiment>/<key>.json``, keyed by a hash of the config.

A record holds the full config, the metrics the run returned, its ``status`` (``"ok"``, or ``"diverged"``
when a value became NaN/inf: ``metrics["diverged"]`` then says where and what), its provenance (git
commit, code fingerprint, data source and checksum, device, software versions, wall time, date) and a
``checksum``: sha256 of the canonical JSON of everything else in the record.

Reuse. Re-running a notebook with the same config reuses the record, but only a record that can be
trusted: its stored config equals the requested one, its checksum matches its content, and its code
fingerprint (:mod:`lib.pipeline.fingerprint`) equals the current one. Any other record is returned with
``mark`` set ("stale: computed with code X, now Y", "altered: ...", "unsealed: ..."), which the source
line under a table shows; ``force=True`` recomputes it instead, and with ``COMPANION_STRICT=1``
(``make book STRICT=1``) using a marked record is an error (:class:`UntrustedRecordError`).

Key. Fields that change *how* a run executes but not *what* it computes (``device``, ``threads``,
``channels_last``) are left out of the key, so a cache made on a CPU is reused on a GPU machine; the
device actually used is in the provenance. ``threads`` does change results in the last digits: torch's
reductions sum in an order that depends on the thread count, and runs with 1 and 2 threads were seen to
differ at about 1e-8 in losses (a different float rounding, not a different computation); all committed
runs used one thread per process, which their provenance records (``hardware.torch_threads``).

Concurrency and crashes. Two processes asking for the same record at once compute it once: the second
waits on a per-key file lock (``.locks/<experiment>-<key>.lock``) and then reads the record. The record is written
atomically; an interrupted run resumes from its checkpoint (``<key>.ckpt.pt``) when called again, and
its ``wall_time_s`` counts every part. ``COMPANION_RESULTS_DIR`` moves the cache elsewhere (the notebook
tests use a fresh temporary one, so they always compute).
"""

import dataclasses
import hashlib
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Protocol

import torch

from lib.pipeline import fingerprint, provenance
from lib.pipeline.atomic import DamagedFileError, file_lock, write_json
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.device import resolve_device
from lib.pipeline.divergence import Diverged, null_non_finite

DEFAULT_RESULTS_DIR = provenance.REPO_ROOT / "data" / "results"
EXECUTION_FIELDS = frozenset({"device", "threads", "channels_last"})
STRICT_ENV = "COMPANION_STRICT"


def results_dir() -> Path:
    """``$COMPANION_RESULTS_DIR`` if set (read at each call, so child processes and tests follow it), else data/results."""
    return Path(os.environ.get("COMPANION_RESULTS_DIR", DEFAULT_RESULTS_DIR))


class RunConfig(Protocol):
    """What ``cached`` needs of a config: a dataclass with an experiment name."""

    experiment: str


class UntrustedRecordError(RuntimeError):
    """A stale, altered or unsealed record was about to be used while ``COMPANION_STRICT=1``."""


@dataclass(frozen=True)
class RunOutput:
    """What a run function returns: its metrics, the data it used and the device it ran on."""

    metrics: dict[str, Any]
    data_source: dict[str, Any]
    device: torch.device


@dataclass(frozen=True)
class Record:
    """A run as stored on disk; ``mark`` (not stored) says why it cannot be trusted, None when it can."""

    experiment: str
    key: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    provenance: dict[str, Any]
    status: str = "ok"
    checksum: str | None = None
    mark: str | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: Path) -> "Record":
        """Read a record; a file that is not one raises :class:`DamagedFileError` naming it and the repair."""
        try:
            data = json.loads(Path(path).read_text())
            return cls(**{k: v for k, v in data.items() if k != "mark"})
        except (ValueError, TypeError, UnicodeDecodeError) as error:
            raise DamagedFileError(path, f"is not a readable run record ({error})",
                                   f"restore it (`git checkout -- {path}`) or delete it to recompute it (`rm {path}`)") from error

    def stored_fields(self) -> dict[str, Any]:
        """What is written to disk (everything but ``mark``)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "mark"}

    @property
    def is_stale(self) -> bool:
        """Whether this record was made by code that has changed since (its mark says "stale"; altered and
        unsealed records carry other marks)."""
        return (self.mark or "").startswith("stale")

    def path(self, root: Path | None = None) -> Path:
        """Where :func:`store` writes this record under ``root`` (default: the results folder)."""
        return _record_file(self.experiment, self.key, root)

    @property
    def code_fingerprint(self) -> str:
        """The fingerprint of the code that computed this record; for a record written before fingerprints
        existed, that of its commit read from git (``"unknown"`` if its lib had local edits or git lacks it)."""
        code = self.provenance.get("code") or {}
        if "fingerprint" in code:
            return code["fingerprint"]
        git = self.provenance.get("git") or {}
        if git.get("lib_dirty") is not False:
            return fingerprint.UNKNOWN
        return fingerprint.commit_fingerprint(str(git.get("commit")), self.experiment)


RunFn = Callable[[Any, Checkpoint], RunOutput]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def content_checksum(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a record's stored fields without ``checksum``."""
    return hashlib.sha256(_canonical({k: v for k, v in fields.items() if k != "checksum"}).encode()).hexdigest()


def result_fields(config: RunConfig | dict[str, Any]) -> dict[str, Any]:
    """The config's result-determining fields as JSON data (tuples as lists), without the execution fields."""
    data = config if isinstance(config, dict) else dataclasses.asdict(config)
    return json.loads(_canonical({k: v for k, v in data.items() if k not in EXECUTION_FIELDS}))


def config_key(config: RunConfig) -> str:
    """A 16-hex-digit hash of the config's result-determining fields (canonical JSON)."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in EXECUTION_FIELDS}
    canonical = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _record_file(experiment: str, key: str, root: Path | None) -> Path:
    """The one layout of the cache: ``<root>/<experiment>/<key>.json``."""
    return Path(root or results_dir()) / experiment / f"{key}.json"


def record_path(config: RunConfig, root: Path | None = None) -> Path:
    return _record_file(config.experiment, config_key(config), root)


def untrusted_because(record: Record, config: RunConfig | None = None, root: Path = provenance.REPO_ROOT) -> str | None:
    """Why ``record`` cannot be trusted for ``config`` (altered, then stale, then unsealed), or None."""
    if record.checksum is not None and content_checksum(record.stored_fields()) != record.checksum:
        return "altered: its content does not match its checksum (edited after it was written)"
    if config is not None:
        wanted, stored = result_fields(config), result_fields(record.config)
        differ = sorted(k for k in wanted.keys() | stored.keys() if wanted.get(k) != stored.get(k))
        if differ:
            return f"altered: its stored config differs from the requested one in {', '.join(differ)}"
    old, new = record.code_fingerprint, fingerprint.current_fingerprint(record.experiment, root)
    if old != new:
        return f"stale: computed with code {old}, now {new}"
    if record.checksum is None:
        return "unsealed: written before records had checksums (seal it with tools/seal_records.py)"
    return None


def check(record: Record, config: RunConfig | None = None, root: Path = provenance.REPO_ROOT) -> Record:
    """``record`` with ``mark`` set to :func:`untrusted_because` (None when it can be trusted)."""
    return dataclasses.replace(record, mark=untrusted_because(record, config, root))


def strict() -> bool:
    """Whether using a marked record is an error (``COMPANION_STRICT=1``, ``make book STRICT=1``)."""
    return os.environ.get(STRICT_ENV, "0") not in ("", "0")


def _usable(record: Record, path: Path) -> Record:
    if record.mark and strict():
        raise UntrustedRecordError(f"{path}: {record.mark}. Recompute it (FORCE=1, or force=True) or run "
                                   f"without STRICT=1 to show it marked.")
    return record


def _read_checked(path: Path, config: RunConfig | None) -> Record | None:
    return check(Record.load(path), config) if path.exists() else None


def stored(config: RunConfig, root: Path | None = None) -> Record | None:
    """The stored record for ``config`` (marked if untrusted), or None: never runs anything."""
    path = record_path(config, root)
    record = _read_checked(path, config)
    return None if record is None else _usable(record, path)


def _locked(path: Path) -> ContextManager[None]:
    """The per-record lock ``<root>/.locks/<experiment>-<key>.lock``: a second process asking for the same record waits."""
    return file_lock(path.parent.parent / ".locks" / f"{path.parent.name}-{path.stem}.lock")


def cached(config: RunConfig, run: RunFn, force: bool = False, root: Path | None = None) -> Record:
    """Return the stored record for ``config``, running ``run(config, checkpoint)`` first if needed.

    A trusted record is returned as it is; an untrusted one is recomputed with ``force=True`` and
    otherwise returned marked. A run that raises :class:`Diverged` gives a record with status
    ``"diverged"``. An interrupted run resumes from its checkpoint when called again (unless the code
    changed since it was written); the checkpoint is removed once the record is written.
    """
    path = record_path(config, root)
    existing = _read_checked(path, config)
    if existing is not None and existing.mark is None and not force:
        return existing
    seen = path.stat().st_mtime_ns if path.exists() else None
    with _locked(path):
        existing = _read_checked(path, config)
        if existing is not None:
            written_meanwhile = path.stat().st_mtime_ns != seen  # by another process, while this one waited
            if written_meanwhile and existing.mark is None:
                return existing
            if not force:
                return _usable(existing, path)
        record = compute(config, run, force, root)
        store(record, root)
        checkpoint_of(config, root).clear()
        return record


def checkpoint_of(config: RunConfig, root: Path | None = None) -> Checkpoint:
    """The checkpoint of ``config``'s run, next to its record, tied to the current code fingerprint."""
    code = fingerprint.current_fingerprint(config.experiment)
    return Checkpoint(record_path(config, root).with_suffix(".ckpt.pt"), fingerprint=code)


def compute(config: RunConfig, run: RunFn, force: bool = False, root: Path | None = None,
            executor: dict[str, Any] | None = None) -> Record:
    """Run ``config`` (resuming from its checkpoint unless ``force``) and return its sealed record, unwritten.

    A cluster worker returns this record to the driver, which ``store``s it (no shared file system needed).
    ``executor`` (backend, node) goes into the provenance, not into the key.
    """
    checkpoint = checkpoint_of(config, root)
    if force:
        checkpoint.clear()
    status = "ok"
    try:
        output = run(config, checkpoint)
        metrics, device, data = output.metrics, output.device, output.data_source
    except Diverged as diverged:
        status, metrics, data = "diverged", {"diverged": {"where": diverged.where, "what": diverged.what}}, {}
        device = resolve_device(getattr(config, "device", "auto"))
    metrics, non_finite = null_non_finite(metrics)
    if non_finite and status == "ok":
        status = "diverged"
        metrics["diverged"] = {"where": "final metrics", "what": f"non-finite values in {', '.join(non_finite[:5])}"}
    prov = provenance.collect(device, data, checkpoint.elapsed(), checkpoint.resumed)
    prov["code"] = {"fingerprint": checkpoint.fingerprint}
    prov["executor"] = executor or {"backend": "local", "node": platform.node()}
    if checkpoint.note:
        prov["checkpoint"] = checkpoint.note
    record = Record(experiment=config.experiment, key=config_key(config), config=dataclasses.asdict(config),
                    metrics=metrics, provenance=prov, status=status)
    return dataclasses.replace(record, checksum=content_checksum(record.stored_fields()))


def store(record: Record, root: Path | None = None) -> Path:
    """Write ``record`` atomically where ``stored`` finds it; return its path."""
    path = record.path(root)
    write_json(path, record.stored_fields())
    return path


def load_records(experiment: str, root: Path | None = None) -> list[Record]:
    """Every stored record of one experiment (each checked, marked if untrusted), oldest first."""
    paths = sorted((Path(root or results_dir()) / experiment).glob("*.json"))
    records = [_usable(check(Record.load(p)), p) for p in paths]
    return sorted(records, key=lambda r: r.provenance["date"])
