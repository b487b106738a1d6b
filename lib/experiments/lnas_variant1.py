"""LNAS Variant 1 (Sec. 3, Algorithm 1; as run: Sec. 5, INCONSISTENCIES #36): the DARTS baseline's search,
then a lottery ticket of the derived network's weights: train, prune ``sparsity`` of the weights by
magnitude at the middle epoch, rewind the survivors to theta_0 and train to the end
(``pruning.weight_rounds > 1``: Algorithm 1's iterative pruning instead). Shown in: book/lnas_table1, book/lnas_curves.
"""

from lib.darts.genotype import Genotype
from lib.experiments import darts_cifar10
from lib.experiments.lnas import LnasConfig, ticket_output, train_lottery_ticket
from lib.experiments.stages import RunContext
from lib.pipeline import results
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput


def run(cfg: LnasConfig, checkpoint: Checkpoint) -> RunOutput:
    """One Variant-1 row; the baseline's search is read from its cached record (run first if missing)."""
    ctx = RunContext.start(cfg, checkpoint)
    search = results.cached(cfg.baseline(), darts_cifar10.run)                            # 1. DARTS search
    trained, ticket = train_lottery_ticket(ctx, Genotype.from_string(search.metrics["genotype"]))  # 2. ticket
    return ticket_output(ctx, search, trained, ticket)
