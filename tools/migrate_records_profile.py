"""One-off, kept: the records of the sizes once called ``cpu`` relabelled ``small`` (issue 15 renamed that profile).

    python tools/migrate_records_profile.py [--root data/results] [--dry-run]

Issue 15 made ``cpu`` the evidence profile and gave its former sizes the name ``small``. A profile's name is part
of a record's key, so the runs made at those sizes are no longer found. For every run the ``small`` profile asks
for (its evidence queue with the measurement runs, :mod:`lib.experiments.evidence`), a record stored under the same config labelled ``cpu``
is rewritten under the ``small`` key when it is trusted (current code, sealed, unaltered): the config's
``profile`` field changed and nothing else, ``provenance.migrated_from`` naming the old key and why, the checksum
recomputed; ``searched_by`` references follow their records. Stale, altered and unsealed records are left alone
(their runs are recomputed). Running it twice changes nothing.
"""

import dataclasses
import sys
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.experiments import evidence  # noqa: E402
from lib.experiments.checks import ConfigError  # noqa: E402
from lib.pipeline import results  # noqa: E402
from lib.pipeline.atomic import write_json  # noqa: E402
from lib.pipeline.results import Record, config_key, content_checksum, record_path  # noqa: E402
from tools import migration_cli  # noqa: E402

WHY = "profile 'cpu' renamed 'small' (issue 15): the same settings under the new name"


def plans(root: Path, old: str = "cpu", new: str = "small") -> Iterator[tuple[Path, Record, Any]]:
    """(old path, trusted record, config at ``new``) for every run of ``new`` stored only under ``old``."""
    for item in evidence.queue(new):
        wanted = item.config
        try:
            before = dataclasses.replace(wanted, profile=old)
        except ConfigError:  # a measurement curve names its profile's settings (``resolved``): they differ
            continue
        path = record_path(before, root)
        if path.exists() and not record_path(wanted, root).exists():
            record = results.check(Record.load(path), before)
            if record.mark is None:
                yield path, record, wanted


def relabelled(record: Record, config: Any, renamed: dict[str, str]) -> Record:
    metrics = dict(record.metrics)
    if "searched_by" in metrics:
        metrics["searched_by"] = renamed.get(metrics["searched_by"], metrics["searched_by"])
    out = Record(record.experiment, config_key(config), dataclasses.asdict(config), metrics,
                 {**record.provenance, "migrated_from": {"key": record.key, "why": WHY}})
    return dataclasses.replace(out, checksum=content_checksum(out.stored_fields()))


def migrate(root: Path, dry_run: bool = False) -> list[tuple[str, str, str]]:
    todo = list(plans(root))
    renamed = {f"{r.experiment}/{r.key}": f"{r.experiment}/{config_key(c)}" for _, r, c in todo}
    done = []
    for path, record, config in todo:
        new = relabelled(record, config, renamed)
        done.append((record.experiment, record.key, new.key))
        if not dry_run:
            write_json(record_path(config, root), new.stored_fields())
            path.unlink()
    return done


def main(argv: list[str] | None = None) -> int:
    return migration_cli.run(__doc__, migrate, argv)


if __name__ == "__main__":
    sys.exit(main())
