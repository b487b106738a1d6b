"""Run records cached under ``data/results/<experiment>/<key>.json``, keyed by a hash of the config.

A record holds the full config, the metrics the run returned and its provenance (git commit, data
source and checksum, device, software versions, wall time, date). Re-running a notebook with the same
config reuses the record; ``force=True`` recomputes it. Fields that change *how* a run executes but not
*what* it computes (``device``, ``threads``) are left out of the key, so a cache made on a CPU is reused
on a GPU machine; the device actually used is in the provenance. ``COMPANION_RESULTS_DIR`` moves the
cache elsewhere (the notebook tests use a fresh temporary one, so they always compute).
"""

import dataclasses
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import torch

from lib.pipeline import provenance
from lib.pipeline.atomic import write_json
from lib.pipeline.checkpoint import Checkpoint

DEFAULT_RESULTS_DIR = provenance.REPO_ROOT / "data" / "results"


def results_dir() -> Path:
    """``$COMPANION_RESULTS_DIR`` if set (read at each call, so child processes and tests follow it), else data/results."""
    return Path(os.environ.get("COMPANION_RESULTS_DIR", DEFAULT_RESULTS_DIR))
EXECUTION_FIELDS = frozenset({"device", "threads", "channels_last"})


class RunConfig(Protocol):
    """What ``cached`` needs of a config: a dataclass with an experiment name."""

    experiment: str


@dataclass(frozen=True)
class RunOutput:
    """What a run function returns: its metrics, the data it used and the device it ran on."""

    metrics: dict[str, Any]
    data_source: dict[str, Any]
    device: torch.device


@dataclass(frozen=True)
class Record:
    """A finished run as stored on disk."""

    experiment: str
    key: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    provenance: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> "Record":
        return cls(**json.loads(Path(path).read_text()))


RunFn = Callable[[Any, Checkpoint], RunOutput]


def config_key(config: RunConfig) -> str:
    """A 16-hex-digit hash of the config's result-determining fields (canonical JSON)."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in EXECUTION_FIELDS}
    canonical = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def record_path(config: RunConfig, root: Path | None = None) -> Path:
    return Path(root or results_dir()) / config.experiment / f"{config_key(config)}.json"


def cached(config: RunConfig, run: RunFn, force: bool = False, root: Path | None = None) -> Record:
    """Return the stored record for ``config``, running ``run(config, checkpoint)`` first if needed.

    An interrupted run resumes from its checkpoint (``<key>.ckpt.pt``) when called again; the record
    is written atomically and the checkpoint removed only after the run finished.
    """
    existing = None if force else stored(config, root)
    if existing is not None:
        return existing
    record = compute(config, run, force, root)
    store(record, root)
    checkpoint_of(config, root).clear()
    return record


def checkpoint_of(config: RunConfig, root: Path | None = None) -> Checkpoint:
    """The checkpoint of ``config``'s run, next to its record."""
    return Checkpoint(record_path(config, root).with_suffix(".ckpt.pt"))


def compute(config: RunConfig, run: RunFn, force: bool = False, root: Path | None = None,
            executor: dict[str, Any] | None = None) -> Record:
    """Run ``config`` (resuming from its checkpoint unless ``force``) and return its record without writing it.

    A cluster worker returns this record to the driver, which ``store``s it (no shared file system needed).
    ``executor`` (backend, node) goes into the provenance, not into the key.
    """
    checkpoint = checkpoint_of(config, root)
    if force:
        checkpoint.clear()
    resumed = checkpoint.path.exists()
    start = time.perf_counter()
    output = run(config, checkpoint)
    return Record(
        experiment=config.experiment,
        key=config_key(config),
        config=dataclasses.asdict(config),
        metrics=output.metrics,
        provenance={**provenance.collect(output.device, output.data_source, time.perf_counter() - start, resumed),
                    "executor": executor or {"backend": "local", "node": platform.node()}},
    )


def store(record: Record, root: Path | None = None) -> Path:
    """Write ``record`` atomically where ``stored`` finds it; return its path."""
    path = Path(root or results_dir()) / record.experiment / f"{record.key}.json"
    write_json(path, dataclasses.asdict(record))
    return path


def stored(config: RunConfig, root: Path | None = None) -> Record | None:
    """The stored record for ``config``, or None: never runs anything (scorecard, cache-only builds)."""
    path = record_path(config, root)
    return Record.load(path) if path.exists() else None


def load_records(experiment: str, root: Path | None = None) -> list[Record]:
    """Every stored record of one experiment, oldest first."""
    paths = sorted((Path(root or results_dir()) / experiment).glob("*.json"))
    records = [Record.load(p) for p in paths]
    return sorted(records, key=lambda r: r.provenance["date"])
