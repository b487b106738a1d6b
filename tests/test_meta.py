"""Task learner, Reptile, MAML: hand computations, independent autograd oracles and invariants (CPU, tiny)."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from lib.darts.search import SearchNetwork, SearchSpec
from lib.data.synthetic import SyntheticFewShotTasks
from lib.data.tasks import Task
from lib.meta.losses import CrossEntropyLoss, FNNLoss, LSTMLoss
from lamanas_algorithm1 import inner_learning_rates, maml_meta_gradient
from lib.meta.reptile import ReptileSettings, make_meta_optimizers, meta_test, meta_train_epoch, reptile_update
from lib.meta.task_learner import META_TEST, META_TRAIN, adapt, sample_batch, sparse_param_count

WAYS = 5
TINY = SearchSpec(space="fewshot", C=4, n_classes=WAYS, n_cells=2, n_nodes=2, in_channels=1, reduction_cells=(1,),
                  channel_growth=1, track_running_stats=False)
FAST = replace(META_TRAIN, steps=2, batch_size=10)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _task(seed: int = 0, shots: int = 3, queries: int = 2, side: int = 14) -> Task:
    return SyntheticFewShotTasks(WAYS, shots, queries, image_shape=(1, side, side), seed=seed).sample(seed)


def _snapshot(*modules: nn.Module) -> list[dict[str, Tensor]]:
    return [{name: t.detach().clone() for name, t in m.state_dict().items()} for m in modules]


def _same(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- Reptile


@pytest.mark.parametrize("stale_grad", ["none", "zero_grad_set_to_none", "garbage"])
def test_reptile_step_equals_the_hand_computation(stale_grad: str) -> None:
    p1 = nn.Parameter(torch.tensor([1.0, -2.0]))
    p2 = nn.Parameter(torch.tensor(0.5))
    optimizer = torch.optim.SGD([p1, p2], lr=0.6)
    if stale_grad == "zero_grad_set_to_none":
        (p1.sum() + p2).backward()
        optimizer.zero_grad(set_to_none=True)
    elif stale_grad == "garbage":
        p1.grad, p2.grad = torch.full((2,), 99.0), torch.tensor(99.0)
    adapted = [[torch.tensor([2.0, -2.0]), torch.tensor(1.0)],
               [torch.tensor([0.0, 1.0]), torch.tensor(0.5)],
               [torch.tensor([4.0, -5.0]), torch.tensor(3.0)]]
    reptile_update([p1, p2], adapted, optimizer)
    # mean adapted: [2, -2], 1.5; p <- p - 0.6 * (p - mean)
    assert torch.allclose(p1.grad, torch.tensor([-1.0, 0.0]))
    assert torch.allclose(p1.detach(), torch.tensor([1.6, -2.0]))
    assert torch.allclose(p2.detach(), torch.tensor(0.5 + 0.6 * 1.0))


# ---------------------------------------------------------------- MAML


class GatedMLP(nn.Module):
    """(B, 3) -> (B, 3) logits; two branches mixed by softmax(alpha); BatchNorm without running stats."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4, track_running_stats=False)
        self.branches = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.head = nn.Linear(4, 3)
        self.alpha = nn.Parameter(0.5 * torch.randn(2))

    def named_alphas(self) -> list[tuple[str, nn.Parameter]]:
        return [("alpha", self.alpha)]

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(self.bn(self.inp(x)))
        gate = torch.softmax(self.alpha, dim=0)
        return self.head(sum(g * torch.tanh(b(h)) for g, b in zip(gate, self.branches)))


def _vector_task(n_support: int = 8, n_query: int = 6) -> Task:
    return Task(torch.randn(n_support, 3, dtype=torch.float64), torch.randint(3, (n_support,)),
                torch.randn(n_query, 3, dtype=torch.float64), torch.randint(3, (n_query,)), torch.arange(3))


def _autograd_oracle(model: nn.Module, task: Task, steps: int, lr: dict[str, float], first_order: bool
                     ) -> dict[str, Tensor]:
    """The meta-gradient by explicit unrolling with torch.autograd (create_graph unless first order).

    Parameters that do not reach the loss (e.g. the alphas of an absent cell type) get zeros.
    """
    params = {name: p.detach().clone().requires_grad_(True) for name, p in model.named_parameters()}
    current = dict(params)
    for _ in range(steps):
        loss = F.cross_entropy(functional_call(model, current, (task.support_x,)), task.support_y)
        grads = torch.autograd.grad(loss, list(current.values()), create_graph=not first_order, allow_unused=True,
                                    materialize_grads=True)
        current = {name: current[name] - lr[name] * g for name, g in zip(current, grads)}
    if first_order:
        current = {name: t.detach().requires_grad_(True) for name, t in current.items()}
        leaves = current
    else:
        leaves = params
    query = F.cross_entropy(functional_call(model, current, (task.query_x,)), task.query_y)
    return dict(zip(leaves, torch.autograd.grad(query, list(leaves.values()), allow_unused=True,
                                                materialize_grads=True)))


