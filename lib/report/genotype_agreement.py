"""Do the seeds of a row derive the same cell? Agreement of derived genotypes across seeds, beside random cells.

The agreement of two genotypes is, per cell type (normal, reduction) and intermediate node, the Jaccard index
of the two nodes' chosen edges (|A ∩ B| / |A ∪ B| over their two (op, input) pairs), averaged over every node
of both cells: 1 for identical cells, 0 for cells without a common edge. ``wiring`` ignores the ops (the
inputs alone). Chance is the mean agreement of pairs of cells drawn uniformly from the same space
(:func:`lib.darts.random_genotype.random_genotype`, the random control's sampler): a row whose seeds agree
no more than random cells has not found a consistent cell, whatever its accuracy.
Shown in: book/lnas_table1 and book/lamanas_table1.
"""

from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from lib.darts.genotype import INPUTS_PER_NODE, Gene, Genotype
from lib.darts.random_genotype import random_genotype
from lib.pipeline.results import Record
from lib.report.seeds import marks_text

CHANCE_PAIRS = 2000  # random pairs per chance level: its Monte Carlo standard error is below 0.005


def _nodes(gene: Gene, ops: bool) -> list[set[Any]]:
    """The edges of each intermediate node: (op, input) pairs, or the inputs alone when ``ops`` is False."""
    edges = [edge if ops else edge[1] for edge in gene]
    return [set(edges[i:i + INPUTS_PER_NODE]) for i in range(0, len(edges), INPUTS_PER_NODE)]


def agreement(a: Genotype, b: Genotype, ops: bool = True) -> float:
    """Mean Jaccard index of the two genotypes' per-node edge sets over every node of both cells."""
    pairs = [(x, y) for cell in ("normal", "reduce")
             for x, y in zip(_nodes(getattr(a, cell), ops), _nodes(getattr(b, cell), ops), strict=True)]
    return float(np.mean([len(x & y) / len(x | y) for x, y in pairs]))


def mean_pairwise(genotypes: Sequence[Genotype], ops: bool = True) -> float | None:
    """Mean :func:`agreement` over every pair (None for fewer than two genotypes)."""
    pairs = list(combinations(genotypes, 2))
    return float(np.mean([agreement(a, b, ops) for a, b in pairs])) if pairs else None


@lru_cache(maxsize=None)
def chance(space: str, n_nodes: int, ops: bool = True, pairs: int = CHANCE_PAIRS) -> float:
    """Mean agreement of ``pairs`` pairs of uniformly drawn genotypes (seeded, so the book is reproducible)."""
    draw = [random_genotype(space, n_nodes, seed) for seed in range(2 * pairs)]
    return float(np.mean([agreement(draw[2 * i], draw[2 * i + 1], ops) for i in range(pairs)]))


def table(runs: pd.DataFrame, keys: Sequence[str], space_of: Callable[[Record], tuple[str, int]]) -> pd.DataFrame:
    """Per row of ``runs`` (one line per run: ``keys``, ``seed`` and ``record``) with two or more seeds: the mean
    pairwise agreement of its genotypes (edges, and wiring alone) beside chance for its space (``space_of``:
    record -> (space, nodes per cell)), and which of its runs are marked (:func:`lib.report.seeds.marks_text`)."""
    out = []
    for key, group in (runs.groupby(list(keys), sort=False) if len(runs) else []):
        records = [r for r in group["record"] if r.status == "ok" and r.metrics.get("genotype")]
        if len({r.config["seed"] for r in records}) < 2:
            continue
        genotypes = [Genotype.from_string(r.metrics["genotype"]) for r in records]
        space, nodes = space_of(records[0])
        out.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))), "seeds": len(records),
                    "agreement": round(mean_pairwise(genotypes), 3), "random cells": round(chance(space, nodes), 3),
                    "wiring agreement": round(mean_pairwise(genotypes, ops=False), 3),
                    "random wiring": round(chance(space, nodes, ops=False), 3), "marked runs": marks_text(records)})
    return pd.DataFrame(out, columns=[*keys, "seeds", "agreement", "random cells", "wiring agreement", "random wiring",
                                      "marked runs"])
