"""tools/prune_records.py: a stale record no queued run asks for is removed; every other record stays."""

import dataclasses

from lib.experiments import evidence
from lib.experiments.darts_cifar10 import DartsCifarConfig
from lib.pipeline import fingerprint, results
from lib.pipeline.atomic import write_json
from lib.pipeline.results import Record, content_checksum, record_path
from tools import prune_records


def _stored(config, root, code: str, checksum_ok: bool = True) -> None:
    record = Record(config.experiment, results.config_key(config), dataclasses.asdict(config), {"test_acc_last": 48.0},
                    {"git": {"commit": "x", "lib_dirty": False}, "code": {"fingerprint": code}, "date": "2026-01-01"})
    record = dataclasses.replace(record, checksum=content_checksum(record.stored_fields()) if checksum_ok else "0" * 64)
    write_json(record_path(config, root), record.stored_fields())


def test_only_stale_records_that_no_queued_run_asks_for_are_removed(tmp_path, capsys):
    current = fingerprint.current_fingerprint("darts_cifar10")
    queued = DartsCifarConfig.for_profile("cpu", seed=0)
    assert record_path(queued) in {record_path(i.config) for i in evidence.queue("cpu")}
    unqueued = {s: DartsCifarConfig.for_profile("cpu", seed=s) for s in (7, 8, 9)}
    assert not {record_path(c) for c in unqueued.values()} & {record_path(i.config) for i in evidence.queue("cpu")}
    other_profile = DartsCifarConfig.for_profile("small", seed=7)
    _stored(queued, tmp_path, "old")  # stale, but a queued run asks for it: re-run, not removed
    _stored(unqueued[7], tmp_path, "old")  # stale and asked for by nothing: removed
    _stored(unqueued[8], tmp_path, current)  # trusted
    _stored(unqueued[9], tmp_path, current, checksum_ok=False)  # altered: a reader must see it marked
    _stored(other_profile, tmp_path, "old")  # another profile's

    assert prune_records.main(["--profile", "cpu", "--root", str(tmp_path), "--dry-run"]) == 0
    assert record_path(unqueued[7], tmp_path).exists()  # a dry run removes nothing
    assert prune_records.main(["--profile", "cpu", "--root", str(tmp_path)]) == 0
    log = capsys.readouterr().out.splitlines()
    key = results.config_key(unqueued[7])
    assert log == [f"darts_cifar10/{key}: stale: computed with code old, now {current} (dry run)",
                   f"darts_cifar10/{key}: stale: computed with code old, now {current}"]
    assert not record_path(unqueued[7], tmp_path).exists()
    kept = [queued, unqueued[8], unqueued[9], other_profile]
    assert all(record_path(c, tmp_path).exists() for c in kept)
    assert prune_records.main(["--profile", "cpu", "--root", str(tmp_path)]) == 0 and capsys.readouterr().out == ""