def _close(a: dict[str, Tensor], b: dict[str, Tensor], atol: float = 1e-10) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=atol) for k in a)


def test_maml_second_order_matches_autograd_unrolling_and_differs_from_first_order() -> None:
    model, task = GatedMLP().double(), _vector_task()
    lr = inner_learning_rates(model, theta_lr=0.3, alpha_lr=0.7)
    params = dict(model.named_parameters())
    second = maml_meta_gradient(model, params, task, 3, lr, F.cross_entropy, first_order=False)
    first = maml_meta_gradient(model, params, task, 3, lr, F.cross_entropy, first_order=True)
    assert _close(second, _autograd_oracle(model, task, 3, lr, first_order=False))
    assert _close(first, _autograd_oracle(model, task, 3, lr, first_order=True))
    assert not _close(first, second, atol=1e-6)
    assert lr["alpha"] == 0.7 and lr["head.weight"] == 0.3


def test_maml_with_no_inner_steps_is_the_plain_query_gradient() -> None:
    model, task = GatedMLP().double(), _vector_task()
    params = dict(model.named_parameters())
    plain = dict(zip(params, torch.autograd.grad(F.cross_entropy(model(task.query_x), task.query_y),
                                                 list(params.values()))))
    for first_order in (False, True):
        assert _close(maml_meta_gradient(model, params, task, 0, 0.1, F.cross_entropy, first_order), plain)


def test_maml_on_a_supernet_matches_autograd_and_leaves_the_model_alone() -> None:
    spec = replace(TINY, C=2, n_cells=1, reduction_cells=(), n_classes=3)
    model = SearchNetwork(spec).double()
    before = _snapshot(model)
    images = torch.rand(3, 4, 1, 8, 8, dtype=torch.float64)
    labels = torch.arange(3).repeat_interleave(2)
    task = Task(images[:, :2].flatten(0, 1), labels, images[:, 2:].flatten(0, 1), labels, torch.arange(3))
    lr = inner_learning_rates(model, theta_lr=0.1, alpha_lr=0.5)
    got = maml_meta_gradient(model, dict(model.named_parameters()), task, 1, lr, F.cross_entropy, first_order=False)
    assert _close(got, _autograd_oracle(model, task, 1, lr, first_order=False), atol=1e-9)
    assert set(got) >= {"alpha_normal", "alpha_reduce"}
    assert _same(_snapshot(model)[0], before[0])


# ---------------------------------------------------------------- task learner


def test_temperature_anneals_linearly_from_t_max_to_t_min() -> None:
    assert META_TRAIN.temperature(0) == 1.0
    assert META_TRAIN.temperature(2) == pytest.approx(1.0 - 2 * 0.95 / 4)
    assert META_TRAIN.final_temperature == pytest.approx(0.05)
    assert replace(META_TRAIN, steps=1).final_temperature == 1.0
    assert (META_TEST.steps, META_TEST.batch_size, META_TEST.drop_path_prob) == (50, 10, 0.0)


def test_support_batches_are_drawn_with_replacement() -> None:
    task = _task(shots=2)
    g = torch.Generator().manual_seed(3)
    x, y = sample_batch(task, 40, g, torch.device("cpu"))  # more than the 10 support images
    assert x.shape == (40, 1, 14, 14) and y.shape == (40,)
    for xi, yi in zip(x, y):
        match = (task.support_x == xi).flatten(1).all(dim=1)
        assert match.any() and task.support_y[match][0] == yi
    again = sample_batch(task, 40, torch.Generator().manual_seed(3), torch.device("cpu"))
    assert torch.equal(again[1], y)


