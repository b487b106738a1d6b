"""Supernet: the mixture, masked and 'none' paths, temperature, masks, parameter split, channels_last."""

import copy
from collections import Counter
from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad

from lib.darts.ops import DARTS_SPACE
from lib.darts.search import MixedOp, SearchNetwork, SearchSpec

TINY = SearchSpec("darts", C=4, n_classes=3, n_cells=3, n_nodes=2)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _count_calls(modules: dict[str, nn.Module]) -> Counter:
    calls: Counter = Counter()
    for key, module in modules.items():
        module.register_forward_hook(lambda *_, key=key: calls.update([key]))
    return calls


@pytest.mark.parametrize("stride", [1, 2])
def test_mixed_op_is_the_softmax_mixture(stride: int) -> None:
    mixed = MixedOp(4, stride, DARTS_SPACE)
    x = torch.randn(2, 4, 6, 6)
    alpha = torch.randn(len(DARTS_SPACE))
    weights = torch.exp(alpha) / torch.exp(alpha).sum()
    out = mixed(x, weights, [True] * len(DARTS_SPACE))
    expected = sum(weights[i] * mixed.ops[i](x) for i, name in enumerate(DARTS_SPACE) if name != "none")
    assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("stride", [1, 2])
def test_mixed_op_with_only_none_active_returns_zeros(stride: int) -> None:
    mixed = MixedOp(4, stride, DARTS_SPACE)
    active = [name == "none" for name in DARTS_SPACE]
    out = mixed(torch.randn(2, 4, 5, 5), torch.ones(len(DARTS_SPACE)), active)
    assert torch.equal(out, torch.zeros(2, 4, 5 // stride + 5 % stride, 5 // stride + 5 % stride))


def test_masked_ops_are_not_run_and_get_no_gradient() -> None:
    net = SearchNetwork(TINY)
    mask = torch.ones(TINY.n_edges, len(DARTS_SPACE), dtype=torch.bool)
    mask[:, DARTS_SPACE.index("sep_conv_3x3")] = False
    mask[0, DARTS_SPACE.index("max_pool_3x3")] = False
    net.set_path_mask("normal", mask)
    normal_cells = [c for c in net.cells if not c.reduction]
    calls = _count_calls({f"{k}.{e}.{i}": op for k, c in enumerate(normal_cells)
                          for e, edge in enumerate(c.edges) for i, op in enumerate(edge.ops)})
    net(torch.randn(2, 3, 8, 8)).sum().backward()
    for k, cell in enumerate(normal_cells):
        for e, edge in enumerate(cell.edges):
            for i, op in enumerate(edge.ops):
                ran = calls[f"{k}.{e}.{i}"] > 0
                assert ran == (bool(mask[e, i]) and DARTS_SPACE[i] != "none")
                assert all((p.grad is not None) == ran for p in op.parameters())
    grad = net.alpha_normal.grad
    assert torch.equal(grad[~mask], torch.zeros(int((~mask).sum())))
    assert bool((grad[mask] != 0).all())


def test_none_is_never_run_but_its_alpha_gets_gradient() -> None:
    net = SearchNetwork(TINY)
    none = DARTS_SPACE.index("none")
    calls = _count_calls({f"{k}.{e}": edge.ops[none] for k, c in enumerate(net.cells)
                          for e, edge in enumerate(c.edges)})
    net(torch.randn(2, 3, 8, 8)).sum().backward()
    assert sum(calls.values()) == 0
    for alpha in net.alphas():
        assert bool((alpha.grad[:, none] != 0).all())


def test_temperature_scales_the_logits() -> None:
    net = SearchNetwork(TINY)
    mask = torch.ones(TINY.n_edges, len(DARTS_SPACE), dtype=torch.bool)
    mask[1, 2:5] = False
    net.set_path_mask("reduce", mask)
    seen = []
    net.cells[0].edges[0].register_forward_pre_hook(lambda _, args: seen.append(args[1].detach()))
    net(torch.randn(2, 3, 8, 8), temperature=0.3)
    for kind, m in [("normal", torch.ones_like(mask)), ("reduce", mask)]:
        expected = torch.exp(getattr(net, f"alpha_{kind}").detach() / 0.3) * m
        expected = expected / expected.sum(dim=1, keepdim=True)
        assert torch.allclose(net.edge_weights(0.3)[kind], expected, atol=1e-6)
    assert torch.allclose(seen[0], net.edge_weights(0.3)["normal"][0], atol=1e-6)


def test_path_mask_validation() -> None:
    net = SearchNetwork(TINY)
    good = torch.ones(TINY.n_edges, len(DARTS_SPACE), dtype=torch.bool)
    dead = good.clone()
    dead[3] = False
    with pytest.raises(ValueError, match=r"edges \[3\]"):
        net.set_path_mask("normal", dead)
    with pytest.raises(ValueError, match="shape"):
        net.set_path_mask("normal", good[:, 1:])
    with pytest.raises(TypeError, match="bool"):
        net.set_path_mask("normal", good.float())
    with pytest.raises(ValueError, match="cell_type"):
        net.set_path_mask("both", good)
    assert bool(net.mask_normal.all())


def test_spec_validation_messages() -> None:
    with pytest.raises(ValueError, match="known spaces: \\['darts', 'fewshot'\\]"):
        SearchSpec("nasbench", C=4, n_classes=3, n_cells=3)
    with pytest.raises(ValueError, match="reduction_cells"):
        SearchSpec("darts", C=4, n_classes=3, n_cells=3, reduction_cells=(1, 3))
    with pytest.raises(ValueError, match="n_nodes"):
        SearchSpec("darts", C=4, n_classes=3, n_cells=3, n_nodes=1)
    assert SearchSpec("darts", C=4, n_classes=3, n_cells=8).reductions == (2, 5)


def test_weights_and_alphas_partition_the_parameters() -> None:
    net = SearchNetwork(TINY)
    weights, alphas = {id(p) for p in net.weights()}, {id(p) for p in net.alphas()}
    assert not weights & alphas
    assert weights | alphas == {id(p) for p in net.parameters()}
    assert [name for name, _ in net.named_alphas()] == ["alpha_normal", "alpha_reduce"]
    assert all(a.shape == (TINY.n_edges, len(DARTS_SPACE)) for a in net.alphas())


@pytest.mark.parametrize("growth, expected_channels", [(1, 3 * 4), (2, 3 * 4 * 4)])
def test_fewshot_network_shapes_and_channel_growth(growth: int, expected_channels: int) -> None:
    spec = SearchSpec("fewshot", C=4, n_classes=20, n_cells=4, n_nodes=3, in_channels=1,
                      reduction_cells=(1, 3), channel_growth=growth)
    net = SearchNetwork(spec)
    assert net.alpha_normal.shape == (9, 7)
    assert net.classifier.in_features == expected_channels
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 20)


def test_drop_path_hits_non_identity_ops_in_training_only() -> None:
    mixed = MixedOp(4, 1, DARTS_SPACE)
    x = torch.randn(2, 4, 5, 5)
    weights = torch.full((len(DARTS_SPACE),), 0.5)
    active = [name in ("skip_connect", "sep_conv_3x3") for name in DARTS_SPACE]
    assert torch.allclose(mixed(x, weights, active, drop_prob=1.0), 0.5 * x)
    mixed.eval()
    full = 0.5 * x + 0.5 * mixed.ops[DARTS_SPACE.index("sep_conv_3x3")](x)
    assert torch.allclose(mixed(x, weights, active, drop_prob=1.0), full, atol=1e-6)


def test_channels_last_matches_nchw() -> None:
    """STYLE pitfall 10: every FactorizedReduce has >= 16 input channels and the batch is even."""
    net = SearchNetwork(SearchSpec("darts", C=16, n_classes=3, n_cells=3, n_nodes=2))
    other = copy.deepcopy(net).to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 8, 8)
    out = net(x)
    out_cl = other(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(out, out_cl, atol=1e-5)
    out.square().sum().backward()
    out_cl.square().sum().backward()
    for (name, p), q in zip(net.named_parameters(), other.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-4, rtol=1e-3), name


# ---------------------------------------------------------------- MetaNAS options: op pruning, pairwise inputs

FEWSHOT = SearchSpec("fewshot", C=4, n_classes=3, n_cells=2, n_nodes=3, in_channels=1, reduction_cells=(1,),
                     channel_growth=1, track_running_stats=False)


def _op_calls(net: SearchNetwork) -> Counter:
    """Forward calls per (cell index, edge, op)."""
    return _count_calls({(k, e, i): op for k, c in enumerate(net.cells)
                         for e, edge in enumerate(c.edges) for i, op in enumerate(edge.ops)})


def _ran(calls: Counter, net: SearchNetwork, kind: str) -> torch.Tensor:
    """bool (n_edges, n_ops): ops of the first cell of ``kind`` that ran."""
    k = next(i for i, c in enumerate(net.cells) if c.reduction == (kind == "reduce"))
    shape = (net.spec.n_edges, len(net.ops))
    return torch.tensor([[calls[(k, e, i)] > 0 for i in range(shape[1])] for e in range(shape[0])])


def test_ops_below_the_prune_threshold_are_skipped_without_renormalising() -> None:
    net = SearchNetwork(replace(FEWSHOT, op_prune_threshold=0.1))
    with torch.no_grad():  # edge 0: two strong ops (0.45 each), five weak ones (0.02 each)
        net.alpha_normal[0] = torch.log(torch.tensor([0.45, 0.45, 0.02, 0.02, 0.02, 0.02, 0.02]))
    seen = []
    net.cells[0].edges[0].register_forward_hook(lambda _, args, out: seen.append((args, out)))
    calls = _op_calls(net)
    net(torch.randn(2, 1, 8, 8)).sum().backward()
    ran = _ran(calls, net, "normal")
    assert ran[0].tolist() == [True, True] + [False] * 5
    assert bool(ran[1:].all())  # uniform weights 1/7 elsewhere
    (x, weights, _, _), out = seen[0]
    mixed = net.cells[0].edges[0]
    expected = weights[0] * mixed.ops[0](x) + weights[1] * mixed.ops[1](x)  # 0.9 in total: not renormalised
    assert torch.allclose(out, expected, atol=1e-6)
    assert all(p.grad is None for op in mixed.ops[2:] for p in op.parameters())
    assert bool((net.alpha_normal.grad[0] != 0).all())  # every alpha still reaches the kept weights' softmax


def test_op_pruning_works_under_torch_func() -> None:
    net = SearchNetwork(replace(FEWSHOT, op_prune_threshold=0.15, pairwise_inputs=True)).double()
    with torch.no_grad():
        net.alpha_normal.mul_(500.0)  # spread the weights so some ops fall below the threshold
        net.alpha_pw_reduce.mul_(1000.0)
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    params = {name: p.detach() for name, p in net.named_parameters()}
    got = grad(lambda p: functional_call(net, p, (x, 0.5)).square().sum())(params)
    net(x, 0.5).square().sum().backward()
    for name, p in net.named_parameters():
        expected = p.grad if p.grad is not None else torch.zeros_like(p)
        assert torch.allclose(got[name], expected, atol=1e-10), name
    assert not bool(net.active_ops(0.5)["normal"].all())


def _reference_forward(net: SearchNetwork, x: torch.Tensor, temperature: float) -> torch.Tensor:
    """Pairwise supernet by the definition: node = sum over pairs w_pair * (edge_i1 + edge_i2)."""
    weights, pairs = net.edge_weights(temperature), net.pair_weights(temperature)
    s0 = s1 = net.stem(x)
    for cell in net.cells:
        kind = "reduce" if cell.reduction else "normal"
        w = pairs[kind].split(net.spec.pairs_per_node)
        states, first = [cell.preproc0(s0), cell.preproc1(s1)], 0
        for node in range(cell.n_nodes):
            edges = [cell.edges[first + i](s, weights[kind][first + i], [True] * len(net.ops))
                     for i, s in enumerate(states)]
            pair_list = [(i1, i2) for i1 in range(len(edges)) for i2 in range(i1 + 1, len(edges))]
            states.append(sum(w[node][k] * (edges[i1] + edges[i2]) for k, (i1, i2) in enumerate(pair_list)))
            first += len(edges)
        s0, s1 = s1, torch.cat(states[2:], dim=1)
    return net.classifier(s1.mean(dim=(2, 3)))


def test_pairwise_inputs_compute_the_weighted_pair_sums() -> None:
    net = SearchNetwork(replace(FEWSHOT, pairwise_inputs=True)).double()
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.normal_()
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    assert torch.allclose(net(x, 0.7), _reference_forward(net, x, 0.7), atol=1e-10)
    assert [name for name, _ in net.named_alphas()] == ["alpha_normal", "alpha_reduce", "alpha_pw_normal",
                                                       "alpha_pw_reduce"]
    assert net.alpha_pw_normal.shape == (1 + 3 + 6,) and FEWSHOT.pairs_per_node == (1, 3, 6)
    assert {id(p) for p in net.weights()}.isdisjoint(id(p) for p in net.alphas())
    net(x).sum().backward()
    assert bool((net.alpha_pw_normal.grad[1:] != 0).all())  # node 0 has one pair: its weight is always 1


def test_pairs_below_the_threshold_skip_their_edges() -> None:
    net = SearchNetwork(replace(FEWSHOT, pairwise_inputs=True, op_prune_threshold=0.05))
    with torch.no_grad():  # node 1 (edges 2, 3, 4): only pair (0, 1) = edges (2, 3) survives; node 2 keeps all
        net.alpha_pw_normal[1:4] = torch.tensor([10.0, -10.0, -10.0])
    calls = _op_calls(net)
    net(torch.randn(2, 1, 8, 8))
    ran = _ran(calls, net, "normal")
    assert not bool(ran[4].any()) and bool(ran[[2, 3]].any(dim=1).all())
    assert torch.equal(ran, net.active_ops()["normal"] & torch.tensor([n != "none" for n in net.ops]))


def test_pairwise_genotype_takes_the_inputs_of_the_best_pair() -> None:
    net = SearchNetwork(replace(FEWSHOT, pairwise_inputs=True))
    with torch.no_grad():
        net.alpha_pw_normal[4:] = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 5.0])  # node 2: pair (2, 3)
        net.alpha_normal[5:] = 0.0
        net.alpha_normal[5, 0] = 9.0  # edge from input 0 is the strongest single edge of node 2, but not in the pair
    node2 = net.genotype().normal[4:6]
    assert sorted(i for _, i in node2) == [2, 3]


def test_prune_threshold_is_validated() -> None:
    with pytest.raises(ValueError, match="op_prune_threshold"):
        replace(FEWSHOT, op_prune_threshold=1.0)
    with pytest.raises(ValueError, match="pairwise"):
        SearchNetwork(FEWSHOT).pair_weights()
