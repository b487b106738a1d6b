"""Distance of the search's softmax weights from uniform: hand cases (uniform, one-hot, pruned ops)."""

import math

import pytest
import torch

from lib.darts.search import SearchNetwork, SearchSpec
from lib.experiments.search_diagnostics import NEAR_UNIFORM, SearchDiagnostics, edge_statistics, near_uniform, top_over_uniform


def test_uniform_and_one_hot_edges_are_the_two_ends():
    weights = torch.tensor([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    top, entropy = edge_statistics(weights)
    # edge 1 has one active op (pruned to it): top = 1 x 1; edge 2: uniform over its two active ops
    assert top == pytest.approx([1.0, 1.0, 1.0]) and entropy == pytest.approx([1.0, 0.0, 1.0])
    top, entropy = edge_statistics(torch.tensor([[0.7, 0.1, 0.1, 0.1]]))
    h = -(0.7 * math.log(0.7) + 3 * 0.1 * math.log(0.1)) / math.log(4)
    assert top == pytest.approx([2.8]) and entropy == pytest.approx([h])


def test_summary_is_the_mean_over_edges_of_both_cells_and_the_threshold():
    alphas = {"normal": [[0.25] * 4, [0.7, 0.1, 0.1, 0.1]], "reduce": [[0.25] * 4, [0.25] * 4]}
    assert top_over_uniform(alphas) == pytest.approx((1 + 2.8 + 1 + 1) / 4)
    assert near_uniform(1.2) and not near_uniform(NEAR_UNIFORM) and near_uniform(None) is None


def test_callback_records_every_edge_each_epoch_and_restores():
    net = SearchNetwork(SearchSpec("darts", C=4, n_classes=3, n_cells=2, n_nodes=2))
    diagnostics = SearchDiagnostics()
    diagnostics(1, net)
    entry = diagnostics.epochs[0]
    n_edges = net.edge_weights()["normal"].shape[0]
    assert entry["epoch"] == 1 and len(entry["top_over_uniform"]["reduce"]) == len(entry["entropy"]["normal"]) == n_edges
    assert min(entry["entropy"]["normal"]) > 0.99  # freshly initialised alphas are almost uniform
    assert SearchDiagnostics(diagnostics.state()["diagnostics"]).epochs == diagnostics.epochs
