"""The random-architecture control samples uniformly: over ops, over input pairs, and reproducibly."""

from collections import Counter
from itertools import combinations

import pytest
from scipy import stats

from lib.darts.random_genotype import candidate_ops, random_genotype
from lib.darts.ops import SEARCH_SPACES

DRAWS = 2000


def test_same_seed_same_cells_and_seeds_differ():
    assert random_genotype("darts", 4, seed=3) == random_genotype("darts", 4, seed=3)
    assert len({random_genotype("darts", 4, seed=s).to_string() for s in range(20)}) == 20


def test_never_none_and_always_distinct_inputs():
    for s in range(50):
        g = random_genotype("darts", 4, seed=s)
        for gene in (g.normal, g.reduce):
            assert all(op != "none" for op, _ in gene)
            assert all(gene[2 * j][1] != gene[2 * j + 1][1] for j in range(4))


def test_ops_uniform_chi_square():
    """Every op of the space but 'none' equally often (chi-square against the uniform, 2 nodes x 2 cells)."""
    ops = candidate_ops("darts")
    assert set(ops) == set(SEARCH_SPACES["darts"]) - {"none"}
    counts = Counter(op for s in range(DRAWS) for gene in (lambda g: (g.normal, g.reduce))(random_genotype("darts", 2, s))
                     for op, _ in gene)
    observed = [counts[op] for op in ops]
    assert stats.chisquare(observed).pvalue > 1e-3


def test_input_pairs_uniform_exact_enumeration():
    """Node 1 of a 2-node cell has exactly the 3 pairs of {0, 1, 2}; each is drawn about a third of the time."""
    pairs = Counter(tuple(sorted((g.normal[2][1], g.normal[3][1]))) for g in
                    (random_genotype("darts", 2, s) for s in range(DRAWS)))
    assert set(pairs) == set(combinations(range(3), 2))
    assert stats.chisquare([pairs[p] for p in combinations(range(3), 2)]).pvalue > 1e-3


def test_unknown_space_and_bad_nodes_fail():
    with pytest.raises(ValueError, match="unknown search space"):
        random_genotype("nope", 2, 0)
    with pytest.raises(ValueError, match="n_nodes"):
        random_genotype("darts", 0, 0)
