"""The DARTS architecture gradient: finite differences vs torch.func vs closed forms (float64, CPU)."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib.darts.architect import (
    Architect,
    FunctionalLoss,
    mixed_hvp_exact,
    mixed_hvp_finite_difference,
    unrolled_gradient_exact,
    unrolled_gradient_finite_difference,
)
from lib.darts.search import SearchNetwork, SearchSpec

DTYPE = torch.float64


def cross_entropy(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(model(x), y)


def squared_error(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    return 0.5 * (model(x) - y).pow(2).sum()


def rel_err(a: list[Tensor], b: list[Tensor]) -> float:
    num = torch.linalg.vector_norm(torch.cat([(x - y).flatten() for x, y in zip(a, b)]))
    den = torch.linalg.vector_norm(torch.cat([y.flatten() for y in b]))
    return float(num / den)


class GatedNet(nn.Module):
    """Two conv branches mixed by softmax(alpha); train-mode BatchNorm with running statistics.

    Input (B, 2, 6, 6); output logits (B, 3).
    """

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, padding=1)
        self.branches = nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1)])
        self.bn = nn.BatchNorm2d(4, affine=False)
        self.head = nn.Linear(4, 3)
        self.alpha = nn.Parameter(0.5 * torch.randn(2))

    def weights(self):
        return (p for name, p in self.named_parameters() if name != "alpha")

    def alphas(self) -> list[nn.Parameter]:
        return [self.alpha]

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(self.stem(x))
        gate = torch.softmax(self.alpha, dim=0)
        h = sum(g * torch.tanh(branch(h)) for g, branch in zip(gate, self.branches))
        return self.head(self.bn(h).mean(dim=(2, 3)))


class Quadratic(nn.Module):
    """Prediction ``w - A a`` with weights ``w`` (5,) and alphas ``a`` (3,); input ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(5))
        self.a = nn.Parameter(torch.randn(3))
        self.register_buffer("A", torch.randn(5, 3))

    def weights(self) -> list[nn.Parameter]:
        return [self.w]

    def alphas(self) -> list[nn.Parameter]:
        return [self.a]

    def forward(self, x: Tensor) -> Tensor:
        return self.w - self.A @ self.a


