"""The report's "epoch 20" column of one LNAS run: the best validation accuracy up to the last epoch.

The report's caption reads it as the best over all epochs, but its own numbers cannot be that (INCONSISTENCIES
#34: Variant 1 at 0.95 falls from 66.58 at epoch 10 to 46.43 at epoch 20), and for a run that prunes its
weights during training (Variant 1, Algorithm 3) the best over all epochs is the dense network's before
pruning, the baseline's by procedure. So for such a run it is the best over the epochs after pruning; the
record's ``val_acc_final`` keeps the caption's reading. Used by the tables (:mod:`lib.report.lnas`) and by the
sweep's choice of rows for extra seeds (:mod:`lib.experiments.lnas_sweep`), so both rank rows alike.
"""

from collections.abc import Mapping
from typing import Any


def best_final(metrics: Mapping[str, Any]) -> float:
    """``metrics`` of one run -> its "epoch 20" value (%), over the epochs after pruning where it pruned weights."""
    pruned = metrics.get("weight_pruning_log") and metrics.get("val_acc_after_pruning") is not None
    return metrics["val_acc_after_pruning"] if pruned else metrics["val_acc_final"]