@pytest.mark.parametrize("loss_kind, proxy", [("ce", None), ("fnn", "mse"), ("lstm", "inner_product")])
def test_adapt_never_mutates_the_meta_parameters(loss_kind: str, proxy: str | None) -> None:
    model = SearchNetwork(TINY)
    loss = {"ce": CrossEntropyLoss(), "fnn": FNNLoss(WAYS, residual=True), "lstm": LSTMLoss(WAYS, residual=True)}[
        loss_kind]
    before = _snapshot(model, loss)
    result = adapt(model, loss, _task(), FAST, train_phi=proxy is not None, proxy=proxy,
                   generator=torch.Generator().manual_seed(0))
    assert all(_same(a, b) for a, b in zip(_snapshot(model, loss), before))
    assert all(p.grad is None for p in [*model.parameters(), *loss.parameters()])
    assert model.drop_path_prob == 0.0
    meta_theta, meta_alpha = dict(model.named_weights()), dict(model.named_alphas())
    assert any(not torch.equal(result.theta[n], meta_theta[n]) for n in meta_theta)
    assert all(not torch.equal(result.alpha[n], meta_alpha[n]) for n in meta_alpha)
    meta_phi = dict(loss.named_parameters())
    assert result.phi.keys() == meta_phi.keys()
    if proxy is not None:
        assert any(not torch.equal(result.phi[n], meta_phi[n]) for n in meta_phi)
    assert 0.0 <= result.query_accuracy <= 1.0 and result.query_ce > 0


def test_phi_is_frozen_without_train_phi_and_untouched_by_the_authors_inner_product() -> None:
    model, loss, task = SearchNetwork(TINY), FNNLoss(WAYS, residual=True), _task()
    meta_phi = {n: p.detach().clone() for n, p in loss.named_parameters()}
    frozen = adapt(model, loss, task, FAST, train_phi=False, proxy=None)
    authors = adapt(model, loss, task, FAST, train_phi=True, proxy="inner_product", authors_code=True)
    assert _same(frozen.phi, meta_phi) and _same(authors.phi, meta_phi)
    with pytest.raises(ValueError, match="proxy"):
        adapt(model, loss, task, FAST, train_phi=True, proxy=None)


def test_adapt_is_reproducible_with_the_same_seeds() -> None:
    model, loss, task = SearchNetwork(TINY), LSTMLoss(WAYS), _task()
    runs = []
    for _ in range(2):
        torch.manual_seed(7)  # drop-path draws from the global generator
        runs.append(adapt(model, loss, task, FAST, train_phi=True, proxy="mse",
                          generator=torch.Generator().manual_seed(1)))
    assert _same(runs[0].theta, runs[1].theta) and _same(runs[0].phi, runs[1].phi)
    assert runs[0].query_ce == runs[1].query_ce


def _op_params(model: SearchNetwork, kind: str | None = None, op_name: str | None = None) -> int:
    return sum(p.numel() for cell in model.cells if kind is None or cell.reduction == (kind == "reduce")
               for edge in cell.edges for name, op in zip(model.ops, edge.ops)
               if op_name is None or name == op_name for p in op.parameters())


def test_sparse_param_count_removes_exactly_the_pruned_ops() -> None:
    model = SearchNetwork(TINY)
    total = sum(p.numel() for p in model.weights())
    assert sparse_param_count(model, threshold=0.0) == total
    assert sparse_param_count(model, threshold=1.01) == total - _op_params(model)
    mask = torch.ones(TINY.n_edges, len(model.ops), dtype=torch.bool)
    mask[:, model.ops.index("sep_conv_3x3")] = False
    model.set_path_mask("normal", mask)
    assert sparse_param_count(model) == total - _op_params(model, "normal", "sep_conv_3x3")
    with torch.no_grad():  # one dominant op per reduce edge: the other six fall below 0.01 at t = 1
        model.alpha_reduce.zero_()
        model.alpha_reduce[:, model.ops.index("conv_3x3")] = 10.0
    expected = total - _op_params(model, "normal", "sep_conv_3x3") - _op_params(model, "reduce") \
        + _op_params(model, "reduce", "conv_3x3")
    assert sparse_param_count(model, threshold=0.01, temperature=1.0) == expected


# ---------------------------------------------------------------- meta level


EPOCH = ReptileSettings(meta_batch_size=2, phi_meta_lr=0.5)


@pytest.mark.parametrize("authors_code", [False, True])
def test_phi_is_meta_updated_only_outside_authors_code(authors_code: bool) -> None:
    model, loss = SearchNetwork(TINY), FNNLoss(WAYS, residual=True)
    sampler = SyntheticFewShotTasks(WAYS, 3, 1, image_shape=(1, 14, 14))
    theta_before, loss_before = _snapshot(model, loss)
    metrics = meta_train_epoch(model, loss, sampler, EPOCH, FAST, make_meta_optimizers(model, loss, EPOCH),
                               torch.Generator().manual_seed(0), proxy="mse", authors_code=authors_code)
    assert not _same(_snapshot(model)[0], theta_before)
    assert _same(_snapshot(loss)[0], loss_before) == authors_code
    assert (metrics.phi_change_norm == 0.0) == authors_code
    assert 0.0 <= metrics.query_accuracy <= 1.0


