"""Weight pruning (lottery tickets, LNAS Variant 1) and path pruning (Variant 2): invariants, hand cases."""

from collections import Counter
from collections.abc import Callable

import pytest
import torch
from torch import nn

from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.darts.ops import DARTS_SPACE
from lib.darts.search import CELL_TYPES, SearchNetwork, SearchSpec
from lib.data.cifar10 import TensorBatches
from lib.data.synthetic import synthetic_images
from lib.darts.flops import count_macs, layer_macs
from lib.pruning.lottery import LotteryTicketPruning
from lib.pruning.mask import Mask, prunable_weights
from lib.pruning.paths import PathPruningSchedule, path_sparsity, prune_paths
from lib.pruning.schedule import check_schedule, sparsity_after
from lib.pruning.weights import apply_mask, magnitude_prune, mask_gradients, prune_to_sparsity, reset_momentum, rewind
from lib.training.search import SearchSettings, search
from lib.training.train import TrainSettings, train_network



def per_round_rate(target_sparsity: float, rounds: int) -> float:
    """Oracle: ``1 - (1 - p)^(1/n)``, the fraction of surviving entries to prune in each of ``n`` rounds."""
    check_schedule(target_sparsity, rounds)
    return 1.0 - (1.0 - target_sparsity) ** (1.0 / rounds)


def pruned_count_after(total: int, target_sparsity: float, rounds: int, k: int) -> int:
    """Oracle: pruned entries out of ``total`` after round ``k``: ``round(total * sparsity_after(p, n, k))``."""
    return round(total * sparsity_after(target_sparsity, rounds, k))


def mask_after_step(mask: Mask) -> Callable[[nn.Module], None]:
    """A ``TrainHooks.after_step`` callback that re-applies ``mask`` (what ``LotteryTicketPruning`` does)."""
    return lambda model: apply_mask(model, mask)


TINY = SearchSpec("darts", C=4, n_classes=3, n_cells=3, n_nodes=2)
N_PATHS = 2 * TINY.n_edges * len(DARTS_SPACE)  # 80
GENOTYPE = Genotype(
    normal=[("sep_conv_3x3", 0), ("skip_connect", 1), ("dil_conv_3x3", 2), ("max_pool_3x3", 0)],
    normal_concat=[2, 3],
    reduce=[("max_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 2), ("avg_pool_3x3", 1)],
    reduce_concat=[2, 3],
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _mlp(widths: tuple[int, ...] = (32, 32, 32)) -> nn.Sequential:
    layers = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])]
    return nn.Sequential(*layers[:1], nn.BatchNorm1d(widths[1]), nn.ReLU(), *layers[1:])


def _convnet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


def _batches(n: int, batch_size: int, seed: int = 0, split: str = "train", n_classes: int = 10) -> TensorBatches:
    images, labels, _ = synthetic_images(n, n_classes, (3, 8, 8), seed=seed, split=split)
    return TensorBatches(images, labels, batch_size, seed=seed)


def _pruned(mask: Mask) -> int:
    return mask.total - mask.unpruned


# --- schedule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 0.95])
@pytest.mark.parametrize("n", [1, 3, 10])
def test_per_round_rate_reaches_the_target_after_n_rounds(p: float, n: int) -> None:
    assert (1 - per_round_rate(p, n)) ** n == pytest.approx(1 - p, rel=1e-12)
    assert sparsity_after(p, n, n) == pytest.approx(p, rel=1e-12)
    if n > 1:  # the report's literal "prune p^(1/n) per round" overshoots (INCONSISTENCIES #37)
        assert 1 - (1 - p ** (1 / n)) ** n > p


@pytest.mark.parametrize("total", [80, 224, 1000, 3 * 10**6 + 7])
def test_scheduled_counts_are_monotone_and_exact_at_the_end(total: int) -> None:
    for p, n in [(0.95, 7), (0.5, 10), (0.625, 3)]:
        counts = [pruned_count_after(total, p, n, k) for k in range(n + 1)]
        assert counts[0] == 0 and counts[-1] == round(total * p)
        assert counts == sorted(counts)


