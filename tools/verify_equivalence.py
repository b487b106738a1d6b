"""Recompute the DARTS / LNAS rows at the smoke profile with an old commit and with the current code, and
compare their metrics: the evidence behind vouching for records that old code computed.

    python tools/verify_equivalence.py --old COMMIT [--out report.json]

The old commit runs in a temporary git worktree (its own ``lib``), into one results folder; those records
are migrated to the current keys with ``tools/migrate_records_lnas.py``; the current code runs the same
rows into another folder. For every row the metrics present in both records are compared exactly, leaving
out wall-clock timings. Metrics only the current code records (new diagnostics) are listed, not compared.
Exit status 0 only when every compared metric is identical.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMING = ("time", "wall", "seconds", "_s")

OLD_ROWS = """
from lib import results
from lib.experiments import darts_cifar10, lnas
results.cached(darts_cifar10.DartsCifarConfig.for_profile("smoke"), darts_cifar10.run)
for variant in ("v2", "v1", "generalized"):
    results.cached(lnas.LnasConfig.for_profile("smoke", variant=variant, sparsity=0.5), lnas.run)
"""
NEW_ROWS = """
from lib.pipeline import results
from lib.experiments import darts_cifar10, lnas, lnas_algorithm3, lnas_variant1, lnas_variant2
results.cached(darts_cifar10.DartsCifarConfig.for_profile("smoke"), darts_cifar10.run)
for variant, run in (("variant2", lnas_variant2.run), ("variant1", lnas_variant1.run), ("algorithm3", lnas_algorithm3.run)):
    results.cached(lnas.LnasConfig.for_profile("smoke", variant=variant, sparsity=0.5), run)
"""


def run_rows(code: str, tree: Path, results: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree), "COMPANION_RESULTS_DIR": str(results), "TQDM_DISABLE": "1"}
    subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True)


def is_timing(name: str) -> bool:
    return any(part in name for part in TIMING)


def without_timing(value):
    """``value`` with every timing entry removed, at any depth (histories hold per-epoch seconds)."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if not is_timing(k)}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def compare(old: dict, new: dict) -> dict:
    old, new = without_timing(old), without_timing(new)
    shared = sorted(old.keys() & new.keys())
    differ = {k: {"old": old[k], "new": new[k]} for k in shared if old[k] != new[k]}
    return {"compared": len(shared), "differ": differ, "only_new": sorted(new.keys() - old.keys())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="the commit that computed the records to vouch for")
    parser.add_argument("--out", type=Path, help="write the comparison as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        worktree = tmp_path / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.old], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            run_rows(OLD_ROWS, worktree, tmp_path / "old_results")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=True)
        subprocess.run([sys.executable, str(ROOT / "tools" / "migrate_records_lnas.py"), "--root",
                        str(tmp_path / "old_results")], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        run_rows(NEW_ROWS, ROOT, tmp_path / "new_results")
        rows = {}
        for new_path in sorted((tmp_path / "new_results").glob("*/*.json")):
            old_path = tmp_path / "old_results" / new_path.parent.name / new_path.name
            name = f"{new_path.parent.name}/{new_path.stem}"
            if not old_path.exists():
                rows[name] = {"missing": "the old commit has no record under this key"}
                continue
            old, new = json.loads(old_path.read_text()), json.loads(new_path.read_text())
            rows[name] = {"row": new["config"].get("variant", "baseline"), **compare(old["metrics"], new["metrics"])}
    identical = all("missing" not in r and not r["differ"] for r in rows.values())
    report = {"old": args.old, "new": "working tree", "profile": "smoke", "identical": identical, "rows": rows}
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps({k: (v if k != "rows" else {n: {"compared": r.get("compared"), "differ": sorted(r.get("differ", {})),
                                                       "missing": r.get("missing")} for n, r in v.items()})
                      for k, v in report.items()}, indent=1))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
