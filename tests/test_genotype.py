"""Genotype derivation (quark0 rules), validation and the text round trip."""

import pytest
import torch

from lib.darts.genotype import EMPTY_SLOT, Genotype, derive_genotype
from lib.darts.ops import DARTS_SPACE
from lib.darts.search import SearchNetwork, SearchSpec
from lib.darts.published import DARTS_V2_TEXT


def _weights(rows: list[dict[str, float]]) -> torch.Tensor:
    """(n_edges, n_ops) weights: 'none' takes what the named ops leave, the rest share nothing."""
    w = torch.zeros(len(rows), len(DARTS_SPACE))
    for e, row in enumerate(rows):
        for name, value in row.items():
            w[e, DARTS_SPACE.index(name)] = value
        w[e, 0] = 1 - w[e].sum()
    return w


# Two nodes: node 0 has edges 0, 1 (inputs 0, 1); node 1 has edges 2, 3, 4 (inputs 0, 1, 2).
ROWS = [{"sep_conv_3x3": 0.10, "max_pool_3x3": 0.05}, {"dil_conv_5x5": 0.20},
        {"skip_connect": 0.02}, {"avg_pool_3x3": 0.30, "sep_conv_5x5": 0.25}, {"dil_conv_3x3": 0.15}]


def _network_of(rows: list[dict[str, float]]) -> SearchNetwork:
    """A two-node search network whose alphas (both cell types) give the softmax weights of ``rows``."""
    net = SearchNetwork(SearchSpec("darts", C=4, n_classes=3, n_cells=3, n_nodes=2))
    logits = _weights(rows).clamp(min=1e-6).log()
    with torch.no_grad():
        net.alpha_normal.copy_(logits)
        net.alpha_reduce.copy_(logits)
    return net


def test_none_dominating_every_edge_is_ignored() -> None:
    w = _weights(ROWS)
    assert bool((w.argmax(dim=1) == 0).all())
    g = derive_genotype(w, w, DARTS_SPACE, n_nodes=2)
    expected = (("dil_conv_5x5", 1), ("sep_conv_3x3", 0), ("avg_pool_3x3", 1), ("dil_conv_3x3", 2))
    assert g.normal == expected and g.reduce == expected
    assert g.normal_concat == g.reduce_concat == (2, 3)


def test_masked_ops_are_never_chosen() -> None:
    w = _weights(ROWS)
    active = torch.ones_like(w, dtype=torch.bool)
    active[3, DARTS_SPACE.index("avg_pool_3x3")] = False  # edge 3 falls back to its next op
    active[1, 1:] = False  # edge 1 keeps only 'none': never chosen, node 0 is left with one edge
    g = derive_genotype(w, w, DARTS_SPACE, n_nodes=2, active_normal=active)
    assert g.normal == (("sep_conv_3x3", 0), EMPTY_SLOT, ("sep_conv_5x5", 1), ("dil_conv_3x3", 2))
    assert g.reduce[:2] == (("dil_conv_5x5", 1), ("sep_conv_3x3", 0))


def test_weights_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="expected \\(5, 8\\)"):
        derive_genotype(torch.zeros(4, 8), torch.zeros(5, 8), DARTS_SPACE, n_nodes=2)


def test_search_network_genotype_follows_its_alphas_and_masks() -> None:
    net = _network_of(ROWS)
    assert net.genotype().normal == (("dil_conv_5x5", 1), ("sep_conv_3x3", 0), ("avg_pool_3x3", 1),
                                     ("dil_conv_3x3", 2))
    mask = torch.ones(5, 8, dtype=torch.bool)
    mask[1, DARTS_SPACE.index("dil_conv_5x5")] = False
    net.set_path_mask("normal", mask)
    assert ("dil_conv_5x5", 1) not in net.genotype().normal


def test_string_round_trip_and_quark0_text() -> None:
    g = Genotype.from_string(DARTS_V2_TEXT)
    assert g.normal[7] == ("dil_conv_3x3", 2) and g.reduce_concat == (2, 3, 4, 5)
    assert Genotype.from_string(g.to_string()) == g
    with_range = DARTS_V2_TEXT.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)")
    assert Genotype.from_string(with_range) == g
    assert Genotype.from_string("genotypes." + DARTS_V2_TEXT) == g


@pytest.mark.parametrize("text", ["__import__('os').system('true')",
                                  DARTS_V2_TEXT.replace("[2, 3, 4, 5]", "open('x')", 1),
                                  "Genotype(normal=[])"])
def test_from_string_rejects_non_literals(text: str) -> None:
    with pytest.raises(ValueError):
        Genotype.from_string(text)


@pytest.mark.parametrize("normal, match", [([("conv_9x9", 0), ("skip_connect", 1)], "unknown op"),
                                           ([("skip_connect", 0), ("skip_connect", 2)], "input 2"),
                                           ([("skip_connect", 0)], "pairs per node")])
def test_validation(normal: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Genotype(normal, (2,), [("max_pool_3x3", 0), ("max_pool_3x3", 1)], (2,))


def test_one_op_per_edge_wiring_follows_the_alphas_not_the_input_order() -> None:
    """With one active op per edge every masked softmax weight is 1: the ranking must use the unmasked one."""
    net = _network_of(ROWS)
    kept = ("sep_conv_3x3", "dil_conv_5x5", "skip_connect", "sep_conv_5x5", "dil_conv_3x3")  # one op per edge
    mask = torch.zeros(5, 8, dtype=torch.bool)
    for edge, op in enumerate(kept):
        mask[edge, DARTS_SPACE.index(op)] = True
    net.set_path_mask("normal", mask)
    # unmasked weights of the kept ops: node 0 edges 0.10 (input 0) < 0.20 (input 1); node 1 edges 0.02 (input 0),
    # 0.25 (input 1), 0.15 (input 2): the strongest two first
    assert net.genotype().normal == (("dil_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 1),
                                     ("dil_conv_3x3", 2))


def test_without_masks_the_derivation_ranks_by_the_plain_softmax() -> None:
    torch.manual_seed(0)
    net = SearchNetwork(SearchSpec("darts", C=4, n_classes=3, n_cells=3, n_nodes=3))
    with torch.no_grad():
        net.alpha_normal.normal_(0, 1e-2)
        net.alpha_reduce.normal_(0, 1e-2)
    expected = derive_genotype(torch.softmax(net.alpha_normal, -1), torch.softmax(net.alpha_reduce, -1),
                               DARTS_SPACE, n_nodes=3)
    assert net.genotype() == expected
    assert all(torch.equal(net.derivation_weights()[t], net.edge_weights()[t]) for t in ("normal", "reduce"))
