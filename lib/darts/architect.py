"""The DARTS architecture gradient: first order, and second order (unrolled) with two Hessian paths.

DARTS (Liu et al., 2019, Eq. 7-8; LNAS Eq. 6 with its notation fixed, see INCONSISTENCIES #42)
approximates the bilevel gradient by one virtual SGD step on the weights::

    w'      = w - xi * (grad_w L_train(w, a) + weight_decay * w + momentum * buffer)
    grad_a  = grad_a L_val(w', a) - xi * (grad^2_{a,w} L_train(w, a)) v,   v = grad_w' L_val(w', a)

With ``xi = 0`` this is the first-order gradient ``grad_a L_val(w, a)`` at the *current* weights
(INCONSISTENCIES #20: the MetaNAS code read it off a frozen copy of the initial model instead).

The mixed Hessian-vector product is computed either

* ``"finite_difference"`` (DARTS): ``(grad_a L_train(w + eps v) - grad_a L_train(w - eps v)) / (2 eps)``
  with ``eps = 0.01 / ||v||`` (``||v||`` over all weight tensors together; inaccurate across ReLU and
  max-pool kinks, see :func:`mixed_hvp_finite_difference`); or
* ``"exact"``: ``torch.func.grad`` of the unrolled validation loss, a reverse-over-reverse derivative
  through the virtual step. It is the exact gradient of ``L_val(w'(a), a)`` and serves as the oracle.

Choices made here:

* The virtual step is plain SGD with the weight optimizer's learning rate and weight decay. Momentum
  is optional: pass the SGD weight optimizer and its ``momentum * momentum_buffer`` is added, as in
  quark0/darts ``_compute_unrolled_model``. The buffer does not depend on ``a``, so only ``w'`` moves.
* Every loss is evaluated with ``torch.func.functional_call`` on new tensors (detached views of the
  weights, perturbed or unrolled copies) and on clones of the buffers. The model is never modified: its
  weights, BatchNorm running statistics and the ``.grad`` of its weights are left exactly as they were
  (quark0 perturbs the live weights in place, and its extra forward passes update the running
  statistics). Train-mode BatchNorm normalises with batch statistics, so this changes no gradient.
* The model's forward must be deterministic (no dropout or drop-path during search), otherwise the two
  finite-difference evaluations see different networks.

The model needs ``weights()`` (the weight parameters) and ``alphas()`` (the architecture
parameters). ``loss_fn(model, x, y)`` returns a scalar; it may call the model in any way.
"""

from typing import Callable, Iterable, Literal, Mapping

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad

Batch = tuple[Tensor, Tensor]
Params = dict[str, Tensor]
LossFn = Callable[[nn.Module, Tensor, Tensor], Tensor]
Order = Literal["first", "second"]
HvpMethod = Literal["finite_difference", "exact"]

FD_RADIUS = 0.01


class _LossModule(nn.Module):
    """Wraps ``loss_fn(model, x, y)`` as a module so that ``functional_call`` can rebind the model."""

    def __init__(self, model: nn.Module, loss_fn: LossFn) -> None:
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.loss_fn(self.model, x, y)


class FunctionalLoss:
    """``loss(weights, alphas, batch)``: the model's loss with the given parameter values, side-effect free.

    ``weights`` and ``alphas`` map parameter names (as in ``model.named_parameters()``) to tensors of the
    parameters' shapes. Buffers are cloned at every call, so running statistics of the model never change.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn) -> None:
        self.model = model
        self.module = _LossModule(model, loss_fn)
        self.weight_names = _names_of(model, model.weights())
        self.alpha_names = _names_of(model, model.alphas())

    def __call__(self, weights: Params, alphas: Params, batch: Batch) -> Tensor:
        buffers = {name: b.clone() for name, b in self.model.named_buffers()}
        bound = {f"model.{name}": t for name, t in {**weights, **alphas, **buffers}.items()}
        return functional_call(self.module, bound, tuple(batch))

    def current(self) -> tuple[Params, Params]:
        """The model's present weights and alphas, detached (sharing storage), by name."""
        params = dict(self.model.named_parameters())
        weights = {name: params[name].detach() for name in self.weight_names}
        alphas = {name: params[name].detach() for name in self.alpha_names}
        return weights, alphas


def _names_of(model: nn.Module, tensors: Iterable[nn.Parameter]) -> list[str]:
    """Names under which ``tensors`` are registered in ``model``, in the order given."""
    by_id = {id(p): name for name, p in model.named_parameters()}
    return [by_id[id(p)] for p in tensors]


def _grads(loss: Tensor, *groups: Params) -> list[Params]:
    """``d loss / d group`` for each group of leaf tensors; tensors that do not reach the loss get zeros."""
    leaves = [t for group in groups for t in group.values()]
    values = iter(torch.autograd.grad(loss, leaves, materialize_grads=True))
    return [{name: next(values) for name in group} for group in groups]


