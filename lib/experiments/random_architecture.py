"""The random-architecture control of LNAS Table 1 and the DARTS chapter: a genotype sampled uniformly from
the search space (:mod:`lib.darts.random_genotype`), trained exactly as the baseline trains its searched
genotype (the same data splits, initialisation seed, training stage and seeds; no search).

``sample`` picks the genotype (sample k is the same cell at every seed), ``seed`` the training, so seed s of
a random row pairs with seed s of the baseline. Shown in: book/lnas_table1, book/darts_cifar10, book/scorecard.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

from lib.darts.genotype import Genotype
from lib.darts.random_genotype import random_genotype
from lib.experiments import darts_cifar10
from lib.experiments.cifar_config import CifarConfig
from lib.experiments.checks import Rule, at_least, one_of
from lib.experiments.profiles import for_profile
from lib.experiments.stages import RunContext, derived_network, train_stage, training_metrics
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput

SAMPLES = (0, 1, 2)  # genotypes sampled per profile (Yang et al. 2020 sample more; three is the minimum)


@dataclass(frozen=True)
class RandomArchitectureConfig(CifarConfig):
    """The baseline's settings plus which sampled genotype (``sample``) to train."""

    experiment: str = "random_architecture"
    sample: int = 0

    RULES: ClassVar[dict[str, Rule]] = {**CifarConfig.RULES, "experiment": one_of("random_architecture"),
                                        "sample": at_least(0)}

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "RandomArchitectureConfig":
        return for_profile(cls, darts_cifar10.PROFILES, profile, **overrides)

    def genotype(self) -> Genotype:
        """The sampled cells: uniform over the search space's derivable cells, seeded by ``sample``."""
        return random_genotype(self.search.space, self.search.n_nodes, seed=self.sample)


def run(cfg: RandomArchitectureConfig, checkpoint: Checkpoint) -> RunOutput:
    """Train and evaluate one sampled genotype with the baseline's training stage (no search)."""
    ctx = RunContext.start(cfg, checkpoint)
    genotype = cfg.genotype()
    trained = train_stage(ctx, derived_network(ctx, genotype))
    metrics = {"genotype": genotype.to_string(), "sample": cfg.sample, **training_metrics(ctx, trained)}
    return RunOutput(metrics=metrics, data_source=ctx.splits.source, device=ctx.device)
