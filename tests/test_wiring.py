"""Which derivation choices a tie decided (lib/report/wiring.py), on hand-made cells of two nodes (5 edges)."""

import pytest

from lib.darts.ops import DARTS_SPACE
from lib.report.wiring import ranked_weights, tied_choices, tied_share


def _edge(**weights: float) -> list[float]:
    row = [0.0] * len(DARTS_SPACE)
    for name, value in weights.items():
        row[DARTS_SPACE.index(name)] = value
    return row


def test_one_surviving_op_per_edge_makes_every_choice_a_tie():
    cell = [_edge(sep_conv_3x3=1.0)] * 5  # masked softmax: the one active op weighs 1 on every edge
    # node 0 has two edges (no choice); node 1 chooses two of three edges that all weigh 1
    assert tied_choices({"normal": cell, "reduce": cell}) == (2, 2)
    assert tied_share({"normal": cell}) == 1.0


def test_distinct_strengths_and_a_tie_only_among_the_kept_are_no_tie():
    searched = [_edge(none=0.5, sep_conv_3x3=0.5)] * 2 + [_edge(sep_conv_3x3=0.3), _edge(max_pool_3x3=0.2),
                                                          _edge(dil_conv_3x3=0.1)]
    assert tied_choices({"normal": searched}) == (0, 1)
    top_two_equal = searched[:2] + [_edge(sep_conv_3x3=0.3), _edge(max_pool_3x3=0.3), _edge(dil_conv_3x3=0.1)]
    assert tied_choices({"normal": top_two_equal}) == (0, 1)  # which two to keep is still clear


def test_none_and_masked_ops_do_not_count_as_an_edge_strength():
    # node 1: edge 2 has only 'none' active (never chosen), so the two others are kept without a choice
    cell = [_edge(sep_conv_3x3=1.0)] * 2 + [_edge(none=1.0), _edge(sep_conv_3x3=1.0), _edge(max_pool_3x3=1.0)]
    assert tied_choices({"normal": cell}) == (0, 0) and tied_share({"normal": cell}) == 0.0
    assert tied_share(None) != tied_share(None)  # NaN: no weights recorded


def test_a_record_is_judged_by_the_weights_its_derivation_ranked_by():
    one_op = [_edge(sep_conv_3x3=1.0)] * 5  # the masked softmax of one op per edge
    unmasked = [_edge(sep_conv_3x3=w) for w in (0.3, 0.2, 0.15, 0.1, 0.05)]  # the same ops in the full softmax
    assert ranked_weights({"alphas": {"normal": one_op}}) == {"normal": one_op}  # made before the fix
    made_since = {"alphas": {"normal": one_op}, "derivation_weights": {"normal": unmasked}}
    assert tied_share(ranked_weights(made_since)) == 0.0 and ranked_weights({}) is None


def test_lnas_table_1_labels_a_row_whose_wiring_was_tied():
    from lib.report import lnas
    from tests.test_report import _lnas_record

    one_op = [_edge(sep_conv_3x3=1.0)] * 5
    tied = _lnas_record("lnas", "t", {"variant": "variant2", "sparsity": 0.875},
                        {"alphas": {"normal": one_op, "reduce": one_op}, "search_seconds": 60.0})
    table = lnas.table1([tied]).comparison.set_index(["variant", "sparsity"])
    # one active op per edge is also "uniform" over the active ops (k = 1): both labels
    assert table.loc[("Variant 2", 0.875), "search"] == "near uniform; wiring tied 100%"


def test_a_weight_table_that_is_no_cell_is_refused():
    with pytest.raises(ValueError, match="6 edges"):
        tied_choices({"normal": [_edge(sep_conv_3x3=1.0)] * 6})
