"""Which LAMANAS runs a profile makes: Table 1's rows, the no-meta-training control, seeds and processes.

A row is named like ``"lstm-res-ip"`` (loss network, residual, proxy); ``"baseline"`` is MetaNAS with
cross-entropy; ``"no-meta-training"`` is the control of issue 15: the baseline's test-time adaptation from
the initial (not meta-trained) weights and alphas, with the same seeds. Each learned-loss row can also run
with ``authors_code`` (the detached proxy logits, #21, and no phi meta-update, #22). Seeds are paired: seed
s gives every row the same initial supernet, meta-training tasks and meta-test tasks
(``lib/experiments/lamanas.py``), so rows can be compared seed by seed.
"""

from dataclasses import dataclass, field
from typing import Any, Sequence

from lib.experiments import lamanas
from lib.experiments.lamanas_config import LamanasConfig
from lib.pipeline import results
from lib.pipeline.results import Record
from lib.pipeline.runner import Job, default_processes, run_all


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


@dataclass(frozen=True)
class Sweep:
    """The runs of one table: every row for every seed, each learned-loss row's authors'-code twin for
    ``authors_seeds``; rows run as ``processes`` parallel one-thread processes."""

    profile: str
    rows: tuple[str, ...]
    seeds: tuple[int, ...]
    authors_seeds: tuple[int, ...]
    processes: int = 1
    changes: dict[str, Any] = field(default_factory=dict)  # LamanasConfig changes for every run (device, ...)

    @classmethod
    def for_profile(cls, profile: str, rows: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
                    authors_code: bool = True, authors_seeds: Sequence[int] | None = None, processes: int = 0,
                    **changes: Any) -> "Sweep":
        """The profile's sweep: every row and the control (at smoke: baseline, fnn-res-ip and the control),
        seeds [0] at smoke and [0, 1, 2] elsewhere (paired, issue 14), the authors' twins for every seed, one
        process per core (one at smoke). Each argument given replaces the profile's choice."""
        LamanasConfig.for_profile(profile, **changes)  # unknown profiles, names and bad values fail before any run
        rows = tuple(rows or (("baseline", "fnn-res-ip", CONTROL) if profile == "smoke" else ROWS))
        unknown = sorted(set(rows) - set(ROWS))
        if unknown:
            raise ValueError(f"unknown row(s) {unknown}; choose from {list(ROWS)}")
        seeds = tuple(seeds or ((0,) if profile == "smoke" else (0, 1, 2)))
        twins = tuple(authors_seeds or seeds) if authors_code else ()
        processes = processes or (1 if profile == "smoke" else default_processes())
        return cls(profile, rows, seeds, twins, processes, dict(changes))

    def config(self, row: str = "baseline", seed: int = 0, authors_code: bool = False) -> LamanasConfig:
        """One run's config."""
        return LamanasConfig.for_profile(self.profile, **{**self.changes, **ROWS[row].changes(), "seed": seed,
                                                           "authors_code": authors_code})

    def jobs(self) -> list[Job]:
        """Every (config, run) pair: each row for each seed, then the learned-loss rows' authors'-code twins."""
        out = [(self.config(r, s), lamanas.algorithm2) for s in self.seeds for r in self.rows]
        out += [(self.config(r, s, True), lamanas.algorithm2)
                for s in self.authors_seeds for r in self.rows if ROWS[r].loss != "ce"]
        return out

    def collect(self, force: bool = False) -> list[Record]:
        """Run (or load from the cache) every job; the records in the order of :meth:`jobs`."""
        return run_all(self.jobs(), self.processes, force, desc="LAMANAS rows")

    def stored(self) -> list[Record]:
        """The jobs whose records are already cached; nothing runs (the scorecard reads the cache this way)."""
        found = [results.stored(cfg) for cfg, _ in self.jobs()]
        return [r for r in found if r is not None]

    def pending(self) -> list[LamanasConfig]:
        """The jobs' configs not in the cache (shown as "pending"; nothing runs)."""
        return [cfg for cfg, _ in self.jobs() if results.stored(cfg) is None]
