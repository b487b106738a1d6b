"""The fast paths agree with the reference ones: the search step, channels_last (and its guard), the
mask-and-compute mode, and the reused task workspace."""

import copy
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib.darts.network import DiscreteNetwork
from lib.darts.genotype import Genotype
from lib.darts.search import SearchNetwork, SearchSpec
from lib.data.cifar10 import TensorBatches
from lib.data.synthetic import SyntheticFewShotTasks
from lib.meta.losses import FNNLoss
from lib.experiments.search_cost import MODES, SearchCostConfig, _measure
from lib.meta.task_learner import META_TRAIN, TaskWorkspace, adapt
from lib.pipeline.divergence import Diverged
from lib.pipeline.results import Record
from lib.report.lnas import step_costs
from lib.training.layout import channels_last_safe, memory_format
from lib.training.search import SearchSettings, SearchStepper, search, search_step
from lib.training.train import TrainSettings, train_network

CPU = torch.device("cpu")
SMALL = SearchSpec("darts", C=4, n_classes=5, n_cells=3, n_nodes=2)
# Reduction cells at C=16 and a FactorizedReduce fed 16 channels: safe for channels_last (pitfall 10).
SAFE = SearchSpec("darts", C=8, n_classes=5, n_cells=3, n_nodes=2)
FEWSHOT = SearchSpec("fewshot", C=4, n_classes=5, n_cells=2, n_nodes=2, in_channels=1, reduction_cells=(1,),
                     channel_growth=1, track_running_stats=False, op_prune_threshold=0.01, pairwise_inputs=True)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _batch(spec: SearchSpec, n: int = 4, side: int = 8) -> tuple[Tensor, Tensor]:
    return torch.randn(n, spec.in_channels, side, side), torch.randint(spec.n_classes, (n,))


def _prune_some(net: SearchNetwork) -> SearchNetwork:
    """Mask a third of the paths (never a whole edge), so masked and 'none' paths both occur."""
    for t in ("normal", "reduce"):
        mask = torch.rand(net.spec.n_edges, len(net.ops)) > 0.33
        mask[:, 1] = True
        net.set_path_mask(t, mask)
    return net


def _grads(net: SearchNetwork, batch: tuple[Tensor, Tensor], temperature: float = 1.0) -> list[Tensor]:
    net.zero_grad(set_to_none=True)
    F.cross_entropy(net(batch[0], temperature), batch[1]).backward()
    return [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in net.parameters()]


def _relative(a: list[Tensor], b: list[Tensor]) -> float:
    diff = torch.cat([(x - y).flatten() for x, y in zip(a, b)]).norm()
    return float(diff / torch.cat([y.flatten() for y in b]).norm())


@pytest.mark.parametrize("spec, temperature", [(SMALL, 1.0), (FEWSHOT, 0.1)])
def test_skipping_gives_the_reference_logits_and_gradients(spec: SearchSpec, temperature: float) -> None:
    """Default (skip 'none', masked and below-threshold ops) vs the reference way (compute every op, 'none'
    as x * 0): the same forward exactly, and alpha and weight gradients within 1e-6 (float32 rounding)."""
    fast = _prune_some(SearchNetwork(spec))
    reference = copy.deepcopy(fast).compute_every_op()
    batch = _batch(spec, side=14 if spec is FEWSHOT else 8)
    assert torch.equal(fast(batch[0], temperature), reference(batch[0], temperature))
    names = [name for name, _ in fast.named_parameters()]
    assert any(name.startswith("alpha") for name in names)
    for name, f, r in zip(names, _grads(fast, batch, temperature), _grads(reference, batch, temperature)):
        assert torch.allclose(f, r, rtol=1e-6, atol=1e-7), name


