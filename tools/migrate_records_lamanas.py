"""One-off (kept): rewrite LAMANAS run records from the flat config to the nested LamanasConfig and its keys.

    python tools/migrate_records_lamanas.py [--root data/results] [--dry-run]

Each record under ``<root>/lamanas/`` whose config is still flat is rebuilt as a ``LamanasConfig`` from the
same values (settings the flat config did not name, e.g. the task learner's Adam betas, take the defaults
the old code used: TaskLearnerSettings' own); the record is written atomically under its new key, with
``provenance.migrated_from`` = the old key and the provenance otherwise untouched, and only then is the old
file removed. Metrics are kept as they are: diagnostics the run never recorded (phi/alpha movement per
meta-epoch) stay absent and the book shows them as "not recorded". A record already nested is skipped.
Before it writes anything the script checks that each old key is the hash of the old config, so a record
whose file name does not match its content is reported, not migrated.
"""

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.experiments.lamanas_config import (DataSettings, LamanasConfig, MetaTestSettings,  # noqa: E402
                                            SupernetSettings)
from lib.meta.reptile import ReptileSettings  # noqa: E402
from lib.meta.task_learner import TaskLearnerSettings  # noqa: E402
from lib.pipeline.atomic import write_json  # noqa: E402
from lib.pipeline.results import EXECUTION_FIELDS, config_key, results_dir  # noqa: E402

TOP = ("experiment", "profile", "seed", "device", "threads", "loss", "residual", "proxy", "authors_code",
       "label_encoding", "snapshot_epochs")
GROUPS: dict[str, tuple[type, dict[str, str]]] = {  # new group: (settings class, {new field: old flat field})
    "data": (DataSettings, {"dataset": "data", "class_split": "class_split", "rotations": "rotations",
                            "image_size": "image_size", "ways": "ways", "shots_train": "shots_train",
                            "shots_test": "shots_test", "queries": "queries"}),
    "supernet": (SupernetSettings, {"C": "C", "n_cells": "n_cells", "n_nodes": "n_nodes",
                                    "reduction_cells": "reduction_cells", "pairwise_inputs": "pairwise_inputs",
                                    "op_prune_threshold": "op_prune_threshold"}),
    "task": (TaskLearnerSettings, {"steps": "task_steps", "batch_size": "batch_size", "w_lr": "w_lr",
                                   "alpha_lr": "alpha_lr", "alpha_weight_decay": "alpha_weight_decay",
                                   "phi_lr": "phi_lr", "t_max": "t_max", "t_min": "t_min",
                                   "drop_path_prob": "drop_path_prob", "proxy_weights": "proxy_weights"}),
    "reptile": (ReptileSettings, {"meta_epochs": "meta_epochs", "meta_batch_size": "meta_batch_size",
                                  "theta_meta_lr": "theta_meta_lr", "alpha_meta_lr": "alpha_meta_lr",
                                  "phi_meta_lr": "phi_meta_lr"}),
    "meta_test": (MetaTestSettings, {"tasks": "test_tasks", "steps": "test_steps", "batch_size": "batch_size_test"}),
}
TUPLES = ("reduction_cells", "snapshot_epochs")


def flat_key(flat: dict[str, Any]) -> str:
    """The key the old code gave a flat config (lib/pipeline/results.config_key on its fields)."""
    fields = {k: v for k, v in flat.items() if k not in EXECUTION_FIELDS}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


def nested_config(flat: dict[str, Any]) -> LamanasConfig:
    """The LamanasConfig holding exactly the flat config's values; every flat field is used once."""
    value = lambda name: tuple(flat[name]) if name in TUPLES else flat[name]
    groups = {group: cls(**{new: value(old) for new, old in names.items()}) for group, (cls, names) in GROUPS.items()}
    used = set(TOP) | {old for _, names in GROUPS.values() for old in names.values()}
    if set(flat) != used:
        raise ValueError(f"flat config fields not mapped: {sorted(set(flat) - used)}; missing: {sorted(used - set(flat))}")
    return LamanasConfig(**{name: value(name) for name in TOP}, **groups)


def migrate(path: Path, dry_run: bool) -> str:
    """Rewrite one record; returns a line saying what happened."""
    record = json.loads(path.read_text())
    if "supernet" in record["config"]:
        return f"{path.name}: already nested, skipped"
    old_key = record["key"]
    if flat_key(record["config"]) != old_key or path.stem != old_key:
        return f"{path.name}: key {old_key} does not match its config; NOT migrated"
    config = nested_config(record["config"])
    new_key = config_key(config)
    target = path.with_name(f"{new_key}.json")
    if not dry_run:
        migrated = {**record, "key": new_key, "config": dataclasses.asdict(config),
                    "provenance": {**record["provenance"], "migrated_from": old_key}}
        write_json(target, migrated)
        path.unlink()
    return f"{old_key} -> {new_key}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=results_dir(), help="results directory (default: data/results)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    args = parser.parse_args()
    for path in sorted((args.root / "lamanas").glob("*.json")):
        print(migrate(path, args.dry_run))


if __name__ == "__main__":
    main()
