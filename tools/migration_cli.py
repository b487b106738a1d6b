"""The command line every record migration shares: ``--root`` and ``--dry-run``, one line per record moved."""

import argparse
from pathlib import Path
from typing import Callable

from lib.pipeline.results import results_dir

Migrate = Callable[[Path, bool], list[tuple[str, str, str]]]  # (root, dry_run) -> (experiment, old key, new key)


def run(doc: str, migrate: Migrate, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="results folder (default: data/results)")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    for experiment, old, new in migrate(args.root or results_dir(), args.dry_run):
        print(f"{experiment}: {old} -> {new}")
    return 0
