"""Remove a profile's stale records that no run of it asks for any more: runs a re-run or a change of settings
has superseded.

    python tools/prune_records.py --profile cpu [--root data/results] [--dry-run]

The records page lists every record of a profile and its download holds them all, so a record that no chapter
reads still reaches a reader. When it is *stale* (made by code that is no longer the current code) and no run
of the profile's evidence queue (every row, seed, control and measurement the book reads:
:mod:`lib.experiments.evidence`) asks for it, it is superseded: its run was recomputed under another key, or its
settings are no longer the profile's (the runs made at the sizes once called ``cpu``, now ``small``, before
their code changed: ``tools/migrate_records_profile.py`` relabelled only the trusted ones). This removes such
records, one line each; git history keeps them. Trusted, altered and unsealed records, and every record a
queued run asks for, are left alone.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.experiments import evidence  # noqa: E402
from lib.experiments.profiles import PROFILES  # noqa: E402
from lib.pipeline.results import Record, record_path, results_dir  # noqa: E402
from lib.report.export import profile_records  # noqa: E402


def superseded(profile: str, root: Path) -> list[Record]:
    """The stale records of ``profile`` under ``root`` that no run of its evidence queue asks for."""
    asked = {record_path(item.config, root) for item in evidence.queue(profile)}
    return [r for r in profile_records(profile, source=root) if r.is_stale and r.path(root) not in asked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", required=True, choices=PROFILES)
    parser.add_argument("--root", type=Path, default=None, help="results folder (default: data/results)")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    root = args.root or results_dir()
    for record in superseded(args.profile, root):
        print(f"{record.experiment}/{record.key}: {record.mark}{' (dry run)' if args.dry_run else ''}")
        if not args.dry_run:
            record.path(root).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
