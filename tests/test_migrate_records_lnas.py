"""The one-off record migration: old flat records land under the key a new run would use, nothing invented."""

import json
import sys
from pathlib import Path

import pytest

from lib.experiments.lnas import LnasConfig
from lib.pipeline import results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import migrate_records_lnas as migration  # noqa: E402

OLD_BASELINE = {
    "experiment": "darts_cifar10", "profile": "smoke", "seed": 0, "device": "auto", "threads": 1, "channels_last": False,
    "data": "synthetic", "image_size": 16, "n_val": 64, "n_search": 64, "n_train": 128, "n_test": 64, "space": "darts",
    "n_nodes": 2, "search_C": 4, "search_cells": 2, "search_epochs": 2, "search_batch": 16, "order": "first",
    "train_C": 4, "train_cells": 2, "train_epochs": 2, "train_batch": 32, "augment": False, "lr": 0.025,
    "momentum": 0.9, "weight_decay": 3e-4}
OLD_V1 = {**OLD_BASELINE, "experiment": "lnas", "variant": "v1", "sparsity": 0.5, "weight_rounds": 1,
          "weight_scope": "layer", "path_scope": "global"}


def _write(root: Path, config: dict, key: str, metrics: dict) -> None:
    record = {"experiment": config["experiment"], "key": key, "config": config, "metrics": metrics,
              "provenance": {"date": "2026-01-01", "git": {"commit": "abc"}}}
    (root / config["experiment"]).mkdir(parents=True, exist_ok=True)
    (root / config["experiment"] / f"{key}.json").write_text(json.dumps(record))


def test_old_records_move_to_the_new_keys_with_renamed_metrics(tmp_path):
    _write(tmp_path, OLD_BASELINE, "0000000000000001", {"val_acc_best_final": 50.0, "genotype": "g"})
    _write(tmp_path, OLD_V1, "0000000000000002", {"val_acc_best_mid": 30.0, "val_acc_last_final": 44.0,
                                                  "searched_by": "darts_cifar10/0000000000000001"})
    assert len(migration.migrate(tmp_path)) == 2
    cfg = LnasConfig.for_profile("smoke", variant="variant1", sparsity=0.5)
    v1 = results.stored(cfg, root=tmp_path)
    base = results.stored(cfg.baseline(), root=tmp_path)
    assert v1.metrics == {"val_acc_mid": 30.0, "val_acc_at_final": 44.0, "searched_by": f"darts_cifar10/{base.key}"}
    assert base.metrics == {"val_acc_final": 50.0, "genotype": "g"}  # nothing added
    assert base.provenance == {"date": "2026-01-01", "git": {"commit": "abc"}, "migrated_from": "0000000000000001"}
    assert sorted(p.name for p in (tmp_path / "lnas").iterdir()) == [f"{v1.key}.json"]
    assert migration.migrate(tmp_path) == []  # already migrated: nothing to do


def test_a_setting_without_a_mapping_stops_before_anything_is_written(tmp_path):
    _write(tmp_path, {**OLD_BASELINE, "dropout": 0.1}, "0000000000000003", {})
    with pytest.raises(ValueError, match="no mapping for old field"):
        migration.migrate(tmp_path)
    assert [p.name for p in (tmp_path / "darts_cifar10").iterdir()] == ["0000000000000003.json"]
