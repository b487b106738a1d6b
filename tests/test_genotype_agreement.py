"""Genotype agreement across seeds (lib/report/genotype_agreement.py) against hand-computed cases."""

import pandas as pd
import pytest

from lib.darts.genotype import Genotype
from lib.darts.random_genotype import candidate_ops
from lib.pipeline.results import Record
from lib.report import genotype_agreement as ga


def _genotype(normal, reduce=None):
    concat = tuple(range(2, 2 + len(normal) // 2))
    return Genotype(tuple(normal), concat, tuple(reduce or normal), concat)


A = _genotype([("sep_conv_3x3", 0), ("skip_connect", 1), ("max_pool_3x3", 0), ("sep_conv_5x5", 2)])


def test_identical_cells_agree_fully_and_disjoint_ones_not_at_all():
    assert ga.agreement(A, A) == 1.0
    other = _genotype([("avg_pool_3x3", 0), ("dil_conv_3x3", 1), ("avg_pool_3x3", 1), ("dil_conv_5x5", 2)])
    assert ga.agreement(A, other) == 0.0
    assert ga.agreement(A, other, ops=False) == pytest.approx((1.0 + 1 / 3) / 2)  # node 2: {0, 2} vs {1, 2}


def test_one_op_changed_in_one_node_of_one_cell():
    changed = _genotype([("sep_conv_3x3", 0), ("dil_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_5x5", 2)],
                        reduce=list(A.reduce))
    # normal node 1: {(sep,0),(skip,1)} vs {(sep,0),(dil,1)} -> 1/3; the other three nodes agree fully
    assert ga.agreement(A, changed) == pytest.approx((1 / 3 + 1 + 1 + 1) / 4)
    assert ga.agreement(A, changed, ops=False) == 1.0
    assert ga.mean_pairwise([A, A, changed]) == pytest.approx((1 + 2 * (10 / 3) / 4) / 3)
    assert ga.mean_pairwise([A]) is None


def test_chance_matches_the_exact_expectation_for_one_node():
    # one node: the inputs are always {0, 1}; each of its two ops matches with probability 1/k, and a node with
    # m matching edges has Jaccard m / (4 - m), so E = 2 (1/k)(1 - 1/k) / 3 + 1 / k^2
    k = len(candidate_ops("darts"))
    exact = 2 * (1 / k) * (1 - 1 / k) / 3 + 1 / k ** 2
    assert ga.chance("darts", 1) == pytest.approx(exact, abs=0.02)
    assert ga.chance("darts", 1, ops=False) == 1.0


def test_table_needs_two_seeds_and_reports_chance():
    def record(seed, genotype):
        return Record("darts_cifar10", "k", {"seed": seed}, {"genotype": genotype.to_string()}, {})
    runs = pd.DataFrame([{"variant": "baseline", "seed": s, "record": record(s, A)} for s in (0, 1)]
                        + [{"variant": "variant2", "seed": 0, "record": record(0, A)}])
    frame = ga.table(runs, ["variant"], lambda r: ("darts", 2))
    assert list(frame["variant"]) == ["baseline"]
    assert frame.loc[0, "agreement"] == 1.0 and frame.loc[0, "seeds"] == 2
    assert 0 < frame.loc[0, "random cells"] < frame.loc[0, "random wiring"] <= 1


def test_table_of_no_runs_is_empty_with_its_columns():
    frame = ga.table(pd.DataFrame(), ["variant"], lambda r: ("darts", 2))
    assert frame.empty and list(frame.columns)[:2] == ["variant", "seeds"]
