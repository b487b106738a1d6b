"""Task losses for LAMANAS: cross-entropy, the learned loss networks (FNN, LSTM) and the two proxies.

Every loss is a module called as ``loss(logits, labels) -> scalar`` with logits float (N, n_classes) and
labels int64 (N,) in [0, n_classes), so the task learner treats cross-entropy and learned losses alike.
The learned losses' parameters are phi; cross-entropy has none.

The networks follow the authors' code where the report is vague (INCONSISTENCIES #17):

* labels enter either one-hot (default, width ``n_classes``) or as the authors' single float column
  holding the class index (``label_encoding="index"``, #17a);
* the optional residual adds the batch-mean cross-entropy, a scalar, to every unit of one hidden layer
  before an ELU: fc1 of the FNN, the post-LSTM fc1 of the LSTM (#17c);
* orthogonal initialisation only where the code has it (#17b).

Phi is never trained by descending the learned loss itself (that drives it to -inf, #2), only through a
proxy: :func:`mse_proxy` (Eq. 7) or :func:`inner_product_proxy` (Eq. 8). Both keep the logits' graph
(STYLE pitfall 9). ``authors_code=True`` reproduces the authors' re-wrapping of the logits as a new
detached leaf, which leaves the MSE proxy intact but turns the inner-product proxy into plain
cross-entropy with no gradient for phi (#21).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LabelEncoding = Literal["one_hot", "index"]
InitState = Literal["label", "zeros"]


def encode_labels(labels: Tensor, n_classes: int, encoding: LabelEncoding) -> Tensor:
    """int64 (N,) -> float (N, n_classes) one-hot, or float (N, 1) holding the class index."""
    if encoding == "one_hot":
        return F.one_hot(labels, n_classes).float()
    if encoding == "index":
        return labels.float().unsqueeze(1)
    raise ValueError(f"label_encoding must be 'one_hot' or 'index', got {encoding!r}")


def input_width(n_classes: int, encoding: LabelEncoding) -> int:
    """Width of concat(logits, encoded labels): ``2 * n_classes`` (one-hot) or ``n_classes + 1`` (index)."""
    return n_classes + (n_classes if encoding == "one_hot" else 1)


class CrossEntropyLoss(nn.Module):
    """Batch-mean cross-entropy, ``(N, n_classes), (N,) -> ()``; no parameters (the MetaNAS baseline)."""

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        return F.cross_entropy(logits, labels)


class FNNLoss(nn.Module):
    """The authors' ``NNL``: ``mean_n fc2(ELU(fc1([z_n, y_n]) + r))``, ``(N, n_classes), (N,) -> ()``.

    ``r`` is the batch-mean cross-entropy if ``residual`` else 0; fc1: width -> hidden, fc2: hidden -> 1,
    both with orthogonal weights (gain 1) and PyTorch's default biases.
    """

    def __init__(self, n_classes: int, hidden: int = 64, residual: bool = False,
                 label_encoding: LabelEncoding = "one_hot") -> None:
        super().__init__()
        self.n_classes, self.residual, self.label_encoding = n_classes, residual, label_encoding
        self.fc1 = nn.Linear(input_width(n_classes, label_encoding), hidden)
        self.fc2 = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.fc1.weight)
        nn.init.orthogonal_(self.fc2.weight)

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        h = self.fc1(torch.cat([logits, encode_labels(labels, self.n_classes, self.label_encoding)], dim=1))
        if self.residual:
            h = h + F.cross_entropy(logits, labels)
        return self.fc2(F.elu(h)).mean()


class LSTMLoss(nn.Module):
    """The authors' ``RNNL``: embedding, a 5-layer LSTM, then a head like the FNN's; ``(N, C), (N,) -> ()``.

    ``e = ELU(fcz([z, y]))`` (N, hidden) is fed to ``nn.LSTM(hidden, hidden, layers)`` as ONE time step of a
    batch of N sequences, shape (1, N, hidden), as the code does (#17e). Every example is therefore an
    independent length-1 sequence: there is no recurrence across examples, steps or tasks. The initial
    states are ``h0 = c0`` = each example's class index broadcast to (layers, N, hidden) (``"label"``, the
    authors' choice, #17f; unbounded values up to n_classes - 1) or zeros. Then
    ``mean_n fc2(ELU(fc1(h_n) + r))`` with fc1: hidden -> head, fc2: head -> 1 and the residual ``r`` added
    after the LSTM (#17c). Only fc1 and fc2 are orthogonal; fcz and the LSTM keep PyTorch's defaults (#17b).
    cuDNN is bypassed for the LSTM because its kernels have no double backward, which the inner-product
    proxy needs on CUDA.
    """

    def __init__(self, n_classes: int, hidden: int = 64, head: int = 32, layers: int = 5, residual: bool = False,
                 label_encoding: LabelEncoding = "one_hot", init_state: InitState = "label") -> None:
        super().__init__()
        if init_state not in ("label", "zeros"):
            raise ValueError(f"init_state must be 'label' or 'zeros', got {init_state!r}")
        self.n_classes, self.residual, self.label_encoding = n_classes, residual, label_encoding
        self.init_state, self.layers, self.hidden = init_state, layers, hidden
        self.fcz = nn.Linear(input_width(n_classes, label_encoding), hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers)
        self.fc1 = nn.Linear(hidden, head)
        self.fc2 = nn.Linear(head, 1)
        nn.init.orthogonal_(self.fc1.weight)
        nn.init.orthogonal_(self.fc2.weight)

    def initial_state(self, labels: Tensor) -> Tensor:
        """h0 = c0: float (layers, N, hidden)."""
        state = labels.float() if self.init_state == "label" else torch.zeros(labels.shape, device=labels.device)
        return state.view(1, -1, 1).expand(self.layers, -1, self.hidden).contiguous()

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        e = F.elu(self.fcz(torch.cat([logits, encode_labels(labels, self.n_classes, self.label_encoding)], dim=1)))
        state = self.initial_state(labels)
        with torch.backends.cudnn.flags(enabled=False):
            out, _ = self.lstm(e.unsqueeze(0), (state, state))
        h = self.fc1(out.squeeze(0))
        if self.residual:
            h = h + F.cross_entropy(logits, labels)
        return self.fc2(F.elu(h)).mean()


def build_loss(kind: Literal["ce", "fnn", "lstm"], n_classes: int, residual: bool = False,
               label_encoding: LabelEncoding = "one_hot") -> nn.Module:
    """A Table-1 loss by name: ``"ce"`` (baseline), ``"fnn"`` or ``"lstm"`` with the code's sizes."""
    if kind == "ce":
        return CrossEntropyLoss()
    if kind == "fnn":
        return FNNLoss(n_classes, residual=residual, label_encoding=label_encoding)
    if kind == "lstm":
        return LSTMLoss(n_classes, residual=residual, label_encoding=label_encoding)
    raise ValueError(f"loss kind must be 'ce', 'fnn' or 'lstm', got {kind!r}")


def _as_authors_leaf(logits: Tensor) -> Tensor:
    """The authors' ``Variable(logits.data, requires_grad=True)``: same values, cut from theta and alpha."""
    return logits.detach().requires_grad_(True)


def mse_proxy(learned: nn.Module, logits: Tensor, labels: Tensor, *, authors_code: bool = False) -> Tensor:
    """Eq. 7: ``(L_phi(z, y) - CE(z, y))^2``, a scalar; phi descends its gradient.

    ``logits`` (N, n_classes) are used with their graph. With ``authors_code`` they are first re-wrapped
    as a detached leaf, as the code did; phi's gradient is the same either way (CE does not depend on phi).
    """
    if authors_code:
        logits = _as_authors_leaf(logits)
    return (learned(logits, labels) - F.cross_entropy(logits, labels)).pow(2)


def inner_product_proxy(
    model_params: Mapping[str, Sequence[Tensor]],
    learned: nn.Module,
    forward_fn: Callable[[Tensor], Tensor],
    x: Tensor,
    y: Tensor,
    lam: float,
    xi: float,
    *,
    authors_code: bool = False,
) -> Tensor:
    """Eq. 8: ``CE - lam <g_L^theta, g_CE^theta> - xi <g_L^alpha, g_CE^alpha>``, a scalar.

    ``model_params``: ``{"theta": [...], "alpha": [...]}``, the tensors ``forward_fn`` (x -> logits
    (N, n_classes)) computes with; ``g_L`` and ``g_CE`` are the gradients of ``L_phi(z, y)`` and
    ``CE(z, y)`` with respect to them. ``lam`` and ``xi`` are Eq. 8's weights (task LRs, or 1 as in the
    code, INCONSISTENCIES #4).

    Sign convention: phi MINIMISES this proxy, i.e. maximises the alignment of the learned loss's gradient
    with the cross-entropy gradient (Eq. 6 read as a first-order Taylor expansion). ``g_L`` is computed
    with ``create_graph=True``, so the proxy is differentiable with respect to phi (second order through
    ``g_L``); ``g_CE`` and CE do not depend on phi and enter as constants. Parameters that do not reach
    the logits (e.g. masked ops) contribute nothing.

    ``authors_code=True`` reproduces INCONSISTENCIES #21: the logits become a new detached leaf, every
    gradient with respect to theta and alpha is None, each inner product is skipped, and the proxy is
    CE of the leaf, which does not depend on phi (phi receives no gradient).
    """
    logits = forward_fn(x)
    if authors_code:
        logits = _as_authors_leaf(logits)
    ce = F.cross_entropy(logits, y)
    value = learned(logits, y)
    groups = {"theta": list(model_params["theta"]), "alpha": list(model_params["alpha"])}
    params = groups["theta"] + groups["alpha"]
    g_learned = torch.autograd.grad(value, params, create_graph=True, allow_unused=True)
    g_ce = torch.autograd.grad(ce, params, retain_graph=True, allow_unused=True)
    n_theta = len(groups["theta"])
    proxy = ce
    for i, (g_l, g_c) in enumerate(zip(g_learned, g_ce)):
        if g_l is not None and g_c is not None:
            proxy = proxy - (lam if i < n_theta else xi) * (g_l * g_c).sum()
    return proxy


__all__ = [
    "CrossEntropyLoss",
    "FNNLoss",
    "LSTMLoss",
    "build_loss",
    "encode_labels",
    "inner_product_proxy",
    "input_width",
    "mse_proxy",
]
