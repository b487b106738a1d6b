"""A whole row of the small profile (the cpu profile's sizes when issue 9 was filed), before and after the speed work.

    python benchmarks/row_before_after.py [--old 54114c7] [--rows lamanas lnas] [--json benchmarks/row_before_after.json]

For each row the code of commit ``--old`` (its ``lib`` exported with ``git archive``) and the current code run the
same configuration at the same time, one one-thread process each, into fresh result folders, so both see the same
machine load (run it with nothing else on the machine: two processes for two cores). The row is the baseline:
LAMANAS Algorithm 2 with cross-entropy, and the DARTS search + retraining of LNAS. At the old commit the sizes were
the profile named ``cpu``; today they are ``small`` (same settings; the old and new configs are printed).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = {  # row -> (code at the old commit, code now); each prints its config's settings on its last line
    "lamanas": ("from lib.experiments.lamanas import LamanasConfig as C, run",
                "from lib.experiments.lamanas_config import LamanasConfig as C\nfrom lib.experiments.lamanas import algorithm2 as run"),
    "lnas": ("from lib.experiments.darts_cifar10 import DartsCifarConfig as C, run",
             "from lib.experiments.darts_cifar10 import DartsCifarConfig as C, run"),
}
RUN = """
{imports}
import json
from lib.pipeline import results
cfg = C.for_profile({profile!r}, threads=1)
record = results.cached(cfg, run)
print(json.dumps({{"wall_s": record.provenance["wall_time_s"]}}))
"""


def export(commit: str, into: Path) -> Path:
    """``lib`` of ``commit`` under ``into`` (a directory ``import lib`` finds)."""
    archive = subprocess.run(["git", "archive", commit, "lib"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def start(code_root: Path, code: str, results: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(code_root), "COMPANION_RESULTS_DIR": str(results), "TQDM_DISABLE": "1",
           "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code], cwd=code_root, env=env, stdout=subprocess.PIPE, text=True)


def row(name: str, old_root: Path, scratch: Path) -> dict:
    old_imports, new_imports = ROWS[name]
    runs = {"before": start(old_root, RUN.format(imports=old_imports, profile="cpu"), scratch / f"{name}-before"),
            "after": start(ROOT, RUN.format(imports=new_imports, profile="small"), scratch / f"{name}-after")}
    began = time.perf_counter()
    out = {}
    for label, process in runs.items():
        stdout, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"{name} {label} failed (exit {process.returncode})")
        out[label] = {"wall_s": json.loads(stdout.strip().splitlines()[-1])["wall_s"],
                      "process_s": round(time.perf_counter() - began, 1)}
    return {"row": name, **out, "ratio": out["after"]["wall_s"] / out["before"]["wall_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="54114c7", help="the commit before the speed work of issue 9")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "row_before_after.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_root = export(args.old, Path(tmp))
        rows = [row(name, old_root, Path(tmp)) for name in args.rows]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report = {"old": args.old, "new": commit, "cpu_count": os.cpu_count(),
              "load_average": os.getloadavg()[0], "rows": rows}
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    for r in rows:
        print(f"{r['row']}: before {r['before']['wall_s'] / 60:.1f} min, after {r['after']['wall_s'] / 60:.1f} min, "
              f"ratio {r['ratio']:.2f}")


if __name__ == "__main__":
    main()