def test_meta_test_freezes_phi_and_summarises_every_task() -> None:
    model, loss = SearchNetwork(TINY), LSTMLoss(WAYS, residual=True)
    before = _snapshot(model, loss)
    result = meta_test(model, loss, [_task(s) for s in range(3)], replace(META_TEST, steps=2))
    assert len(result.accuracies) == 3 and result.accuracy_std >= 0.0
    assert 0 < result.sparse_params_mean <= sum(p.numel() for p in model.weights())
    assert all(_same(a, b) for a, b in zip(_snapshot(model, loss), before))


def test_meta_training_with_cross_entropy_improves_adapted_query_performance() -> None:
    """Smoke: 5 Reptile epochs on 5-way synthetic tasks beat the untrained meta-model after adaptation.

    Deterministic (seeded); the task LR is raised to 0.05 so that 5 meta-epochs of 4 tasks show a clear
    effect (over seeds 0-2 accuracy rose by 0.12-0.14 and query CE fell by 0.12-0.26).
    """
    torch.manual_seed(0)
    model, loss = SearchNetwork(TINY), CrossEntropyLoss()
    task_settings = replace(META_TRAIN, steps=3, w_lr=0.05, alpha_lr=0.05, drop_path_prob=0.0)
    test_settings = replace(task_settings, batch_size=10)
    train = SyntheticFewShotTasks(WAYS, 5, 2, image_shape=(1, 14, 14), seed=0)
    test_tasks = [SyntheticFewShotTasks(WAYS, 5, 4, image_shape=(1, 14, 14), seed=0, split_name="meta_test").sample(i)
                  for i in range(4)]
    before = meta_test(model, loss, test_tasks, test_settings, torch.Generator().manual_seed(1))
    settings = ReptileSettings(meta_batch_size=4)
    optimizers, generator = make_meta_optimizers(model, loss, settings), torch.Generator().manual_seed(0)
    for _ in range(5):
        meta_train_epoch(model, loss, train, settings, task_settings, optimizers, generator, proxy=None)
    after = meta_test(model, loss, test_tasks, test_settings, torch.Generator().manual_seed(1))
    assert after.accuracy_mean > before.accuracy_mean + 0.05
    assert after.query_ce_mean < before.query_ce_mean - 0.05


def test_sparse_param_count_counts_what_a_pruned_pairwise_forward_runs() -> None:
    """Pairwise input alphas and the forward op threshold: the count is the weights of the ops actually run."""
    model = SearchNetwork(replace(TINY, pairwise_inputs=True, op_prune_threshold=0.01))
    with torch.no_grad():
        model.alpha_normal[0] = torch.tensor([8.0, 8.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # five ops of edge 0 below 0.01
        model.alpha_pw_reduce[1:4] = torch.tensor([9.0, -9.0, -9.0])  # node 1's edge 4 in no pair >= 0.01
    ran: set[int] = set()
    ops = [op for cell in model.cells for edge in cell.edges for op in edge.ops]
    for op in ops:
        op.register_forward_hook(lambda module, *_: ran.add(id(module)))
    model(torch.randn(2, 1, 14, 14), temperature=1.0)
    idle = sum(p.numel() for op in ops if id(op) not in ran for p in op.parameters())
    assert idle > 0
    assert sparse_param_count(model, threshold=0.01, temperature=1.0) == sum(p.numel() for p in model.weights()) - idle


def test_rows_with_the_same_seed_see_the_same_tasks_whatever_their_loss() -> None:
    """Paired seeds: the task stream is not advanced by what a loss network draws inside a task (phi's batches)."""
    seen: dict[str, list] = {}
    for kind, loss in (("ce", CrossEntropyLoss()), ("fnn", FNNLoss(WAYS, residual=True))):
        torch.manual_seed(0)
        model = SearchNetwork(TINY)
        sampler = SyntheticFewShotTasks(WAYS, 3, 1, image_shape=(1, 14, 14))
        drawn: list = []
        original = sampler.sample
        sampler.sample = lambda rng, original=original, drawn=drawn: drawn.append(original(rng)) or drawn[-1]
        stream = torch.Generator().manual_seed(0)
        optimizers = make_meta_optimizers(model, loss, EPOCH)
        for _ in range(2):
            meta_train_epoch(model, loss, sampler, EPOCH, FAST, optimizers, stream, proxy="mse" if kind == "fnn" else None)
        seen[kind] = drawn
    assert len(seen["ce"]) == len(seen["fnn"]) == 4
    assert all(torch.equal(a.support_x, b.support_x) and torch.equal(a.classes, b.classes)
               for a, b in zip(seen["ce"], seen["fnn"]))