def test_schedule_rejects_bad_arguments() -> None:
    for p, n in [(1.0, 3), (-0.1, 3), (0.5, 0)]:
        with pytest.raises(ValueError):
            per_round_rate(p, n)


# --- the mask type -------------------------------------------------------------------------------

def test_prunable_weights_are_conv_and_linear_weights_only() -> None:
    net = SearchNetwork(TINY)
    mask = Mask.ones_like(net)
    modules = dict(net.named_modules())
    assert mask and all(isinstance(modules[name.removesuffix(".weight")], (nn.Conv2d, nn.Linear)) for name in mask)
    assert "alpha_normal" not in mask and "classifier.bias" not in mask
    assert not any("bn" in name or name.endswith("bias") for name in mask)
    n_conv_linear = sum(m.weight.numel() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert mask.total == n_conv_linear and mask.sparsity == 0.0 and mask.density == 1.0
    assert "classifier.weight" not in Mask.ones_like(net, exclude=["classifier.weight"])
    with pytest.raises(KeyError, match="not prunable"):
        prunable_weights(net, exclude=["classifier.bias"])


def test_mask_validation_and_statistics() -> None:
    with pytest.raises(TypeError, match="bool"):
        Mask({"0.weight": torch.ones(3)})
    mask = Mask({"a": torch.tensor([True, False, False, False]), "b": torch.tensor([[True, True], [True, True]])})
    assert mask.sparsity == 3 / 8 and mask.density == 5 / 8
    assert mask.per_layer_sparsity() == {"a": 0.75, "b": 0.0}
    with pytest.raises(KeyError, match="unknown parameter"):
        mask.check(_mlp())


# --- magnitude pruning ---------------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["global", "layer"])
def test_rounds_of_magnitude_pruning_reach_exact_sparsity_with_nested_masks(scope: str) -> None:
    model = _mlp()  # two 32x32 linear weights: 2048 prunable entries
    p, n = 0.875, 3  # per-round rate exactly 0.5: 1024, 512, 256 survivors
    masks = [Mask.ones_like(model)]
    for _ in range(n):
        masks.append(magnitude_prune(model, masks[-1], per_round_rate(p, n), scope))
        apply_mask(model, masks[-1])
        assert masks[-1].is_nested_in(masks[-2])
    assert [m.unpruned for m in masks] == [2048, 1024, 512, 256]
    if scope == "layer":
        assert all(s == 0.875 for s in masks[-1].per_layer_sparsity().values())


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_prune_to_sparsity_is_exact_at_every_round(scope: str) -> None:
    model = _mlp((10, 100, 3))  # 1000 + 300 prunable entries
    mask = Mask.ones_like(model)
    p, n = 0.95, 7
    for k in range(1, n + 1):
        new = prune_to_sparsity(model, mask, sparsity_after(p, n, k), scope)
        assert new.is_nested_in(mask)
        mask = new
        if scope == "global":
            assert _pruned(mask) == pruned_count_after(1300, p, n, k)
        else:
            assert _pruned(mask) == pruned_count_after(1000, p, n, k) + pruned_count_after(300, p, n, k)
    with pytest.raises(ValueError, match="cannot prune"):
        prune_to_sparsity(model, mask, 0.5, scope)


def test_magnitude_prune_drops_the_smallest_survivors() -> None:
    model = _mlp((4, 4, 4))
    with torch.no_grad():
        model[0].weight.copy_(torch.arange(16.0).view(4, 4) - 7.5)  # |w| = 7.5, 6.5, ..., 0.5, 0.5, ..., 7.5
    mask = magnitude_prune(model, Mask.ones_like(model, exclude=["3.weight"]), 0.25)
    assert mask["0.weight"].flatten().tolist() == [True] * 6 + [False] * 4 + [True] * 6
    mask = magnitude_prune(model, mask, 0.5)  # 6 of the 12 survivors: |w| 1.5, 2.5, 3.5 on both sides
    assert mask["0.weight"].flatten().tolist() == [True] * 3 + [False] * 10 + [True] * 3


def test_ties_are_broken_deterministically_in_parameter_then_row_major_order() -> None:
    model = _mlp((4, 4, 4))
    with torch.no_grad():
        for layer in (model[0], model[3]):
            layer.weight.fill_(0.5)
    mask = magnitude_prune(model, Mask.ones_like(model), 0.25, "global")
    assert _pruned(mask) == 8  # a threshold rule would prune all 32 tied entries, or none
    assert not mask["0.weight"].flatten()[:8].any() and mask["0.weight"].flatten()[8:].all()
    assert mask["3.weight"].all()
    again = magnitude_prune(model, Mask.ones_like(model), 0.25, "global")
    assert all(torch.equal(again[k], m) for k, m in mask.items())
    for keep in magnitude_prune(model, Mask.ones_like(model), 0.25, "layer").values():
        assert not keep.flatten()[:4].any() and keep.flatten()[4:].all()


def test_global_and_layer_scope_differ_where_layers_have_different_scales() -> None:
    model = _mlp((8, 8, 8))
    with torch.no_grad():
        model[0].weight.uniform_(1.0, 2.0)
        model[3].weight.uniform_(0.0, 0.1)
    glob = magnitude_prune(model, Mask.ones_like(model), 0.5, "global")
    layer = magnitude_prune(model, Mask.ones_like(model), 0.5, "layer")
    assert glob.per_layer_sparsity() == {"0.weight": 0.0, "3.weight": 1.0}
    assert layer.per_layer_sparsity() == {"0.weight": 0.5, "3.weight": 0.5}
    assert glob.sparsity == layer.sparsity == 0.5


# --- keeping pruned weights at zero, rewinding ----------------------------------------------------

def _sgd_steps(model: nn.Module, steps: int, after_step=None) -> torch.optim.SGD:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    x, y = torch.randn(16, 3, 6, 6), torch.randint(0, 4, (16,))
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        if after_step:
            after_step(model)
    return optimizer


def _pruned_entries(model: nn.Module, mask: Mask) -> torch.Tensor:
    params = dict(model.named_parameters())
    return torch.cat([params[name].detach()[~keep] for name, keep in mask.items()])


def _half_mask(model: nn.Module) -> Mask:
    mask = magnitude_prune(model, Mask.ones_like(model), 0.5)
    apply_mask(model, mask)
    return mask


def test_masked_weights_stay_exactly_zero_through_sgd_with_momentum_and_weight_decay() -> None:
    model = _convnet()
    mask = _half_mask(model)
    _sgd_steps(model, 5)
    assert bool((_pruned_entries(model, mask) != 0).any())  # without re-applying, pruned weights come back
    apply_mask(model, mask)
    zero = mask_after_step(mask)
    for _ in range(20):
        _sgd_steps(model, 1, zero)
        assert bool((_pruned_entries(model, mask) == 0).all())


def test_masked_gradients_keep_pruned_momentum_entries_at_zero() -> None:
    model = _convnet()
    optimizer = _sgd_steps(model, 3)
    mask = _half_mask(model)
    reset_momentum(optimizer)
    assert all("momentum_buffer" not in optimizer.state[p] for p in model.parameters())
    handles = mask_gradients(model, mask)
    params = dict(model.named_parameters())
    x, y = torch.randn(16, 3, 6, 6), torch.randint(0, 4, (16,))
    for _ in range(20):  # no re-applying: zero gradient + zero weight + zero buffer stay zero
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert bool((_pruned_entries(model, mask) == 0).all())
    for name, keep in mask.items():
        assert bool((optimizer.state[params[name]]["momentum_buffer"][~keep] == 0).all())
        assert bool((optimizer.state[params[name]]["momentum_buffer"][keep] != 0).any())
    for handle in handles:
        handle.remove()


def test_rewind_gives_theta0_times_mask_and_theta0_elsewhere() -> None:
    model = _convnet()
    theta0 = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    _sgd_steps(model, 3)
    mask = magnitude_prune(model, Mask.ones_like(model), 0.6)
    rewind(model, theta0, mask)
    for name, value in model.state_dict().items():
        expected = theta0[name] * mask[name] if name in mask else theta0[name]
        assert torch.equal(value, expected), name


# --- Variant 1 inside train_network ---------------------------------------------------------------

def _tiny_discrete() -> DiscreteNetwork:
    return DiscreteNetwork(GENOTYPE, C=4, n_classes=10, n_cells=3)


def test_one_shot_prune_and_rewind_inside_train_network() -> None:
    model = _tiny_discrete()
    theta0 = {k: v.clone() for k, v in model.state_dict().items()}
    pruner = LotteryTicketPruning.one_shot(model, 0.75, prune_epoch=2)
    seen = {}

    def on_epoch_end(epoch: int, net: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        pruner.on_epoch_end(epoch, net, optimizer)
        if epoch == 2:
            seen["state"] = {k: v.clone() for k, v in net.state_dict().items()}
            seen["buffers"] = [s for s in optimizer.state.values() if "momentum_buffer" in s]
        seen[f"sparsity_{epoch}"] = pruner.mask.sparsity

    hooks = pruner.hooks
    hooks.on_epoch_end = on_epoch_end
    result = train_network(model, _batches(32, 16), _batches(16, 16, split="test"), TrainSettings(epochs=4),
                           torch.device("cpu"), hooks)
    mask, total = pruner.mask, pruner.mask.total
    assert len(result.history) == 4 and seen["sparsity_1"] == 0.0
    assert [entry["epoch"] for entry in pruner.log] == [2]
    assert _pruned(mask) == round(0.75 * total) and pruner.log[0]["sparsity"] == mask.sparsity
    assert seen["sparsity_4"] == mask.sparsity  # the mask stays fixed after the pruning epoch
    for name, value in seen["state"].items():  # right after pruning: theta_0 * mask, theta_0 elsewhere
        assert torch.equal(value, theta0[name] * mask[name] if name in mask else theta0[name]), name
    assert not seen["buffers"]  # momentum was reset
    assert bool((_pruned_entries(model, mask) == 0).all())
    assert not torch.equal(model.state_dict()["classifier.weight"], seen["state"]["classifier.weight"])


def test_iterative_algorithm_1_prunes_each_round_without_rewinding() -> None:
    model = _convnet()
    pruner = LotteryTicketPruning.iterative(model, 0.75, epochs=6, rounds=2)
    assert pruner.prune_epochs == (2, 4) and pruner.hooks.select_from_epoch == 5
    optimizer = _sgd_steps(model, 2, pruner.after_step)
    for epoch in range(1, 7):
        _sgd_steps(model, 1, pruner.after_step)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        pruner.on_epoch_end(epoch, model, optimizer)
        for name, keep in pruner.mask.items():  # survivors keep their trained values
            assert torch.equal(model.state_dict()[name], before[name] * keep)
    total = pruner.mask.total
    assert [e["epoch"] for e in pruner.log] == [2, 4]
    assert [round(e["sparsity"] * total) for e in pruner.log] == [pruned_count_after(total, 0.75, 2, k) for k in (1, 2)]


def test_pruner_state_round_trip_restores_mask_and_gradient_masking() -> None:
    model = _convnet()
    pruner = LotteryTicketPruning.one_shot(model, 0.5, prune_epoch=1)
    pruner.on_epoch_end(1, model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    fresh = _convnet()
    fresh.load_state_dict(model.state_dict())
    resumed = LotteryTicketPruning.one_shot(fresh, 0.5, prune_epoch=1)
    resumed.load_state_dict(pruner.state_dict(), fresh)
    assert resumed.log == pruner.log and all(torch.equal(resumed.mask[k], m) for k, m in pruner.mask.items())
    nn.functional.cross_entropy(fresh(torch.randn(4, 3, 6, 6)), torch.randint(0, 4, (4,))).backward()
    grads = dict((n, p.grad) for n, p in fresh.named_parameters())
    assert all(bool((grads[name][~keep] == 0).all()) for name, keep in resumed.mask.items())


def test_a_resumed_pruner_keeps_its_tensors_on_the_model_device() -> None:
    """A checkpoint loads on the CPU; the mask and theta_0 must follow the model (the meta device stands in
    for a GPU here: on the H200 a CPU mask made every resumed Variant-1 / Algorithm-3 run fail)."""
    model = _convnet()
    pruner = LotteryTicketPruning.one_shot(model, 0.5, prune_epoch=1)
    pruner.on_epoch_end(1, model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    elsewhere = _convnet().to("meta")
    resumed = LotteryTicketPruning.one_shot(elsewhere, 0.5, prune_epoch=1)
    resumed.load_state_dict(pruner.state_dict(), elsewhere)
    assert {t.device.type for t in [*resumed.mask.values(), *resumed.initial_state.values()]} == {"meta"}


def test_masked_macs_drop_by_the_masked_share_of_each_layer() -> None:
    model = _tiny_discrete()
    mask = prune_to_sparsity(model, Mask.ones_like(model), 0.8)
    example = (1, 3, 8, 8)
    dense, per_layer = count_macs(model, example), layer_macs(model, example)
    removed = sum(per_layer[name] * (keep.numel() - int(keep.sum())) // keep.numel() for name, keep in mask.items())
    assert count_macs(model, example, masks=mask) == dense - removed
    assert removed > 0.5 * sum(per_layer.values())


# --- Variant 2: path pruning ----------------------------------------------------------------------

def _all_masks(net: SearchNetwork) -> torch.Tensor:
    return torch.stack([getattr(net, f"mask_{t}") for t in CELL_TYPES])


def test_pruned_paths_are_not_run_and_get_no_gradient() -> None:
    net = SearchNetwork(TINY)
    schedule = PathPruningSchedule(0.5, rounds=2)
    for epoch in (1, 2):
        schedule(epoch, net)
    calls: Counter = Counter()
    for c, cell in enumerate(net.cells):
        for e, edge in enumerate(cell.edges):
            for i, op in enumerate(edge.ops):
                op.register_forward_hook(lambda *_, key=(c, e, i): calls.update([key]))
    net(torch.randn(2, 3, 8, 8)).sum().backward()
    for c, cell in enumerate(net.cells):
        active = getattr(net, "mask_reduce" if cell.reduction else "mask_normal")
        for e, edge in enumerate(cell.edges):
            for i, op in enumerate(edge.ops):
                ran = calls[(c, e, i)] > 0
                assert ran == (bool(active[e, i]) and DARTS_SPACE[i] != "none")
                assert all((p.grad is not None) == ran for p in op.parameters())
    for t in CELL_TYPES:
        alpha, active = getattr(net, f"alpha_{t}"), getattr(net, f"mask_{t}")
        assert bool((alpha.grad[~active] == 0).all())


@pytest.mark.parametrize("scope", ["global", "edge"])
@pytest.mark.parametrize("p, n", [(0.5, 2), (0.625, 3), (0.75, 10)])
def test_path_schedule_reaches_exact_fraction_with_nested_masks(scope: str, p: float, n: int) -> None:
    net = SearchNetwork(TINY)
    schedule = PathPruningSchedule(p, rounds=n, scope=scope)
    previous = _all_masks(net).clone()
    for epoch in range(1, n + 2):
        schedule(epoch, net)
        assert bool((_all_masks(net) <= previous).all())
        previous = _all_masks(net).clone()
    assert len(schedule.log) == n and all(entry["reachable"] for entry in schedule.log)
    assert path_sparsity(net) == round(N_PATHS * p) / N_PATHS
    if scope == "edge":
        assert bool(((~_all_masks(net)).sum(-1) == round(len(DARTS_SPACE) * p)).all())


def test_every_edge_keeps_its_best_real_op_and_the_shortfall_is_logged() -> None:
    net = SearchNetwork(TINY)
    none = DARTS_SPACE.index("none")
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.normal_()
            alpha[:, none] = 5.0  # 'none' has the largest weight on every edge, yet may not be the survivor
    schedule = PathPruningSchedule(0.95, rounds=3)
    for epoch in (1, 2, 3):
        schedule(epoch, net)
    for t in CELL_TYPES:
        best_real = getattr(net, f"alpha_{t}").detach().clone()
        best_real[:, none] = float("-inf")
        expected = torch.zeros_like(getattr(net, f"mask_{t}"))
        expected[torch.arange(TINY.n_edges), best_real.argmax(-1)] = True
        assert torch.equal(getattr(net, f"mask_{t}"), expected)
    last = schedule.log[-1]
    assert last["target_masked"] == round(0.95 * N_PATHS) == 76
    assert last["masked"] == N_PATHS - 2 * TINY.n_edges and not last["reachable"]


def test_genotype_never_uses_a_pruned_op() -> None:
    net = SearchNetwork(TINY)
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.normal_()
    schedule = PathPruningSchedule(0.8, rounds=2)
    for epoch in (1, 2):
        schedule(epoch, net)
    genotype = net.genotype()
    for t, gene in (("normal", genotype.normal), ("reduce", genotype.reduce)):
        active = getattr(net, f"mask_{t}")
        first = [0, 2]  # first edge of each node (n_nodes = 2)
        for position, (op, index) in enumerate(gene):
            if op != "none":
                assert bool(active[first[position // 2] + index, DARTS_SPACE.index(op)])


def test_global_scope_prunes_confident_edges_harder_than_edge_scope() -> None:
    def net_with_confident_reduce_edges() -> SearchNetwork:
        net = SearchNetwork(TINY)
        with torch.no_grad():
            net.alpha_normal.zero_()
            net.alpha_reduce.zero_()
            net.alpha_reduce[:, DARTS_SPACE.index("sep_conv_3x3")] = 10.0
        return net

    glob = net_with_confident_reduce_edges()
    masks = prune_paths(glob, 0.5, "global")
    assert masks["reduce"].sum(-1).tolist() == [1] * TINY.n_edges  # 35 near-zero paths first, then 5 normal
    assert int((~masks["normal"]).sum()) == 5
    edge = net_with_confident_reduce_edges()
    masks = prune_paths(edge, 0.5, "edge")
    assert all(row.sum() == 4 for t in CELL_TYPES for row in masks[t])
    assert bool(masks["reduce"][:, DARTS_SPACE.index("sep_conv_3x3")].all())


def test_path_schedule_inside_search() -> None:
    net = SearchNetwork(TINY)
    schedule = PathPruningSchedule(0.5, rounds=2)
    weight_batches, alpha_batches = _batches(16, 8, n_classes=3), _batches(16, 8, seed=1, n_classes=3)
    result = search(net, weight_batches, alpha_batches, SearchSettings(epochs=2), torch.device("cpu"), on_epoch_end=schedule)
    assert [entry["epoch"] for entry in schedule.log] == [1, 2]
    assert [entry["masked"] for entry in schedule.log] == [pruned_count_after(N_PATHS, 0.5, 2, k) for k in (1, 2)]
    assert result.history[-1]["genotype"] == net.genotype().to_string()
