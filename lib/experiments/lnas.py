"""LNAS (lottery-ticket NAS): the config of one row and the stages its three algorithms share.

The algorithms, one file each, named as in the report:

- :mod:`lib.experiments.lnas_variant1`: **Variant 1**, prune the derived network's weights (lottery ticket).
- :mod:`lib.experiments.lnas_variant2`: **Variant 2**, prune architecture paths during the search.
- :mod:`lib.experiments.lnas_algorithm3`: **Algorithm 3** ("generalized LNAS", never run in the report):
  Variant 2's search, then Variant 1's training.

The baseline row is the DARTS run of :mod:`lib.experiments.darts_cifar10` with the same settings.
"""

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, ClassVar

from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.experiments import darts_cifar10
from lib.experiments.cifar_config import CifarConfig, Checked
from lib.experiments.checks import ConfigError, Rule, at_least, between, one_of
from lib.experiments.darts_cifar10 import DartsCifarConfig
from lib.experiments.profiles import for_profile
from lib.experiments.stages import RunContext, Trained, derived_network, train_stage, training_metrics
from lib.pipeline.results import Record, RunOutput
from lib.pruning import paths, weights
from lib.pruning.lottery import LotteryTicketPruning

VARIANTS = {"variant1": "Variant 1", "variant2": "Variant 2", "algorithm3": "Algorithm 3"}  # config value: name
SPARSITIES = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 0.95)  # Table 1; the text's 0.675 is a typo (#32)
PROFILES = darts_cifar10.PROFILES  # every LNAS row runs at the baseline's settings (one baseline, #13)


@dataclass(frozen=True)
class PruningConfig(Checked):
    """How weights (Variant 1) and paths (Variant 2) are pruned; ``weight_rounds > 1`` is Algorithm 1."""

    weight_rounds: int = 1
    weight_scope: str = "layer"
    path_scope: str = "global"

    RULES: ClassVar[dict[str, Rule]] = {"weight_rounds": at_least(1), "weight_scope": one_of(*weights.SCOPES),
                                        "path_scope": one_of(*paths.SCOPES)}


@dataclass(frozen=True)
class LnasConfig(CifarConfig):
    """A baseline's settings plus which algorithm prunes (``variant``), how much, and how."""

    experiment: str = "lnas"
    variant: str = "variant1"
    sparsity: float = 0.5
    pruning: PruningConfig = field(default_factory=PruningConfig)

    RULES: ClassVar[dict[str, Rule]] = {**CifarConfig.RULES, "experiment": one_of("lnas"),
                                        "variant": one_of(*VARIANTS), "sparsity": between(0, 1, low_open=True, high_open=True)}
    GROUPS: ClassVar[dict[str, type]] = {**CifarConfig.GROUPS, "pruning": PruningConfig}

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.variant != "variant2" and self.pruning.weight_rounds >= self.training.epochs:
            raise ConfigError(f"LnasConfig: pruning.weight_rounds ({self.pruning.weight_rounds}) must be below "
                              f"training.epochs ({self.training.epochs}): training goes on after the last round")

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "LnasConfig":
        return for_profile(cls, PROFILES, profile, **overrides)

    def baseline(self) -> DartsCifarConfig:
        """The DARTS baseline with the same settings (its search is Variant 1's search)."""
        shared = {f.name: getattr(self, f.name) for f in fields(CifarConfig) if f.name != "experiment"}
        return DartsCifarConfig(**shared)

    def variant2(self) -> "LnasConfig":
        """The Variant-2 row whose search this row reuses (Algorithm 3): same sparsity and path pruning."""
        return replace(self, variant="variant2", pruning=PruningConfig(path_scope=self.pruning.path_scope))


def lottery_ticket(ctx: RunContext, net: DiscreteNetwork) -> LotteryTicketPruning:
    """Variant 1's pruning of ``net``'s weights: one shot at the middle epoch, or ``weight_rounds`` rounds.

    Built from the fresh network (it keeps theta_0); restored from the checkpoint of an interrupted run.
    """
    cfg: LnasConfig = ctx.cfg  # type: ignore[assignment]
    epochs, rounds, scope = cfg.training.epochs, cfg.pruning.weight_rounds, cfg.pruning.weight_scope
    if rounds == 1:
        ticket = LotteryTicketPruning.one_shot(net, cfg.sparsity, epochs // 2, scope=scope)
    else:
        ticket = LotteryTicketPruning.iterative(net, cfg.sparsity, epochs, rounds, scope=scope)
    if "train" in ctx.saved:
        ticket.load_state_dict(ctx.saved["train"]["pruner"], net)
    return ticket


def ticket_state(ticket: LotteryTicketPruning) -> Callable[[], dict[str, Any]]:
    """What each training checkpoint keeps of the ticket (theta_0, mask, log)."""
    return lambda: {"pruner": ticket.state_dict()}


def train_lottery_ticket(ctx: RunContext, genotype: Genotype) -> tuple[Trained, LotteryTicketPruning]:
    """Train the derived network of ``genotype`` while pruning its weights (Variant 1's training)."""
    net = derived_network(ctx, genotype)
    ticket = lottery_ticket(ctx, net)
    return train_stage(ctx, net, ticket.hooks, ticket_state(ticket)), ticket


def ticket_metrics(trained: Trained, ticket: LotteryTicketPruning) -> dict[str, Any]:
    """Sparsity reached, the pruning log, and the best validation accuracy after the (first) pruning."""
    curve = [h["val_acc"] for h in trained.result.history]
    first_pruned = ticket.log[0]["epoch"] if ticket.log else len(curve)
    return {"weight_sparsity": ticket.mask.sparsity, "weight_pruning_log": ticket.log,
            "val_acc_after_pruning": max(curve[first_pruned:], default=None)}


def ticket_output(ctx: RunContext, search: Record, trained: Trained, ticket: LotteryTicketPruning) -> RunOutput:
    """A Variant-1 / Algorithm-3 row's metrics: which search it reused, the ticket, and the training metrics."""
    metrics = {"searched_by": f"{search.experiment}/{search.key}", "genotype": search.metrics["genotype"],
               **ticket_metrics(trained, ticket), **training_metrics(ctx, trained, masks=ticket.mask)}
    return RunOutput(metrics=metrics, data_source=ctx.splits.source, device=ctx.device)
