"""The LNAS baseline row: DARTS search on CIFAR-10, derive the genotype, retrain the discrete network.

Splits (INCONSISTENCIES #39/#40): the 50k training images are cut into a held-out validation split
(model selection), and the rest into two halves for the search (weights / alphas); the derived network
retrains on everything but the validation split. The 10k test split is touched only once, at the end.

This is the one DARTS baseline of the book: the ``darts_cifar10`` chapter and LNAS Table 1 read the same
record (Variant 1 reuses its search).
"""

from dataclasses import dataclass
from typing import Any, ClassVar

from lib.experiments.cifar_config import CifarConfig
from lib.experiments.checks import Rule, one_of
from lib.experiments.profiles import for_profile
from lib.experiments.stages import RunContext, derived_network, search_metrics, search_stage, train_stage, training_metrics
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput

# What each profile changes from the defaults (the report's settings); every reduction is listed in the book.
# small: the first cpu sizes (the ~40 runs of the LNAS sweep in about 90 core-minutes; the search sees 50 alpha
# steps and the derived network 2,560 images). cpu: the evidence profile, sized from the measured curves of the
# "How large must a run be?" section (issue 15): training on 20,000 images x 8 epochs (the derived network passes
# 70%), a search of 4x the small one's alpha steps (what ~80 runs x 3 seeds can afford on two cores).
PROFILES: dict[str, dict[str, Any]] = {
    "paper": {},
    "cpu": {"threads": 1, "data": dict(n_val=2000, n_search=1600, n_train=20000, n_test=10000),
            "search": dict(C=8, cells=5, epochs=4, batch=32), "training": dict(C=8, cells=5, epochs=8, batch=64)},
    "small": {"threads": 1, "data": dict(n_val=2000, n_search=800, n_train=2560, n_test=10000),
              "search": dict(C=8, cells=5, epochs=2, batch=32), "training": dict(C=8, cells=5, epochs=6, batch=64)},
    "smoke": {"threads": 1,
              "data": dict(dataset="synthetic", image_size=16, n_val=64, n_search=64, n_train=128, n_test=64),
              "search": dict(n_nodes=2, C=4, cells=2, epochs=2, batch=16), "training": dict(C=4, cells=2, epochs=2, batch=32)},
}


@dataclass(frozen=True)
class DartsCifarConfig(CifarConfig):
    """Every setting of one baseline run."""

    experiment: str = "darts_cifar10"

    RULES: ClassVar[dict[str, Rule]] = {**CifarConfig.RULES, "experiment": one_of("darts_cifar10")}

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "DartsCifarConfig":
        return for_profile(cls, PROFILES, profile, **overrides)


def run(cfg: DartsCifarConfig, checkpoint: Checkpoint) -> RunOutput:
    """Search, derive, retrain and evaluate one baseline; each stage resumes from ``checkpoint`` where it stopped."""
    ctx = RunContext.start(cfg, checkpoint)
    searched = search_stage(ctx)                                    # 1. DARTS search (first order)
    net = derived_network(ctx, searched.supernet.genotype())       # 2. the discrete network of the derived cell
    trained = train_stage(ctx, net)                                 # 3. retrain it, test once at the end
    metrics = {**search_metrics(searched), **training_metrics(ctx, trained)}
    return RunOutput(metrics=metrics, data_source=ctx.splits.source, device=ctx.device)


def paper_config() -> DartsCifarConfig:
    """The report's settings, the reference the reduced profiles are compared with."""
    return DartsCifarConfig.for_profile("paper")
