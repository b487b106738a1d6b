"""Seal run records written before records had checksums and code fingerprints.

    python tools/seal_records.py [--root DIR] [--dry-run] [--vouch "REASON" [--since COMMIT] [--except FIELD=VALUE ...]
                                 | --refingerprint]

For each ``<root>/<experiment>/<key>.json`` without a ``checksum``: the code fingerprint is that of the
record's commit, read from git (:func:`lib.pipeline.fingerprint.commit_fingerprint`), or ``"unknown"``
when its provenance says lib had local edits (or git does not have the commit); it is stored in
``provenance.code`` with how it was obtained, then the checksum of the whole record is added. A record
that already has a checksum is left alone (an altered one is reported, never re-sealed: that would
launder the edit). Running it twice changes nothing the second time.

``--vouch REASON`` is the one way to keep a stale record without recomputing it: for sealed, unaltered
records whose fingerprint differs from the current code's, it records the current fingerprint with
``computed_with`` (the old one) and ``vouched`` (the reason, e.g. "config validation added, no
computation changed"), which the source line under each table shows. Use it only for a change that
cannot alter results, and say so in the reason. Narrow it so the reason covers exactly what it vouches for:
``--since COMMIT`` vouches only for records computed by the code at COMMIT (their fingerprint is COMMIT's), so the
reason need only cover the diff from COMMIT to now; ``--except FIELD=VALUE`` (repeatable) leaves the records whose
config has that value (e.g. ``variant=variant2``: the runs the change does alter) stale, for the sweep to re-run.

``--refingerprint`` is its checked form for a change of the fingerprint *function* (e.g. when it was made the
same on every Python version): a stale record is re-fingerprinted only when its commit is in this clone, its
lib was not edited (``lib_dirty`` not true), and the current function gives that commit's source the current
fingerprint, i.e. the record was computed by the code there is now; every other record stays stale.
"""

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from lib.pipeline import fingerprint
from lib.pipeline.atomic import write_json
from lib.pipeline.provenance import REPO_ROOT
from lib.pipeline.results import Record, content_checksum, results_dir


def _sealed(record: Record, code: dict) -> Record:
    unsealed = replace(record, provenance={**record.provenance, "code": code}, checksum=None)
    return replace(unsealed, checksum=content_checksum(unsealed.stored_fields()))


def seal(record: Record, repo: Path = REPO_ROOT) -> Record:
    """``record`` with its code fingerprint (from git at its commit) and checksum."""
    git = record.provenance.get("git") or {}
    commit = str(git.get("commit"))
    if git.get("lib_dirty") is False:
        code = {"fingerprint": fingerprint.commit_fingerprint(commit, record.experiment, repo),
                "how": f"commit {commit[:10]} read from git by tools/seal_records.py"}
    else:
        code = {"fingerprint": fingerprint.UNKNOWN,
                "how": f"lib had local edits at commit {commit[:10]} (or no git state): code unknown"}
    return _sealed(record, code)


def vouch(record: Record, reason: str, repo: Path = REPO_ROOT) -> Record:
    """``record`` declared computed by the current code (``reason`` and the old fingerprint kept beside it; an
    earlier vouch is kept whole under ``earlier``, so the chain back to the code that ran stays readable)."""
    previous = record.provenance["code"]
    code = {"fingerprint": fingerprint.current_fingerprint(record.experiment, repo),
            "computed_with": previous["fingerprint"], "vouched": reason}
    return _sealed(record, code | ({"earlier": previous} if "vouched" in previous else {}))


def refingerprint(record: Record, repo: Path = REPO_ROOT) -> Record | None:
    """``record`` with the current fingerprint if the source at its commit is the current source (else None)."""
    git = record.provenance.get("git") or {}
    commit, now = str(git.get("commit")), fingerprint.current_fingerprint(record.experiment, repo)
    if git.get("lib_dirty") is True or fingerprint.commit_fingerprint(commit, record.experiment, repo) != now:
        return None
    return vouch(record, fingerprint.SAME_SOURCE.format(commit=commit[:10]), repo)


def _setting(config: dict, field: str) -> object:
    """``config``'s value at a dotted ``field`` (e.g. ``pruning.path_scope``); a missing one is ``<absent>``."""
    value: object = config
    for part in field.split("."):
        value = value.get(part, "<absent>") if isinstance(value, dict) else "<absent>"
    return value


