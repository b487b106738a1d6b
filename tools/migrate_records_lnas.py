"""One-off, kept: rewrite the DARTS / LNAS / search-cost run records made before the configs were nested.

    python tools/migrate_records_lnas.py [--root data/results] [--dry-run]

Issue 13 nested the CIFAR-10 configs (``data`` / ``search`` / ``training`` / ``sgd`` / ``pruning`` groups),
renamed the LNAS variants (``v1`` / ``v2`` / ``generalized`` -> ``variant1`` / ``variant2`` / ``algorithm3``)
and the accuracy metrics (``val_acc_best_mid`` -> ``val_acc_mid``, ...). Both change a record's key, so
every old record is rewritten under its new key: the config in the new structure (built by the library's
own config classes, so it is validated and keyed exactly as a new run would be), the metrics renamed, the
provenance untouched except for ``migrated_from`` (the old key). ``searched_by`` references are rewritten
to the new keys. A setting that does not map one-to-one stops the migration before anything is written.
Nothing is recomputed and nothing is added: diagnostics these runs never recorded stay absent. Records
already in the new structure are left alone, so running it twice changes nothing.
"""

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.experiments.darts_cifar10 import DartsCifarConfig  # noqa: E402
from lib.experiments.lnas import LnasConfig  # noqa: E402
from lib.experiments.profiles import build, flat  # noqa: E402
from lib.experiments.search_cost import SearchCostConfig  # noqa: E402
from lib.pipeline.atomic import write_json  # noqa: E402
from lib.pipeline.results import config_key  # noqa: E402
from tools import migration_cli  # noqa: E402

CLASSES = {"darts_cifar10": DartsCifarConfig, "lnas": LnasConfig, "lnas_search_cost": SearchCostConfig}
FIELDS = {  # old flat name -> new dotted name
    "experiment": "experiment", "profile": "profile", "seed": "seed", "device": "device", "threads": "threads",
    "channels_last": "channels_last", "data": "data.dataset", "image_size": "data.image_size", "n_val": "data.n_val",
    "n_search": "data.n_search", "n_train": "data.n_train", "n_test": "data.n_test", "space": "search.space",
    "n_nodes": "search.n_nodes", "search_C": "search.C", "search_cells": "search.cells", "search_epochs": "search.epochs",
    "search_batch": "search.batch", "order": "search.order", "train_C": "training.C", "train_cells": "training.cells",
    "train_epochs": "training.epochs", "train_batch": "training.batch", "augment": "training.augment",
    "lr": "sgd.lr", "momentum": "sgd.momentum", "weight_decay": "sgd.weight_decay",
    "variant": "variant", "sparsity": "sparsity", "weight_rounds": "pruning.weight_rounds",
    "weight_scope": "pruning.weight_scope", "path_scope": "pruning.path_scope", "steps": "steps", "warmup": "warmup",
}
VALUES = {"variant": {"v1": "variant1", "v2": "variant2", "generalized": "algorithm3"}}
METRICS = {"val_acc_best_mid": "val_acc_mid", "val_acc_best_final": "val_acc_final", "val_acc_last_mid": "val_acc_at_mid",
           "val_acc_last_final": "val_acc_at_final", "val_acc_best_after_pruning": "val_acc_after_pruning"}


def is_old(config: dict[str, Any]) -> bool:
    """A config made before the nesting: its data group is still the dataset's name."""
    return not isinstance(config.get("data"), dict)


def new_config(old: dict[str, Any]) -> Any:
    """The new config object holding exactly the old settings; raises if any setting does not map one-to-one."""
    unknown = sorted(set(old) - set(FIELDS))
    if unknown:
        raise ValueError(f"{old.get('experiment')}: no mapping for old field(s) {unknown}")
    nested: dict[str, Any] = {}
    for name, value in old.items():
        value = VALUES.get(name, {}).get(value, value)
        *group, leaf = FIELDS[name].split(".")
        (nested.setdefault(group[0], {}) if group else nested)[leaf] = value
    cfg = build(CLASSES[old["experiment"]], nested)
    expected = {FIELDS[k]: VALUES.get(k, {}).get(v, v) for k, v in old.items()}
    if flat(cfg) != expected:
        diff = sorted(set(flat(cfg).items()) ^ set(expected.items()), key=str)
        raise ValueError(f"{old['experiment']}: the new config does not hold exactly the old settings: {diff}")
    return cfg


def migrate(root: Path, dry_run: bool = False) -> list[tuple[str, str, str]]:
    """Rewrite every old record under ``root``; returns (experiment, old key, new key) per record."""
    plans = []
    for experiment in CLASSES:
        for path in sorted((root / experiment).glob("*.json")):
            record = json.loads(path.read_text())
            if is_old(record["config"]):
                plans.append((path, record, new_config(record["config"])))
    renamed = {f"{r['experiment']}/{r['key']}": f"{r['experiment']}/{config_key(cfg)}" for _, r, cfg in plans}
    targets = [root / r["experiment"] / f"{config_key(cfg)}.json" for _, r, cfg in plans]
    clashes = [t for t in targets if targets.count(t) > 1 or (t.exists() and t not in [p for p, _, _ in plans])]
    if clashes:
        raise FileExistsError(f"two records would share a key: {sorted(set(map(str, clashes)))}")
    done = []
    for (path, record, cfg), target in zip(plans, targets):
        metrics = {METRICS.get(k, k): v for k, v in record["metrics"].items()}
        if "searched_by" in metrics:
            metrics["searched_by"] = renamed.get(metrics["searched_by"], metrics["searched_by"])
        new = {"experiment": record["experiment"], "key": config_key(cfg), "config": dataclasses.asdict(cfg),
               "metrics": metrics, "provenance": {**record["provenance"], "migrated_from": record["key"]}}
        done.append((record["experiment"], record["key"], new["key"]))
        if not dry_run:
            write_json(target, new)
            if target != path:
                path.unlink()
    return done


def main(argv: list[str] | None = None) -> int:
    return migration_cli.run(__doc__, migrate, argv)


if __name__ == "__main__":
    sys.exit(main())
