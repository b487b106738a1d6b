"""The LAMANAS rows: Table 1's lines (loss network, residual, proxy) and the no-meta-training control.

A row is named like ``"lstm-res-ip"`` (loss network, residual, proxy); ``"baseline"`` is MetaNAS with
cross-entropy; ``"no-meta-training"`` is the control of issue 15: the baseline's test-time adaptation from
the initial (not meta-trained) weights and alphas. Kept apart from the sweep (``lamanas_sweep``) so that the
experiments that name a row (``lamanas_curve``) are not fingerprinted over how a sweep schedules its runs.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of Table 1 (a task loss and, for a learned loss, its residual and proxy), or the control."""

    loss: str
    residual: bool = False
    proxy: str = "none"
    meta_trained: bool = True

    def changes(self) -> dict[str, Any]:
        """The ``LamanasConfig`` changes of this row. LSTM rows keep no loss snapshots (170k numbers each;
        Figure 3 is the FNN's); the control has no meta-epochs and so no snapshots."""
        out: dict[str, Any] = {"loss": self.loss, "residual": self.residual, "proxy": self.proxy}
        if not self.meta_trained:
            out.update({"reptile.meta_epochs": 0, "snapshot_epochs": ()})
        elif self.loss == "lstm":
            out["snapshot_epochs"] = ()
        return out

    def labels(self) -> dict[str, str]:
        """The report's spelling of the row (the join keys of ``lamanas_reported.json``, its variant renamed)."""
        if not self.meta_trained:
            return {"loss_network": "No meta-training", "residual": "No", "loss_proxy": "N/A"}
        return {"loss_network": {"ce": "Baseline", "fnn": "FNN", "lstm": "LSTM"}[self.loss],
                "residual": "Yes" if self.residual else "No",
                "loss_proxy": {"none": "N/A", "mse": "MSE", "inner_product": "Inner product"}[self.proxy]}


CONTROL = "no-meta-training"
ROWS: dict[str, Row] = {
    "baseline": Row("ce"),
    **{f"{loss}{'-res' if residual else ''}-{short}": Row(loss, residual, proxy)
       for loss in ("fnn", "lstm") for proxy, short in (("mse", "mse"), ("inner_product", "ip"))
       for residual in (True, False)},
    CONTROL: Row("ce", meta_trained=False),
}
TABLE1_ROWS = tuple(name for name in ROWS if name != CONTROL)


def row_of(config: dict[str, Any]) -> Row:
    """The row a stored record's config belongs to."""
    return Row(config["loss"], config["residual"], config["proxy"], config["reptile"]["meta_epochs"] > 0)