def test_search_step_is_the_textbook_step() -> None:
    """search_step = quark0's first-order step: Adam on the alphas from grad_alpha L_val, then SGD with
    momentum and weight decay on the clipped weight gradient, all of it computed with plain autograd."""
    settings = SearchSettings(epochs=1, grad_clip=0.1)  # small clip so that clipping is active
    net = SearchNetwork(SMALL)
    oracle = copy.deepcopy(net).compute_every_op()
    stepper = SearchStepper.build(net, settings)
    w_opt = torch.optim.SGD(oracle.weights(), settings.lr, momentum=settings.momentum,
                            weight_decay=settings.weight_decay)
    a_opt = torch.optim.Adam(oracle.alphas(), settings.alpha_lr, betas=settings.alpha_betas,
                             weight_decay=settings.alpha_weight_decay)
    for _ in range(2):  # the second step uses the momentum buffers
        train, val = _batch(SMALL), _batch(SMALL)
        search_step(stepper, train, val)
        oracle.zero_grad(set_to_none=True)
        F.cross_entropy(oracle(val[0]), val[1]).backward()
        a_opt.step()
        oracle.zero_grad(set_to_none=True)
        F.cross_entropy(oracle(train[0]), train[1]).backward()
        assert nn.utils.clip_grad_norm_(oracle.weights(), settings.grad_clip) > settings.grad_clip
        w_opt.step()
    for (name, p), q in zip(net.named_parameters(), oracle.parameters()):
        assert torch.allclose(p, q, rtol=1e-5, atol=1e-6), name


def test_channels_last_guard() -> None:
    """Pitfall 10: 'auto' falls back to NCHW and True is refused where a FactorizedReduce sees < 16 channels
    or a batch is odd; a safe network gets channels_last."""
    small, safe = SearchNetwork(SMALL), SearchNetwork(SAFE)
    assert not channels_last_safe(small, [4]) and channels_last_safe(safe, [4]) and not channels_last_safe(safe, [5])
    assert memory_format("auto", small, [4], CPU) == torch.contiguous_format
    assert memory_format("auto", safe, [4, 2], CPU) == torch.channels_last
    assert memory_format("auto", safe, [4, 3], CPU) == torch.contiguous_format
    assert memory_format(False, safe, [4], CPU) == torch.contiguous_format
    with pytest.raises(ValueError, match="pitfall 10"):
        memory_format(True, small, [4], CPU)
    with pytest.raises(ValueError, match="pitfall 10"):
        memory_format(True, safe, [5], CPU)
    with pytest.raises(ValueError, match="'auto'"):
        memory_format("yes", safe, [4], CPU)


def test_channels_last_gradients_agree_with_nchw_on_a_safe_network() -> None:
    """channels_last vs NCHW on a safe supernet: logits within 1e-4 and all gradients (alphas and weights)
    within 1e-4 in relative norm (measured: 1.0-1.7e-6 over 5 seeds). On larger supernets values within
    rounding of a ReLU or max-pool kink take the other branch and the difference grows to 1e-3..1e-2
    (benchmarks/README.md); the oneDNN fault of pitfall 10 gives errors of order 1."""
    nchw = SearchNetwork(SAFE)
    cl = copy.deepcopy(nchw).to(memory_format=torch.channels_last)
    x, y = _batch(SAFE, n=4, side=8)
    assert torch.allclose(nchw(x), cl(x.contiguous(memory_format=torch.channels_last)), atol=1e-4)
    reference = _grads(nchw, (x, y))
    assert _relative(_grads(cl, (x.contiguous(memory_format=torch.channels_last), y)), reference) < 1e-4


def test_channels_last_discrete_network_gradients_agree() -> None:
    """The derived network trains in channels_last too: same check, same tolerance."""
    genotype = Genotype.from_string(
        "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 0), ('dil_conv_3x3', 2)], "
        "normal_concat=[2, 3], reduce=[('skip_connect', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 2), "
        "('max_pool_3x3', 1)], reduce_concat=[2, 3])")
    net = DiscreteNetwork(genotype, C=8, n_classes=5, n_cells=3)
    assert channels_last_safe(net, [4])
    cl = copy.deepcopy(net).to(memory_format=torch.channels_last)
    x, y = torch.randn(4, 3, 8, 8), torch.randint(5, (4,))
    grads = []
    for model in (net, cl):
        F.cross_entropy(model(x), y).backward()
        grads.append([p.grad for p in model.parameters()])
    assert _relative(grads[1], grads[0]) < 1e-4


