"""A genotype drawn uniformly from a DARTS search space: the random-architecture control.

Li & Talwalkar (2019, "Random search and reproducibility for NAS") and Yang et al. (2020, "NAS evaluation
is frustratingly hard") made a randomly sampled cell, trained with the searched cell's recipe, the standard
check of whether a search found anything. The sample covers exactly the cells a search can derive
(:func:`lib.darts.genotype.derive_genotype`): each intermediate node keeps two *distinct* inputs among the
cell inputs and the earlier nodes, each with one non-``'none'`` op of the space.
"""

import numpy as np

from lib.darts.genotype import INPUTS_PER_NODE, Gene, Genotype
from lib.darts.ops import SEARCH_SPACES


def candidate_ops(space: str) -> tuple[str, ...]:
    """The ops a derived cell can hold: the space's ops without ``'none'``."""
    if space not in SEARCH_SPACES:
        raise ValueError(f"unknown search space {space!r}; known spaces: {sorted(SEARCH_SPACES)}")
    return tuple(op for op in SEARCH_SPACES[space] if op != "none")


def _cell(rng: np.random.Generator, ops: tuple[str, ...], n_nodes: int) -> Gene:
    """Per node j: an unordered pair of distinct inputs of the 2 + j (uniform over pairs), an op for each."""
    gene: list[tuple[str, int]] = []
    for node in range(n_nodes):
        inputs = sorted(int(i) for i in rng.choice(2 + node, size=INPUTS_PER_NODE, replace=False))
        gene += [(ops[int(rng.integers(len(ops)))], i) for i in inputs]
    return tuple(gene)


def random_genotype(space: str, n_nodes: int, seed: int) -> Genotype:
    """A normal and a reduction cell drawn independently and uniformly (seeded: the same seed, the same cells)."""
    if n_nodes < 1:
        raise ValueError(f"n_nodes must be at least 1, got {n_nodes}")
    rng, ops = np.random.default_rng(seed), candidate_ops(space)
    concat = tuple(range(2, 2 + n_nodes))
    return Genotype(_cell(rng, ops, n_nodes), concat, _cell(rng, ops, n_nodes), concat)
