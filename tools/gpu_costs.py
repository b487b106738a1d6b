"""Render the GPU measurements under benchmarks/gpu/ as the Markdown table the reproducibility chapter includes.

    python tools/gpu_costs.py   # writes book/_generated/gpu_costs.md

Every number comes from the JSON files that ``benchmarks/gpu_session.sh`` wrote on a lent GPU (see
benchmarks/gpu/README.md for the commit and the card); nothing is typed in.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.experiments.lamanas_rows import TABLE1_ROWS  # noqa: E402
from lib.experiments.lnas import SPARSITIES  # noqa: E402

GPU = ROOT / "benchmarks" / "gpu"
OUT = ROOT / "book" / "_generated" / "gpu_costs.md"


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f}"


def lines() -> list[str]:
    check = json.loads((GPU / "gpu_check.json").read_text())
    lnas, lamanas = check["lnas"], check["lamanas"]
    rows = [
        ("DARTS search step (C=16, 8 cells, batch 64, first order)", lnas["timing"]["darts_search_step"]["s_per_step"],
         "LNAS baseline / Variant 2 row (search + training)", lnas["per_row"]["baseline_or_variant2_row_s"]),
        ("derived-network training step (C=16, 8 cells, batch 64)", lnas["timing"]["derived_train_step"]["s_per_step"],
         "LNAS Variant 1 / Algorithm 3 row (training only)", lnas["per_row"]["variant1_or_algorithm3_row_s"]),
    ]
    for row, data in lamanas.items():
        rows.append((f"LAMANAS {row}: one meta-training task (C=28, 4 cells, batch 20)",
                     data["timing"]["task_adaptation"]["s_per_task"], f"LAMANAS {row} row (200 meta-epochs, meta-test)",
                     data["per_row"]["row_s"]))
    out = [f"Measured on one {check['device']} (torch {check['torch']}), {check['date'][:10]}, synthetic data of the "
           "real shapes; the per-row cost multiplies the per-step time by the `paper` profile's step counts and "
           "leaves out evaluation passes.", "",
           "| step | s per step | row | GPU-hours per row |", "|---|---:|---|---:|"]
    out += [f"| {step} | {seconds:.3f} | {row} | {hours(row_s)} |" for step, seconds, row, row_s in rows]
    return out + ["", total(lnas["per_row"], {k: v["per_row"]["row_s"] for k, v in lamanas.items()})]


def total(lnas: dict, lamanas: dict, seeds: int = 3) -> str:
    """Both reports' Table-1 rows at ``paper`` x ``seeds``: LNAS baseline + a Variant 2 per sparsity (search and
    train), a Variant 1 and an Algorithm 3 per sparsity (train); LAMANAS baseline + the FNN and LSTM rows
    (priced as the measured residual inner-product row of their kind)."""
    n, learned = len(SPARSITIES), [r for r in TABLE1_ROWS if r != "baseline"]
    fnn, lstm = sum(r.startswith("fnn") for r in learned), sum(r.startswith("lstm") for r in learned)
    searched, trained = (1 + n) * lnas["baseline_or_variant2_row_s"], 2 * n * lnas["variant1_or_algorithm3_row_s"]
    meta = lamanas["baseline"] + fnn * lamanas["fnn-res-ip"] + lstm * lamanas["lstm-res-ip"]
    hours_all = seeds * (searched + trained + meta) / 3600
    return (f"Both reports' Table-1 rows and Algorithm 3's (LNAS: {1 + 2 * n} Table-1 rows + {n} of Algorithm 3; "
            f"LAMANAS: {1 + fnn + lstm}) with {seeds} seeds, without the controls: about "
            f"{hours_all:.0f} GPU-hours on this card, one row per GPU on a cluster.")


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines()) + "\n")


if __name__ == "__main__":
    main()