def _requiring_grad(params: Params) -> Params:
    return {name: t.detach().requires_grad_(True) for name, t in params.items()}


def _axpy(a: float, x: Params, y: Params) -> Params:
    """``a * x + y`` entry by entry."""
    return {name: a * x[name] + y[name] for name in y}


def _norm(params: Params) -> Tensor:
    """Euclidean norm of all tensors in ``params`` flattened together."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in params.values()]))


def virtual_step(
    weight_grad: Params,
    weights: Params,
    *,
    lr: float,
    weight_decay: float,
    momentum_terms: Mapping[str, Tensor] | None = None,
) -> Params:
    """One SGD step ``w - lr * (g + weight_decay * w + momentum_term)``; every tensor keeps its shape."""
    momentum_terms = momentum_terms or {}
    return {
        name: w - lr * (weight_grad[name] + weight_decay * w + momentum_terms.get(name, 0.0))
        for name, w in weights.items()
    }


def sgd_momentum_terms(optimizer: torch.optim.Optimizer, model: nn.Module) -> Params:
    """``momentum * momentum_buffer`` of an SGD optimizer by parameter name (absent before its first step).

    Dampening and Nesterov are ignored, as in quark0's ``_compute_unrolled_model``.
    """
    names = {id(p): name for name, p in model.named_parameters()}
    terms = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            buffer = optimizer.state.get(p, {}).get("momentum_buffer")
            if buffer is not None and group.get("momentum", 0.0):
                terms[names[id(p)]] = group["momentum"] * buffer.detach()
    return terms


def mixed_hvp_finite_difference(
    loss: FunctionalLoss, weights: Params, alphas: Params, v: Params, batch: Batch, *, radius: float = FD_RADIUS
) -> Params:
    """``(grad^2_{a,w} L) v`` by central differences: ``(g_a(w + eps v) - g_a(w - eps v)) / (2 eps)``.

    ``eps = radius / ||v||`` (DARTS: ``radius = 0.01``); returns zeros when ``v`` is zero. Shapes follow
    ``alphas``. Across ReLU and max-pool kinks the difference quotient is not the derivative: on a tiny
    DARTS supernet the default radius gave a second-order alpha gradient 17% away from the exact one,
    while ``radius = 1e-6`` agreed to 1e-10 (float64).
    """
    v_norm = float(_norm(v))
    if v_norm == 0.0:
        return {name: torch.zeros_like(a) for name, a in alphas.items()}
    eps = radius / v_norm
    plus = _alpha_grad(loss, _axpy(eps, v, weights), alphas, batch)
    minus = _alpha_grad(loss, _axpy(-eps, v, weights), alphas, batch)
    return {name: (plus[name] - minus[name]) / (2 * eps) for name in alphas}


def mixed_hvp_exact(loss: FunctionalLoss, weights: Params, alphas: Params, v: Params, batch: Batch) -> Params:
    """``(grad^2_{a,w} L) v = grad_a <grad_w L(w, a), v>`` with ``torch.func``; shapes follow ``alphas``."""

    def directional(a: Params) -> Tensor:
        g_w = grad(loss)(weights, a, batch)
        return sum((g_w[name] * v[name]).sum() for name in weights)

    return grad(directional)(alphas)


def _alpha_grad(loss: FunctionalLoss, weights: Params, alphas: Params, batch: Batch) -> Params:
    alphas = _requiring_grad(alphas)
    return _grads(loss(weights, alphas, batch), alphas)[0]


def first_order_gradient(loss: FunctionalLoss, val_batch: Batch) -> tuple[Params, Tensor]:
    """``grad_a L_val(w, a)`` at the current weights, and the detached validation loss."""
    weights, alphas = loss.current()
    alphas = _requiring_grad(alphas)
    val_loss = loss(weights, alphas, val_batch)
    return _grads(val_loss, alphas)[0], val_loss.detach()


def unrolled_gradient_finite_difference(
    loss: FunctionalLoss,
    train_batch: Batch,
    val_batch: Batch,
    *,
    lr: float,
    weight_decay: float,
    momentum_terms: Mapping[str, Tensor] | None = None,
    radius: float = FD_RADIUS,
) -> tuple[Params, Tensor]:
    """The DARTS second-order gradient with a finite-difference Hessian; also ``L_val(w', a)``.

    ``radius`` is that of :func:`mixed_hvp_finite_difference` (DARTS: 0.01).
    """
    weights, alphas = loss.current()
    weights_req = _requiring_grad(weights)
    train_grad = _grads(loss(weights_req, alphas, train_batch), weights_req)[0]
    unrolled = _requiring_grad(
        virtual_step(train_grad, weights, lr=lr, weight_decay=weight_decay, momentum_terms=momentum_terms)
    )
    alphas_req = _requiring_grad(alphas)
    val_loss = loss(unrolled, alphas_req, val_batch)
    direct, v = _grads(val_loss, alphas_req, unrolled)
    hvp = mixed_hvp_finite_difference(loss, weights, alphas, v, train_batch, radius=radius)
    return _axpy(-lr, hvp, direct), val_loss.detach()


def unrolled_gradient_exact(
    loss: FunctionalLoss,
    train_batch: Batch,
    val_batch: Batch,
    *,
    lr: float,
    weight_decay: float,
    momentum_terms: Mapping[str, Tensor] | None = None,
) -> tuple[Params, Tensor]:
    """``d/da L_val(w'(a), a)`` differentiated exactly through the virtual step; also ``L_val(w', a)``."""
    weights, alphas = loss.current()

    def unrolled_val_loss(a: Params) -> tuple[Tensor, Tensor]:
        train_grad = grad(loss)(weights, a, train_batch)
        unrolled = virtual_step(train_grad, weights, lr=lr, weight_decay=weight_decay, momentum_terms=momentum_terms)
        value = loss(unrolled, a, val_batch)
        return value, value.detach()

    return grad(unrolled_val_loss, has_aux=True)(alphas)


_UNROLLED = {"finite_difference": unrolled_gradient_finite_difference, "exact": unrolled_gradient_exact}


class Architect:
    """Computes the architecture gradient of a search model and stores it in ``alpha.grad``.

    Usage per search step (DARTS defaults: alpha optimizer ``Adam(alphas, 3e-4, betas=(0.5, 0.999),
    weight_decay=1e-3)``; the weight optimizer, its weight decay and gradient clipping see only
    ``model.weights()``)::

        alpha_opt.zero_grad()
        architect.step(train_batch, val_batch, lr=w_lr, weight_decay=w_wd, order="second")
        alpha_opt.step()
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn) -> None:
        self.model = model
        self.loss = FunctionalLoss(model, loss_fn)

    def gradient(
        self,
        train_batch: Batch,
        val_batch: Batch,
        *,
        lr: float,
        weight_decay: float,
        order: Order = "second",
        hvp: HvpMethod = "finite_difference",
        weight_optimizer: torch.optim.Optimizer | None = None,
    ) -> tuple[list[Tensor], Tensor]:
        """Alpha gradients in ``model.alphas()`` order (shapes of the alphas) and the validation loss.

        ``lr`` and ``weight_decay`` are the weight optimizer's (``xi = lr``). ``weight_optimizer`` adds its
        SGD momentum to the virtual step; it is read, never stepped. ``train_batch`` and ``val_batch`` are
        ``(x, y)`` pairs. The loss returned is ``L_val(w)`` (first order) or ``L_val(w')`` (second order).
        """
        if order == "first":
            grads, val_loss = first_order_gradient(self.loss, val_batch)
        elif order == "second":
            unrolled = _UNROLLED.get(hvp)
            if unrolled is None:
                raise ValueError(f"hvp must be one of {sorted(_UNROLLED)}, got {hvp!r}")
            momentum = sgd_momentum_terms(weight_optimizer, self.model) if weight_optimizer else None
            grads, val_loss = unrolled(
                self.loss, train_batch, val_batch, lr=lr, weight_decay=weight_decay, momentum_terms=momentum
            )
        else:
            raise ValueError(f"order must be 'first' or 'second', got {order!r}")
        return [grads[name] for name in self.loss.alpha_names], val_loss

    def step(
        self,
        train_batch: Batch,
        val_batch: Batch,
        *,
        lr: float,
        weight_decay: float,
        order: Order = "second",
        hvp: HvpMethod = "finite_difference",
        weight_optimizer: torch.optim.Optimizer | None = None,
    ) -> Tensor:
        """Overwrite each ``alpha.grad`` with :meth:`gradient`'s result; returns the validation loss.

        The weights' ``.grad``, values and buffers are not touched.
        """
        grads, val_loss = self.gradient(
            train_batch,
            val_batch,
            lr=lr,
            weight_decay=weight_decay,
            order=order,
            hvp=hvp,
            weight_optimizer=weight_optimizer,
        )
        for alpha, g in zip(self.model.alphas(), grads):
            alpha.grad = g
        return val_loss


__all__ = [
    "Architect",
    "FunctionalLoss",
    "first_order_gradient",
    "mixed_hvp_exact",
    "mixed_hvp_finite_difference",
    "sgd_momentum_terms",
    "unrolled_gradient_exact",
    "unrolled_gradient_finite_difference",
    "virtual_step",
]
