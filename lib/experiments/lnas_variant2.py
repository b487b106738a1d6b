"""LNAS Variant 2 (Sec. 3; INCONSISTENCIES #37/#38): prune architecture paths during the DARTS search,
``1 - (1 - p)^(1/n)`` of the surviving paths after each of the ``n`` search epochs, then train the
derived network normally. Pruned paths are not computed. Shown in: book/lnas_table1, book/lnas_search_cost.
"""

from lib.experiments.lnas import LnasConfig
from lib.experiments.stages import RunContext, derived_network, search_metrics, search_stage, train_stage, training_metrics
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput
from lib.pruning.paths import PathPruningSchedule, path_sparsity


def run(cfg: LnasConfig, checkpoint: Checkpoint) -> RunOutput:
    """One Variant-2 row: the pruning search, then the derived network's training."""
    ctx = RunContext.start(cfg, checkpoint)
    schedule = PathPruningSchedule(cfg.sparsity, rounds=cfg.search.epochs, scope=cfg.pruning.path_scope)
    searched = search_stage(ctx, on_epoch_end=schedule)                        # 1. search, pruning paths
    trained = train_stage(ctx, derived_network(ctx, searched.supernet.genotype()))  # 2. train the derived network
    metrics = {**search_metrics(searched), "path_sparsity": path_sparsity(searched.supernet),
               "path_pruning_log": schedule.log, **training_metrics(ctx, trained)}
    return RunOutput(metrics=metrics, data_source=ctx.splits.source, device=ctx.device)
