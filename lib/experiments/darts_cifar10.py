"""The LNAS baseline row: DARTS search on CIFAR-10, derive the genotype, retrain the discrete network.

Splits (INCONSISTENCIES #39/#40): the 50k training images are cut into a held-out validation split
(model selection), and the rest into two halves for the search (weights / alphas); the derived network
retrains on everything but the validation split. The 10k test split is touched only once, at the end.
"""

from dataclasses import dataclass
from typing import Any

from lib.pipeline.checkpoint import Checkpoint
from lib.experiments.profiles import for_profile
from lib.experiments.stages import RunContext, search_metrics, search_stage, train_stage, training_metrics
from lib.pipeline.results import RunOutput


@dataclass(frozen=True)
class DartsCifarConfig:
    """Every setting of one baseline run. ``paper`` values are the LNAS report's (Sec. 5.1) or nni/DARTS defaults (#40)."""

    experiment: str = "darts_cifar10"
    profile: str = "paper"
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    data: str = "cifar10"
    image_size: int = 32
    n_val: int = 5000
    n_search: int = 22500
    n_train: int = 45000
    n_test: int = 10000
    space: str = "darts"
    n_nodes: int = 4
    search_C: int = 16
    search_cells: int = 8
    search_epochs: int = 10
    search_batch: int = 64
    order: str = "first"
    train_C: int = 16
    train_cells: int = 8
    train_epochs: int = 20
    train_batch: int = 64
    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4
    augment: bool = False
    channels_last: bool | str = "auto"  # execution setting: "auto" = where safe (lib.training.layout)

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "DartsCifarConfig":
        return for_profile(cls, PROFILES, profile, **overrides)

    def __post_init__(self) -> None:
        if self.data not in ("cifar10", "synthetic"):
            raise ValueError(f"data must be 'cifar10' or 'synthetic', got {self.data!r}")
        if self.n_search * 2 + self.n_val > 50000 or self.n_train + self.n_val > 50000:
            raise ValueError("n_val + 2*n_search and n_val + n_train must fit in the 50,000 training images")


PROFILES: dict[str, dict[str, Any]] = {
    "paper": {},
    "cpu": dict(threads=1, n_val=2000, n_search=1600, n_train=5000, n_test=10000, search_C=8, search_cells=5,
                search_epochs=2, search_batch=32, train_C=8, train_cells=5, train_epochs=10, train_batch=64),
    "smoke": dict(data="synthetic", image_size=16, threads=1, n_val=64, n_search=64, n_train=128, n_test=64, n_nodes=2,
                  search_C=4, search_cells=2, search_epochs=2, search_batch=16, train_C=4, train_cells=2,
                  train_epochs=2, train_batch=32),
}


def run(cfg: DartsCifarConfig, checkpoint: Checkpoint) -> RunOutput:
    """Search, derive, retrain and evaluate one baseline; resumes from ``checkpoint`` after an interruption."""
    ctx = RunContext.start(cfg, checkpoint)
    supernet, searched = search_stage(ctx)
    trained = train_stage(ctx, supernet.genotype())
    metrics = {**search_metrics(supernet, searched), **training_metrics(ctx, trained)}
    return RunOutput(metrics=metrics, data_source=ctx.splits.source, device=ctx.device)


def paper_config() -> DartsCifarConfig:
    """The report's settings, the reference the reduced profiles are compared with."""
    return DartsCifarConfig.for_profile("paper")