class Bilinear(nn.Module):
    """Output ``a^T B w`` plus terms in ``w`` or ``a`` alone; its mixed Hessian is exactly ``B`` (3, 5)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(5))
        self.a = nn.Parameter(torch.randn(3))
        self.register_buffer("B", torch.randn(3, 5))

    def weights(self) -> list[nn.Parameter]:
        return [self.w]

    def alphas(self) -> list[nn.Parameter]:
        return [self.a]

    def forward(self, x: Tensor) -> Tensor:
        return self.a @ self.B @ self.w + self.w.pow(4).sum() + self.a.pow(3).sum()


def batches(seed: int = 0) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(seed)
    train = (torch.randn(6, 2, 6, 6, generator=g, dtype=DTYPE), torch.randint(0, 3, (6,), generator=g))
    val = (torch.randn(6, 2, 6, 6, generator=g, dtype=DTYPE), torch.randint(0, 3, (6,), generator=g))
    return train, val


@pytest.fixture
def gated() -> GatedNet:
    torch.manual_seed(0)
    return GatedNet().to(DTYPE)


def test_finite_difference_hvp_matches_torch_func(gated: GatedNet) -> None:
    train, _ = batches()
    loss = FunctionalLoss(gated, cross_entropy)
    weights, alphas = loss.current()
    v = {name: torch.randn_like(w) for name, w in weights.items()}
    fd = mixed_hvp_finite_difference(loss, weights, alphas, v, train)
    exact = mixed_hvp_exact(loss, weights, alphas, v, train)
    assert rel_err(list(fd.values()), list(exact.values())) < 1e-4


def test_finite_difference_hvp_is_exact_on_a_bilinear_form() -> None:
    """Central differences of a bilinear coupling are exact; a ``/ 2. * eps`` slip would be off by eps^2."""
    torch.manual_seed(1)
    model = Bilinear().to(DTYPE)
    loss = FunctionalLoss(model, lambda m, x, y: m(x))
    weights, alphas = loss.current()
    v = {"w": 7.0 * torch.randn(5, dtype=DTYPE)}
    dummy = (torch.zeros(1, dtype=DTYPE), torch.zeros(1, dtype=DTYPE))
    fd = mixed_hvp_finite_difference(loss, weights, alphas, v, dummy)
    torch.testing.assert_close(fd["a"], model.B @ v["w"], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("hvp", ["finite_difference", "exact"])
@pytest.mark.parametrize("use_momentum", [False, True])
def test_second_order_matches_closed_form_on_a_quadratic(hvp: str, use_momentum: bool) -> None:
    """L_train = |w - A a - y_t|^2 / 2, L_val = |w - A a - y_v|^2 / 2: every term is known by hand."""
    torch.manual_seed(2)
    model = Quadratic().to(DTYPE)
    lr, wd, momentum = 0.3, 0.01, 0.9
    x = torch.zeros(1, dtype=DTYPE)
    y_t, y_v = torch.randn(5, dtype=DTYPE), torch.randn(5, dtype=DTYPE)
    opt = torch.optim.SGD(model.weights(), lr=lr, momentum=momentum, weight_decay=wd)
    buffer = torch.zeros(5, dtype=DTYPE)
    if use_momentum:
        squared_error(model, x, y_t).backward()
        buffer = (model.w.grad + wd * model.w).detach().clone()
        opt.step()
        model.w.grad = None
    w, a, A = model.w.detach(), model.a.detach(), model.A
    w_unrolled = w - lr * ((w - A @ a - y_t) + wd * w + momentum * buffer)
    v = w_unrolled - A @ a - y_v  # grad_w' L_val(w', a)
    direct = -A.T @ v  # grad_a L_val(w', a) at fixed w'
    mixed = -A.T  # grad_a grad_w L_train
    expected = direct - lr * mixed @ v

    architect = Architect(model, squared_error)
    (got,), _ = architect.gradient(
        (x, y_t), (x, y_v), lr=lr, weight_decay=wd, hvp=hvp, weight_optimizer=opt if use_momentum else None
    )
    torch.testing.assert_close(got, expected, rtol=1e-8, atol=1e-10)


def test_second_order_matches_exact_and_differs_from_first_order(gated: GatedNet) -> None:
    train, val = batches()
    architect = Architect(gated, cross_entropy)
    kw = dict(lr=0.5, weight_decay=3e-4)
    fd, _ = architect.gradient(train, val, order="second", hvp="finite_difference", **kw)
    exact, _ = architect.gradient(train, val, order="second", hvp="exact", **kw)
    first, _ = architect.gradient(train, val, order="first", **kw)
    assert rel_err(fd, exact) < 1e-4
    assert rel_err(first, exact) > 1e-2


def test_first_order_is_the_plain_validation_gradient_of_the_live_model(gated: GatedNet) -> None:
    train, val = batches()
    with torch.no_grad():
        gated.stem.weight.mul_(1.5)  # the gradient must follow the live weights (INCONSISTENCIES #20)
    oracle = copy.deepcopy(gated)
    cross_entropy(oracle, *val).backward()
    (got,), val_loss = Architect(gated, cross_entropy).gradient(train, val, lr=0.1, weight_decay=0.0, order="first")
    torch.testing.assert_close(got, oracle.alpha.grad)
    torch.testing.assert_close(val_loss, cross_entropy(oracle, *val).detach())


@pytest.mark.parametrize("hvp", ["finite_difference", "exact"])
def test_step_leaves_weights_buffers_and_grads_untouched(gated: GatedNet, hvp: str) -> None:
    train, val = batches()
    gated(train[0])  # give the running statistics non-initial values
    before = {name: t.clone() for name, t in gated.state_dict().items()}
    gated.head.bias.grad = torch.ones_like(gated.head.bias)
    architect = Architect(gated, cross_entropy)
    expected, _ = architect.gradient(train, val, lr=0.5, weight_decay=3e-4, hvp=hvp)
    architect.step(train, val, lr=0.5, weight_decay=3e-4, hvp=hvp)
    after = gated.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert torch.equal(gated.head.bias.grad, torch.ones_like(gated.head.bias))
    assert all(p.grad is None for name, p in gated.named_parameters() if name not in ("alpha", "head.bias"))
    torch.testing.assert_close(gated.alpha.grad, expected[0], rtol=0, atol=0)


def test_unknown_order_or_hvp_is_an_error(gated: GatedNet) -> None:
    train, val = batches()
    architect = Architect(gated, cross_entropy)
    with pytest.raises(ValueError):
        architect.gradient(train, val, lr=0.1, weight_decay=0.0, order="third")
    with pytest.raises(ValueError):
        architect.gradient(train, val, lr=0.1, weight_decay=0.0, hvp="secant")


def tiny_supernet(smooth: bool) -> nn.Module:
    """A float64 DARTS supernet (one normal, one reduction cell) without BatchNorm running statistics.

    ``smooth``: ReLU -> tanh and max-pool paths masked, so that finite differences at DARTS' radius are
    accurate; kinks otherwise put the difference quotient far from the derivative.
    """
    torch.manual_seed(0)
    spec = SearchSpec(space="darts", C=4, n_classes=3, n_cells=2, n_nodes=2, reduction_cells=(1,),
                      track_running_stats=False)
    net = SearchNetwork(spec).to(DTYPE)
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.normal_(0.0, 0.5)
    if smooth:
        _replace_relu(net)
        mask = torch.ones_like(net.mask_normal)
        mask[:, net.ops.index("max_pool_3x3")] = False
        for cell_type in ("normal", "reduce"):
            net.set_path_mask(cell_type, mask)
    return net


def _replace_relu(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.ReLU):
            setattr(module, name, nn.Tanh())
        else:
            _replace_relu(child)


def image_batches() -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(0)
    return tuple((torch.randn(4, 3, 8, 8, generator=g, dtype=DTYPE), torch.randint(0, 3, (4,), generator=g))
                 for _ in range(2))


def test_supernet_second_order_gradient_matches_exact_at_darts_radius() -> None:
    net = tiny_supernet(smooth=True)
    train, val = image_batches()
    architect = Architect(net, cross_entropy)
    kw = dict(lr=0.025, weight_decay=3e-4)
    fd, _ = architect.gradient(train, val, hvp="finite_difference", **kw)
    exact, _ = architect.gradient(train, val, hvp="exact", **kw)
    first, _ = architect.gradient(train, val, order="first", **kw)
    assert rel_err(fd, exact) < 1e-4
    assert rel_err(first, exact) > 1e-3


def test_supernet_with_relu_and_max_pool_needs_a_small_radius() -> None:
    net = tiny_supernet(smooth=False)
    train, val = image_batches()
    loss = FunctionalLoss(net, cross_entropy)
    kw = dict(lr=0.025, weight_decay=3e-4)
    exact, _ = unrolled_gradient_exact(loss, train, val, **kw)
    small, _ = unrolled_gradient_finite_difference(loss, train, val, radius=1e-6, **kw)
    assert rel_err(list(small.values()), list(exact.values())) < 1e-4