@dataclass(frozen=True)
class Scope:
    """Which stale records ``--vouch`` may vouch for: computed by the code at ``since`` (any code when None),
    and with none of the ``excluded`` (config field, value) pairs."""

    since: str | None = None
    excluded: tuple[tuple[str, str], ...] = ()

    def matches(self, record: Record) -> list[str]:
        """The ``FIELD=VALUE`` exclusions ``record``'s config meets (a dotted FIELD reads a nested setting)."""
        return [f"{k}={v}" for k, v in self.excluded if str(_setting(record.config, k)) == v]

    def refusal(self, record: Record, repo: Path) -> str | None:
        """Why ``record`` is outside the scope (a word for the log), or None."""
        hits = self.matches(record)
        if hits:
            return f"left stale (excluded: {', '.join(hits)})"
        if self.since and record.code_fingerprint != fingerprint.commit_fingerprint(self.since, record.experiment, repo):
            return f"left stale (not computed by the code at {self.since[:10]})"
        return None


def process(path: Path, repo: Path, reason: str | None, recompute: bool = False,
            scope: Scope = Scope()) -> tuple[str, Record | None]:
    """What to do with one record file: (a word for the log, the record to write or None)."""
    record = Record.load(path)
    if record.checksum is None:
        record = seal(record, repo)
        if reason is None:
            return f"sealed (code {record.provenance['code']['fingerprint']})", record
    elif content_checksum(record.stored_fields()) != record.checksum:
        return "ALTERED: content does not match its checksum; left as it is", None
    old = record.provenance["code"]["fingerprint"]
    if recompute and old != fingerprint.current_fingerprint(record.experiment, repo):
        again = refingerprint(record, repo)
        return ("re-fingerprinted (same source as now)", again) if again else ("stale: its source differs", None)
    if reason is not None:
        if old != fingerprint.current_fingerprint(record.experiment, repo):
            refusal = scope.refusal(record, repo)
            if refusal:
                return refusal, None
            return f"vouched (code {old} declared equal to the current)", vouch(record, reason, repo)
    return "sealed already", None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="results folder (default: data/results)")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    parser.add_argument("--vouch", metavar="REASON", help="declare stale records computed by the current code")
    parser.add_argument("--since", metavar="COMMIT", help="with --vouch: only records computed by the code at COMMIT")
    parser.add_argument("--except", dest="excluded", metavar="FIELD=VALUE", action="append", default=[],
                        help="with --vouch: leave records whose config has FIELD=VALUE stale (repeatable)")
    parser.add_argument("--refingerprint", action="store_true",
                        help="re-fingerprint stale records whose commit's source is the current source")
    args = parser.parse_args(argv)
    if args.vouch is not None and args.refingerprint:
        parser.error("--vouch and --refingerprint exclude each other")
    if args.vouch is not None and not args.vouch.strip():
        parser.error("--vouch needs a reason")
    if (args.since or args.excluded) and args.vouch is None:
        parser.error("--since and --except narrow --vouch; give --vouch REASON")
    if any("=" not in e for e in args.excluded):
        parser.error(f"--except takes FIELD=VALUE, got {[e for e in args.excluded if '=' not in e]}")
    if args.since and fingerprint.commit_tree(args.since, args.repo) is None:
        parser.error(f"--since {args.since}: git cannot show that commit here; give a commit of this clone")
    scope = Scope(args.since, tuple(tuple(e.split("=", 1)) for e in args.excluded))
    root = args.root or results_dir()
    paths = sorted(p for p in root.glob("*/*.json") if not p.parent.name.startswith("."))  # not .running/
    unmatched = set(args.excluded) - {hit for path in paths for hit in scope.matches(Record.load(path))}
    if unmatched:
        parser.error(f"--except {', '.join(sorted(unmatched))} matches no record: check the field and how its value "
                     "is written in the records' config (a dotted field reads a nested setting)")
    altered = 0
    for path in paths:
        done, record = process(path, args.repo, args.vouch, args.refingerprint, scope)
        altered += done.startswith("ALTERED")
        if record is not None and not args.dry_run:
            write_json(path, record.stored_fields())
        if done != "sealed already":
            print(f"{path.relative_to(root)}: {done}")
    return 1 if altered else 0


if __name__ == "__main__":
    sys.exit(main())