def test_a_reused_workspace_gives_the_numbers_of_a_fresh_one() -> None:
    """Old path (new copies and new optimisers for the task) vs new path (a workspace used by an earlier
    task, reset in place): bit-identical adapted parameters and query metrics, and the meta model untouched."""
    model, loss = SearchNetwork(FEWSHOT), FNNLoss(5, residual=True)
    tasks = SyntheticFewShotTasks(5, 3, 2, image_shape=(1, 14, 14), seed=0)
    settings = replace(META_TRAIN, steps=2, batch_size=10)
    workspace = TaskWorkspace(model, loss)
    adapt(model, loss, tasks.sample(1), settings, train_phi=True, proxy="mse",
          generator=torch.Generator().manual_seed(1), workspace=workspace)
    torch.manual_seed(5)  # drop-path draws from the global generator
    reused = adapt(model, loss, tasks.sample(2), settings, train_phi=True, proxy="mse",
                   generator=torch.Generator().manual_seed(2), workspace=workspace)
    torch.manual_seed(5)
    fresh = adapt(copy.deepcopy(model), copy.deepcopy(loss), tasks.sample(2), settings, train_phi=True, proxy="mse",
                  generator=torch.Generator().manual_seed(2))
    for field in ("theta", "alpha", "phi"):
        a, b = getattr(reused, field), getattr(fresh, field)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), field
    assert (reused.query_accuracy, reused.query_ce, reused.learned_loss, reused.sparse_params) == (
        fresh.query_accuracy, fresh.query_ce, fresh.learned_loss, fresh.sparse_params)
    with pytest.raises(ValueError, match="another meta model"):
        workspace.reset(copy.deepcopy(model), loss)


def test_search_cost_times_the_search_step_both_ways() -> None:
    """Sec. 5.3: each mode runs the search step on the pruned supernet; the table puts both beside plain DARTS."""
    cfg = SearchCostConfig.for_profile("smoke", sparsity=0.5, steps=1, warmup=0)
    measured = {mode: _measure(cfg, mode) for mode in MODES}
    assert all(m["seconds_per_step"] > 0 and m["path_sparsity"] == pytest.approx(0.5, abs=0.02)
               for m in measured.values())
    with pytest.raises(ValueError, match="modes"):
        replace(cfg, modes=("compute",))
    records = [Record("lnas_search_cost", str(p), {"sparsity": p},
                      {**measured["skip"], "compute": {**measured["compute"], "seconds_per_step": 2.0 + p}}, {})
               for p in (0.0, 0.5)]
    table = step_costs(records)
    assert list(table["time vs DARTS (masked, computed)"]) == [1.0, 2.5 / 2.0]
    assert table["time vs DARTS (skip)"].iloc[0] == measured["skip"]["seconds_per_step"] / 2.0


def _cifar_like(n: int, batch: int, seed: int) -> TensorBatches:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=g)
    return TensorBatches(images, torch.randint(0, 5, (n,), generator=g), batch_size=batch, seed=seed)


def test_the_loops_stop_on_a_non_finite_loss() -> None:
    """Trust's checks with speed's on-device sums: the search stops at the first step with a NaN loss or
    alpha, the training at the end of the epoch whose mean loss is non-finite."""
    net = SearchNetwork(SMALL)
    with torch.no_grad():
        net.weights()[0].fill_(float("nan"))
    with pytest.raises(Diverged, match="search epoch 1 step 1: alphas: 80 of 80 values non-finite"):
        search(net, _cifar_like(8, 4, 0), _cifar_like(8, 4, 1), SearchSettings(epochs=2), CPU)
    derived = DiscreteNetwork(SearchNetwork(SMALL).genotype(), C=4, n_classes=5, n_cells=3)
    with torch.no_grad():
        next(derived.parameters()).fill_(float("inf"))
    with pytest.raises(Diverged, match="train epoch 1: train loss"):
        train_network(derived, _cifar_like(8, 4, 0), _cifar_like(8, 8, 2), TrainSettings(epochs=2), CPU)
