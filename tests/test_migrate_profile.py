"""tools/migrate_records_profile.py: trusted runs labelled with the old profile name move to the new name's key."""

import dataclasses

from lib.experiments.darts_cifar10 import DartsCifarConfig
from lib.pipeline import fingerprint, results
from lib.pipeline.atomic import write_json
from lib.pipeline.results import Record, content_checksum, record_path
from tools import migrate_records_profile as migration


def _stored(config, root, metrics, checksum_ok=True) -> Record:
    code = {"fingerprint": fingerprint.current_fingerprint(config.experiment)}
    record = Record(config.experiment, results.config_key(config), dataclasses.asdict(config), metrics,
                    {"git": {"commit": "x", "lib_dirty": False}, "code": code})
    record = dataclasses.replace(record, checksum=content_checksum(record.stored_fields()) if checksum_ok else "0" * 64)
    write_json(record_path(config, root), record.stored_fields())
    return record


def test_a_trusted_record_is_relabelled_and_an_altered_one_left_alone(tmp_path):
    small = [DartsCifarConfig.for_profile("small", seed=s) for s in (0, 1)]
    old = [dataclasses.replace(c, profile="cpu") for c in small]
    _stored(old[0], tmp_path, {"test_acc_last": 48.0})
    _stored(old[1], tmp_path, {"test_acc_last": 47.0}, checksum_ok=False)
    done = migration.migrate(tmp_path)
    assert [(e, new) for e, _, new in done] == [("darts_cifar10", results.config_key(small[0]))]
    moved = results.check(Record.load(record_path(small[0], tmp_path)), small[0])
    assert moved.mark is None and moved.metrics == {"test_acc_last": 48.0} and moved.config["profile"] == "small"
    assert moved.provenance["migrated_from"]["key"] == results.config_key(old[0])
    assert not record_path(old[0], tmp_path).exists() and record_path(old[1], tmp_path).exists()
    assert migration.migrate(tmp_path) == []  # twice changes nothing
