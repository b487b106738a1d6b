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
    path = record_path(config, root)
    checkpoint = Checkpoint(path.with_suffix(".ckpt.pt"))
    if force:
        checkpoint.clear()
    resumed = checkpoint.path.exists()
    start = time.perf_counter()
    output = run(config, checkpoint)
    record = Record(
        experiment=config.experiment,
        key=config_key(config),
        config=dataclasses.asdict(config),
        metrics=output.metrics,
        provenance=provenance.collect(output.device, output.data_source, time.perf_counter() - start, resumed),
    )
    write_json(path, dataclasses.asdict(record))
    checkpoint.clear()
    return record


def stored(config: RunConfig, root: Path | None = None) -> Record | None:
    """The stored record for ``config``, or None: never runs anything (scorecard, cache-only builds)."""
    path = record_path(config, root)
    return Record.load(path) if path.exists() else None


def load_records(experiment: str, root: Path | None = None) -> list[Record]:
    """Every stored record of one experiment, oldest first."""
    paths = sorted((Path(root or results_dir()) / experiment).glob("*.json"))
    records = [Record.load(p) for p in paths]
    return sorted(records, key=lambda r: r.provenance["date"])
