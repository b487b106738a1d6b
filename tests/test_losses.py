"""Learned loss networks and the two phi proxies (Eq. 7, Eq. 8): shapes, residual, encodings, gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib.meta.losses import (
    CrossEntropyLoss,
    FNNLoss,
    LSTMLoss,
    build_loss,
    encode_labels,
    inner_product_proxy,
    mse_proxy,
)

N_CLASSES = 20


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _batch(n: int = 6, n_classes: int = N_CLASSES) -> tuple[Tensor, Tensor]:
    return torch.randn(n, n_classes), torch.randint(n_classes, (n,))


def _learned_losses(residual: bool) -> list[nn.Module]:
    return [FNNLoss(N_CLASSES, residual=residual, label_encoding=enc) for enc in ("one_hot", "index")] + [
        LSTMLoss(N_CLASSES, residual=residual, label_encoding=enc, init_state=init)
        for enc in ("one_hot", "index") for init in ("label", "zeros")
    ]


@pytest.mark.parametrize("residual", [False, True])
def test_losses_map_logits_and_labels_to_a_scalar(residual: bool) -> None:
    logits, labels = _batch()
    for loss in [CrossEntropyLoss(), *_learned_losses(residual)]:
        value = loss(logits, labels)
        assert value.shape == () and torch.isfinite(value)


def test_label_encodings_set_the_documented_input_widths() -> None:
    assert FNNLoss(N_CLASSES, label_encoding="one_hot").fc1.in_features == 2 * N_CLASSES
    assert FNNLoss(N_CLASSES, label_encoding="index").fc1.in_features == N_CLASSES + 1
    assert LSTMLoss(N_CLASSES, label_encoding="one_hot").fcz.in_features == 2 * N_CLASSES
    assert LSTMLoss(N_CLASSES, label_encoding="index").fcz.in_features == N_CLASSES + 1
    labels = torch.tensor([3, 0, 19])
    assert torch.equal(encode_labels(labels, N_CLASSES, "index"), torch.tensor([[3.0], [0.0], [19.0]]))
    assert torch.equal(encode_labels(labels, N_CLASSES, "one_hot").argmax(dim=1), labels)


def test_code_sizes_and_orthogonal_init() -> None:
    fnn, lstm = FNNLoss(N_CLASSES, label_encoding="index"), LSTMLoss(N_CLASSES)
    assert (fnn.fc1.out_features, fnn.fc2.out_features) == (64, 1)
    assert (lstm.lstm.num_layers, lstm.lstm.hidden_size, lstm.fc1.out_features) == (5, 64, 32)
    w = fnn.fc1.weight  # (64, 21): orthonormal columns
    assert torch.allclose(w.T @ w, torch.eye(w.shape[1]), atol=1e-5)
    w = lstm.fc1.weight  # (32, 64): orthonormal rows
    assert torch.allclose(w @ w.T, torch.eye(w.shape[0]), atol=1e-5)


def _reduce_to_residual(loss: nn.Module) -> nn.Module:
    """Zero fc1 and make fc2 read unit 0, so the output is ELU(r) = r (the residual) or ELU(0) = 0."""
    with torch.no_grad():
        loss.fc1.weight.zero_()
        loss.fc1.bias.zero_()
        loss.fc2.weight.zero_()
        loss.fc2.weight[0, 0] = 1.0
        loss.fc2.bias.zero_()
    return loss


@pytest.mark.parametrize("kind", ["fnn", "lstm"])
def test_residual_adds_exactly_the_batch_cross_entropy(kind: str) -> None:
    logits, labels = _batch()
    with_residual = _reduce_to_residual(build_loss(kind, N_CLASSES, residual=True))
    without = _reduce_to_residual(build_loss(kind, N_CLASSES, residual=False))
    assert torch.allclose(with_residual(logits, labels), F.cross_entropy(logits, labels), atol=1e-6)
    assert without(logits, labels) == 0.0


def test_lstm_has_no_recurrence_across_examples() -> None:
    """seq_len = 1: without the (batch-mean) residual, the loss is the mean of per-example losses."""
    logits, labels = _batch(5)
    loss = LSTMLoss(N_CLASSES)
    singles = torch.stack([loss(logits[i:i + 1], labels[i:i + 1]) for i in range(5)])
    assert torch.allclose(loss(logits, labels), singles.mean(), atol=1e-6)


def test_lstm_initial_state_is_the_label_index_or_zeros() -> None:
    labels = torch.tensor([2, 7])
    state = LSTMLoss(N_CLASSES, hidden=4, layers=3).initial_state(labels)
    assert state.shape == (3, 2, 4)
    assert torch.equal(state[:, 0], torch.full((3, 4), 2.0)) and torch.equal(state[:, 1], torch.full((3, 4), 7.0))
    assert not LSTMLoss(N_CLASSES, hidden=4, layers=3, init_state="zeros").initial_state(labels).any()


def test_cross_entropy_wrapper_has_no_parameters() -> None:
    logits, labels = _batch()
    loss = CrossEntropyLoss()
    assert list(loss.parameters()) == []
    assert torch.equal(loss(logits, labels), F.cross_entropy(logits, labels))


class TwoWeightModel(nn.Module):
    """logits_n = [w1 x_n, w2 x_n + a]: theta = (w1, w2), alpha = a."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.7, -0.4], dtype=torch.float64))
        self.a = nn.Parameter(torch.tensor(0.3, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([self.w[0] * x, self.w[1] * x + self.a], dim=1)


class LinearLoss(nn.Module):
    """L_phi(z, y) = mean_n <v, z_n>: phi = v in R^2; ignores the labels."""

    def __init__(self) -> None:
        super().__init__()
        self.v = nn.Parameter(torch.tensor([1.5, -0.5], dtype=torch.float64))

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        return (logits @ self.v).mean()


def test_inner_product_proxy_matches_eq8_by_hand() -> None:
    model, learned = TwoWeightModel(), LinearLoss()
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    y = torch.tensor([0, 1, 1])
    lam, xi = 0.3, 0.7
    proxy = inner_product_proxy({"theta": [model.w], "alpha": [model.a]}, learned, model, x, y, lam, xi)

    with torch.no_grad():  # analytic gradients
        w, a, v = model.w, model.a, learned.v
        z = torch.stack([w[0] * x, w[1] * x + a], dim=1)
        p = torch.softmax(z, dim=1)
        residual = p - F.one_hot(y, 2)  # dCE/dz_n, before the 1/N of the mean
        ce = -torch.log(p[torch.arange(3), y]).mean()
        g_ce_w = (residual * x[:, None]).mean(dim=0)  # (2,)
        g_ce_a = residual[:, 1].mean()
        g_l_w = v * x.mean()  # dL/dw_k = v_k mean(x)
        g_l_a = v[1]
        expected = ce - lam * (g_l_w * g_ce_w).sum() - xi * g_l_a * g_ce_a
        expected_dv = -lam * x.mean() * g_ce_w - xi * g_ce_a * torch.tensor([0.0, 1.0], dtype=torch.float64)

    assert torch.allclose(proxy, expected, atol=1e-12)
    (dv,) = torch.autograd.grad(proxy, [learned.v])  # second order through g_L
    assert torch.allclose(dv, expected_dv, atol=1e-12)


def _tiny_classifier() -> tuple[nn.Module, Tensor, Tensor]:
    """A model with a 'theta' (linear) and an 'alpha' (per-class offset) group, N_CLASSES outputs."""
    model = nn.Linear(8, N_CLASSES)
    model.register_parameter("alpha", nn.Parameter(0.1 * torch.randn(N_CLASSES)))
    return model, torch.randn(10, 8), torch.randint(N_CLASSES, (10,))


def _phi_grads(proxy: Tensor, loss: nn.Module) -> list[Tensor | None]:
    return list(torch.autograd.grad(proxy, list(loss.parameters()), allow_unused=True))


@pytest.mark.parametrize("kind", ["fnn", "lstm"])
@pytest.mark.parametrize("residual", [False, True])
def test_phi_gets_a_nonzero_gradient_from_both_proxies(kind: str, residual: bool) -> None:
    model, x, y = _tiny_classifier()
    loss = build_loss(kind, N_CLASSES, residual=residual)
    forward = lambda inputs: model(inputs) + model.alpha  # noqa: E731
    groups = {"theta": [model.weight, model.bias], "alpha": [model.alpha]}
    mse_grads = _phi_grads(mse_proxy(loss, forward(x), y), loss)
    assert all(g is not None for g in mse_grads)
    assert sum(float(g.abs().sum()) for g in mse_grads) > 0
    # fc2's bias shifts L_phi by a constant, so it cannot change g_L: None for it is correct
    ip_grads = dict(zip([n for n, _ in loss.named_parameters()],
                        _phi_grads(inner_product_proxy(groups, loss, forward, x, y, 1.0, 1.0), loss)))
    assert ip_grads.pop("fc2.bias") is None
    assert all(g is not None for g in ip_grads.values())
    assert sum(float(g.abs().sum()) for g in ip_grads.values()) > 0


@pytest.mark.parametrize("kind", ["fnn", "lstm"])
def test_authors_code_inner_product_proxy_gives_phi_no_gradient(kind: str) -> None:
    """INCONSISTENCIES #21: detached-leaf logits make every inner product vanish; the proxy is plain CE."""
    model, x, y = _tiny_classifier()
    loss = build_loss(kind, N_CLASSES, residual=True)
    forward = lambda inputs: model(inputs) + model.alpha  # noqa: E731
    groups = {"theta": [model.weight, model.bias], "alpha": [model.alpha]}
    proxy = inner_product_proxy(groups, loss, forward, x, y, 1.0, 1.0, authors_code=True)
    assert torch.allclose(proxy, F.cross_entropy(forward(x), y))
    assert all(g is None for g in _phi_grads(proxy, loss))
    # the authors' MSE proxy still trains phi inside a task (undone later at the meta level, #22)
    assert all(g is not None for g in _phi_grads(mse_proxy(loss, forward(x), y, authors_code=True), loss))


def test_mse_proxy_keeps_the_logits_graph_unless_authors_code() -> None:
    model, x, y = _tiny_classifier()
    loss = FNNLoss(N_CLASSES, residual=True)
    value = mse_proxy(loss, model(x), y)
    assert torch.allclose(value, (loss(model(x), y) - F.cross_entropy(model(x), y)) ** 2)
    assert torch.autograd.grad(value, [model.weight])[0].abs().sum() > 0
    detached = mse_proxy(loss, model(x), y, authors_code=True)
    assert torch.autograd.grad(detached, [model.weight], allow_unused=True)[0] is None
