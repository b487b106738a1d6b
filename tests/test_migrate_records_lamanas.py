"""tools/migrate_records_lamanas.py: a flat record lands under the nested config's key, nothing else changes."""

import dataclasses
import json
import sys

from lib.experiments.lamanas_config import LamanasConfig
from lib.pipeline.provenance import REPO_ROOT
from lib.pipeline.results import Record, config_key

sys.path.insert(0, str(REPO_ROOT / "tools"))
import migrate_records_lamanas as migration  # noqa: E402


def _flat(config: LamanasConfig) -> dict:
    """The config as the old code stored it: one flat dict (the inverse of the migration's mapping)."""
    flat = {name: getattr(config, name) for name in migration.TOP}
    for group, (_, names) in migration.GROUPS.items():
        flat.update({old: getattr(getattr(config, group), new) for new, old in names.items()})
    return json.loads(json.dumps(flat))


def test_a_flat_record_moves_to_its_nested_key_with_metrics_and_provenance_kept(tmp_path):
    config = LamanasConfig.for_profile("smoke", loss="fnn", residual=True, proxy="mse", seed=3)
    flat = _flat(config)
    old_key = migration.flat_key(flat)
    record = {"experiment": "lamanas", "key": old_key, "config": flat, "metrics": {"test_acc": 12.5},
              "provenance": {"git": {"commit": "abc"}, "wall_time_s": 1.0}}
    folder = tmp_path / "lamanas"
    folder.mkdir()
    (folder / f"{old_key}.json").write_text(json.dumps(record))
    assert migration.migrate(folder / f"{old_key}.json", dry_run=False) == f"{old_key} -> {config_key(config)}"
    migrated = Record.load(folder / f"{config_key(config)}.json")
    assert not (folder / f"{old_key}.json").exists()
    assert migrated.config == json.loads(json.dumps(dataclasses.asdict(config)))
    assert migrated.metrics == record["metrics"]
    assert migrated.provenance == {**record["provenance"], "migrated_from": old_key}
    assert "already nested" in migration.migrate(folder / f"{config_key(config)}.json", dry_run=False)


def test_a_record_whose_name_does_not_match_its_config_is_left_alone(tmp_path):
    flat = _flat(LamanasConfig.for_profile("smoke"))
    path = tmp_path / "0000000000000000.json"
    path.write_text(json.dumps({"experiment": "lamanas", "key": "0000000000000000", "config": flat,
                                "metrics": {}, "provenance": {}}))
    assert "NOT migrated" in migration.migrate(path, dry_run=False) and path.exists()
