"""LAMANAS Algorithm 1 (MAML over theta and alpha, its caption says Reptile, INCONSISTENCIES #1), with ``torch.func``.

Kept with the tests, not in lib: the report describes Algorithm 1 but ran only Algorithm 2 (Reptile,
``lib/experiments/lamanas.py``), and a MAML row over the supernet would need a task learner of its own (plain
SGD on the whole support set, no temperature annealing, no Adam), so its numbers would not compare like for
like with Table 1's rows. This file is the checked reference of Algorithm 1's meta-gradient (test_meta.py
checks it against explicit autograd unrolling), for a reader who wants to build that row.

Inner loop (Eq. 2, plain SGD): ``p <- p - lr_p * grad_p L(f(support_x; p), support_y)`` for K steps on the
whole support set; meta-gradient: ``grad_p L(f(query_x; p_K), query_y)`` at the meta-parameters ``p``,
differentiated through the K steps (second order) or, with ``first_order``, with the inner gradients
treated as constants (FOMAML: the query gradient at ``p_K``). The model runs with ``functional_call``
on the given tensors, so it is never modified; its BatchNorm must not track running statistics
(``track_running_stats=False``, STYLE pitfall 3) and drop-path must be off, so that every call is a pure
function of the parameters. A learned loss enters as a fixed ``loss_fn``: Algorithm 1's phi
meta-gradient is not implemented anywhere (#3) and is not here either.
"""

from collections.abc import Callable, Mapping

from torch import Tensor, nn
from torch.func import functional_call, grad

from lib.data.tasks import Task

Params = dict[str, Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]


def inner_learning_rates(model: nn.Module, theta_lr: float, alpha_lr: float) -> dict[str, float]:
    """Per-parameter inner LRs: ``alpha_lr`` (xi_task) for ``model.named_alphas()``, ``theta_lr`` (lambda_task) else."""
    alphas = {name for name, _ in model.named_alphas()}
    return {name: alpha_lr if name in alphas else theta_lr for name, _ in model.named_parameters()}


def adapted_params(model: nn.Module, params: Params, x: Tensor, y: Tensor, inner_steps: int,
                   inner_lr: float | Mapping[str, float], loss_fn: LossFn, first_order: bool) -> Params:
    """``inner_steps`` SGD steps from ``params`` on ``(x, y)``; differentiable unless ``first_order``."""

    def support_loss(p: Params) -> Tensor:
        return loss_fn(functional_call(model, p, (x,)), y)

    for _ in range(inner_steps):
        g = grad(support_loss)(params)
        if first_order:
            g = {name: t.detach() for name, t in g.items()}
        params = {name: p - _lr(inner_lr, name) * g[name] for name, p in params.items()}
    return params


def maml_meta_gradient(
    model: nn.Module,
    params: Params,
    task: Task,
    inner_steps: int,
    inner_lr: float | Mapping[str, float],
    loss_fn: LossFn,
    first_order: bool,
) -> Params:
    """``d/dp L(f(query_x; p_K(p)), query_y)`` for one task, keyed and shaped like ``params``.

    ``params``: the tensors to differentiate (e.g. ``dict(model.named_parameters())``, detached or not);
    parameters left out keep the model's values and are constants. ``inner_lr``: one LR or one per name
    (see :func:`inner_learning_rates`). ``loss_fn(logits (N, n_classes), labels (N,)) -> ()`` is used for
    both the inner (support) and the outer (query) loss. With ``inner_steps=0`` this is the plain query
    gradient, first or second order alike.
    """

    def query_loss(p: Params) -> Tensor:
        p_k = adapted_params(model, p, task.support_x, task.support_y, inner_steps, inner_lr, loss_fn, first_order)
        return loss_fn(functional_call(model, p_k, (task.query_x,)), task.query_y)

    return grad(query_loss)({name: t.detach() for name, t in params.items()})


def _lr(inner_lr: float | Mapping[str, float], name: str) -> float:
    return inner_lr[name] if isinstance(inner_lr, Mapping) else inner_lr


__all__ = ["adapted_params", "inner_learning_rates", "maml_meta_gradient"]
