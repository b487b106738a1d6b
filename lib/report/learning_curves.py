"""What a LAMANAS learning curve says about meta-training: the meta-test accuracy it gains, paired over tasks.

Each curve of the scaling chapter is one run meta-tested along the way on the same unseen tasks
(:mod:`lib.experiments.lamanas_curve`), and its first point (no meta-training) is the test-time adaptation
alone. The difference between its last and first point, task by task, is therefore paired: it says what
meta-training added for this one seed, with a t-interval over the tasks (not over seeds).
Shown in: book/scaling.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lib.report.stats import t_interval

COLUMNS = ["curve", "tasks", "no meta-training (%)", "after meta-training (%)", "gain (pp)", "note"]
BELOW_CHANCE = "below chance: a collapsed run (LAMANAS Table 1, 'Why some learned-loss runs fall below chance')"
NO_GAIN = "the interval contains 0: no gain shown"


def gain(points: Sequence[Mapping[str, Any]], chance: float) -> pd.DataFrame:
    """Per measured LAMANAS curve (``points`` of :func:`lib.experiments.scaling.points`): the meta-test accuracy
    before meta-training and at its last measured point, and their per-task difference as mean [95% t-interval
    over the paired meta-test tasks]; ``note`` marks a gain whose interval contains 0 and a curve that ends below
    ``chance`` (%), whose gain says nothing about meta-training. A curve without both ends measured is left out."""
    rows, curves = [], [p for p in points if p["curve"] == "lamanas"]
    for series, group in (pd.DataFrame(curves).groupby("series", sort=False) if curves else []):
        done = group[group["status"] == "done"].sort_values("x")
        if len(done) < 2 or done["x"].iloc[0] != 0:
            continue
        first, last = np.asarray(done["accuracies"].iloc[0]), np.asarray(done["accuracies"].iloc[-1])
        if first.shape != last.shape:
            raise ValueError(f"curve {series}: the first and last points were meta-tested on different task counts")
        gained = t_interval(list(last - first), over="paired meta-test tasks")
        notes = [NO_GAIN if gained.contains(0.0) else "", BELOW_CHANCE if last.mean() < chance else ""]
        rows.append({"curve": series, "tasks": f"0 -> {int(done['x'].iloc[-1])}",
                     "no meta-training (%)": round(float(first.mean()), 1),
                     "after meta-training (%)": round(float(last.mean()), 1),
                     "gain (pp)": gained.text(1), "note": "; ".join(filter(None, notes))})
    return pd.DataFrame(rows, columns=COLUMNS)
