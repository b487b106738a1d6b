"""LNAS Algorithm 3 ("generalized LNAS", Sec. 3; proposed, never run in the report): Variant 2's
path-pruning search, then Variant 1's lottery ticket of the derived network's weights, at the same sparsity.
Shown in: book/lnas_generalized.
"""

from lib.darts.genotype import Genotype
from lib.experiments import lnas_variant2
from lib.experiments.lnas import LnasConfig, ticket_output, train_lottery_ticket
from lib.experiments.stages import RunContext
from lib.pipeline import results
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput


def run(cfg: LnasConfig, checkpoint: Checkpoint) -> RunOutput:
    """One Algorithm-3 row; the Variant-2 search is read from its cached record (run first if missing)."""
    ctx = RunContext.start(cfg, checkpoint)
    search = results.cached(cfg.variant2(), lnas_variant2.run)                            # 1. Variant 2's search
    trained, ticket = train_lottery_ticket(ctx, Genotype.from_string(search.metrics["genotype"]))  # 2. ticket
    return ticket_output(ctx, search, trained, ticket)
