"""The K-step task learner of MetaNAS / LAMANAS (Eq. 2, Algorithm 2's inner loop, and phi's proxy step).

One task, starting from the meta-parameters (theta, alpha, phi):

1. for k = 0..K-1, at softmax temperature ``t_k`` (linear from ``t_max`` = 1.0 to ``t_min`` = 0.05,
   INCONSISTENCIES #15), with two batches of ``batch_size`` drawn *with replacement* from the support set
   (#12; the code's train and validation loaders are the same support set, see lamanas_setup.json):
   an alpha step with the first-order DARTS gradient ``grad_alpha L_phi`` of the LIVE task model on the
   second batch (#20: the code used a frozen copy of the initial model), then a theta step with
   ``grad_theta L_phi`` on the first batch. Both are Adam with betas (0.0, 0.999), as in the code (#16);
2. if ``train_phi``: ``phi_steps`` Adam steps (lr 0.01, betas (0.0, 0.999), a fresh optimizer per task,
   #16) on the proxy (Eq. 7 or 8) at the adapted theta_i, alpha_i and temperature ``t_min``; phi is never
   trained by descending L_phi itself (#2), and it is frozen at meta-test (#19);
3. the query set is classified at ``t_min`` without drop-path; the query cross-entropy is always
   reported (#23), next to the learned loss the authors logged.

Decisions not fixed by the sources:

* theta's and alpha's Adam states are fresh for every task. The code creates them once and reuses them
  for every task (meta-train and meta-test), so their second moments carry over between tasks; fresh
  states keep tasks independent of each other and of their order.
* Drop-path (0.2, meta-training only, #15) uses PyTorch's global generator (torchvision's
  ``stochastic_depth``); the support batches use ``generator``.
* BatchNorm has no running statistics (``track_running_stats=False``, STYLE pitfall 3): the query set is
  normalised with its own statistics, as in MetaNAS.

The meta model and the meta loss network are never modified: the task learner works on copies held by a
:class:`TaskWorkspace`, made once and overwritten in place at the start of every task (a deep copy per
task cost 0.1 s; the in-place copy 0.5 ms). Its optimisers are made once too and their states cleared
per task, which is the same as fresh optimisers.
"""

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib.data.tasks import Task
from lib.meta.losses import inner_product_proxy, mse_proxy
from lib.pipeline.divergence import check_finite

Proxy = Literal["mse", "inner_product"]


@dataclass(frozen=True)
class TaskLearnerSettings:
    """One task's adaptation; defaults are the og_metanas meta-training values (lamanas_setup.json).

    ``proxy_weights``: Eq. 8's (lambda, xi) = the task LRs (``"task_lr"``, the report's derivation) or
    (1, 1) (``"one"``, the code), INCONSISTENCIES #4. Phi's proxy gradient is linear in them and Adam is
    nearly scale-invariant, so the choice mostly affects the proxy's reported value.
    """

    steps: int = 5
    batch_size: int = 20
    w_lr: float = 0.005
    w_betas: tuple[float, float] = (0.0, 0.999)
    w_weight_decay: float = 0.0
    alpha_lr: float = 0.005
    alpha_betas: tuple[float, float] = (0.0, 0.999)
    alpha_weight_decay: float = 1e-3
    phi_lr: float = 0.01
    phi_betas: tuple[float, float] = (0.0, 0.999)
    phi_steps: int = 1
    t_max: float = 1.0
    t_min: float = 0.05
    drop_path_prob: float = 0.2
    proxy_weights: Literal["task_lr", "one"] = "task_lr"

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.phi_steps < 0:
            raise ValueError("steps and batch_size must be >= 1, phi_steps >= 0")
        if not 0 < self.t_min <= self.t_max:
            raise ValueError(f"need 0 < t_min <= t_max, got {self.t_min}, {self.t_max}")
        if self.proxy_weights not in ("task_lr", "one"):
            raise ValueError(f"proxy_weights must be 'task_lr' or 'one', got {self.proxy_weights!r}")

    def temperature(self, step: int) -> float:
        """Linear annealing ``t_max - step (t_max - t_min) / (K - 1)``; ``t_max`` when K = 1."""
        if self.steps == 1:
            return self.t_max
        return self.t_max - min(step, self.steps - 1) * (self.t_max - self.t_min) / (self.steps - 1)

    @property
    def final_temperature(self) -> float:
        """The temperature after the K steps (``t_min`` unless K = 1), used for phi, query and counting."""
        return self.temperature(self.steps - 1)

    def proxy_lam_xi(self) -> tuple[float, float]:
        """Eq. 8's weights (lambda, xi)."""
        return (self.w_lr, self.alpha_lr) if self.proxy_weights == "task_lr" else (1.0, 1.0)


META_TRAIN = TaskLearnerSettings()
# Meta-test (#8, #12): 50 steps, alphas adapted throughout (test_adapt_steps 1.0), batches of 10, no drop-path.
META_TEST = replace(META_TRAIN, steps=50, batch_size=10, drop_path_prob=0.0)


@dataclass(frozen=True)
class AdaptedTask:
    """What one task's adaptation produced; tensors are detached copies, keyed by parameter name.

    ``learned_loss`` is L_phi_i on the query set (what the authors logged as "loss", #23); for the
    cross-entropy baseline it equals ``query_ce``. ``sparse_params`` is :func:`sparse_param_count` of the
    adapted CNN at the final temperature.
    """

    theta: dict[str, Tensor]
    alpha: dict[str, Tensor]
    phi: dict[str, Tensor]
    query_accuracy: float
    query_ce: float
    learned_loss: float
    sparse_params: int


def sample_batch(task: Task, batch_size: int, generator: torch.Generator | None,
                 device: torch.device) -> tuple[Tensor, Tensor]:
    """``batch_size`` support examples drawn with replacement: x (B, C, H, W), y (B,)."""
    index = torch.randint(len(task.support_y), (batch_size,), generator=generator)
    return task.support_x[index].to(device), task.support_y[index].to(device)


class TaskWorkspace:
    """Working copies of a meta model and a loss network, and the task optimisers, reused task after task.

    ``memory_format``: the format of the working model (channels_last where :mod:`lib.training.layout`
    says it is safe); the meta model keeps its own. Build one per (meta model, loss network) pair.
    """

    def __init__(self, meta_model: nn.Module, loss_net: nn.Module,
                 memory_format: torch.memory_format = torch.contiguous_format) -> None:
        self.meta_model, self.meta_loss = meta_model, loss_net
        self.model = copy.deepcopy(meta_model).to(memory_format=memory_format)
        self.loss = copy.deepcopy(loss_net)
        self.w_opt = torch.optim.Adam(self.model.weights())
        self.a_opt = torch.optim.Adam(self.model.alphas())
        phi = list(self.loss.parameters())
        self.phi_opt = torch.optim.Adam(phi) if phi else None
        self._targets = _tensors(self.model) + _tensors(self.loss)
        self._sources = _tensors(meta_model) + _tensors(loss_net)

    def reset(self, meta_model: nn.Module, loss_net: nn.Module) -> tuple[nn.Module, nn.Module]:
        """Overwrite the working copies with the meta-parameters and buffers; returns (model, loss net)."""
        if meta_model is not self.meta_model or loss_net is not self.meta_loss:
            raise ValueError("this TaskWorkspace was built for another meta model or loss network")
        with torch.no_grad():
            torch._foreach_copy_(self._targets, self._sources)
        return self.model, self.loss


def _tensors(module: nn.Module) -> list[Tensor]:
    """Parameters then buffers of ``module``, in registration order."""
    return [p for p in module.parameters()] + [b for b in module.buffers()]


def _fresh(optimizer: torch.optim.Adam, lr: float, betas: tuple[float, float], weight_decay: float = 0.0
           ) -> torch.optim.Adam:
    """``optimizer`` with an empty state and these hyperparameters: the same as a newly built Adam."""
    optimizer.state.clear()
    for group in optimizer.param_groups:
        group.update(lr=lr, betas=betas, weight_decay=weight_decay)
    return optimizer


def _step(loss: Tensor, params: Sequence[nn.Parameter], optimizer: torch.optim.Optimizer) -> None:
    """Set ``p.grad = d loss / d p`` (None where ``p`` is unused) and step ``optimizer``."""
    for p, g in zip(params, torch.autograd.grad(loss, list(params), allow_unused=True)):
        p.grad = g
    optimizer.step()


def _proxy_value(model: nn.Module, loss_net: nn.Module, x: Tensor, y: Tensor, temperature: float,
                 proxy: Proxy, settings: TaskLearnerSettings, authors_code: bool) -> Tensor:
    """The proxy phi descends, at the task model's current parameters."""
    if proxy == "mse":
        return mse_proxy(loss_net, model(x, temperature), y, authors_code=authors_code)
    lam, xi = settings.proxy_lam_xi()
    return inner_product_proxy({"theta": model.weights(), "alpha": model.alphas()}, loss_net,
                               lambda inputs: model(inputs, temperature), x, y, lam, xi, authors_code=authors_code)


def train_phi_on_task(model: nn.Module, loss_net: nn.Module, task: Task, settings: TaskLearnerSettings,
                      proxy: Proxy, authors_code: bool, generator: torch.Generator | None,
                      optimizer: torch.optim.Adam | None = None) -> None:
    """Phase 3: ``phi_steps`` Adam steps of ``loss_net``'s parameters on the proxy; ``model`` is unchanged.

    A phi tensor the proxy does not reach (every one, for the authors' inner-product proxy) gets
    ``grad = None`` and is skipped by Adam, so it does not move. ``optimizer``: an Adam over
    ``loss_net.parameters()`` to reuse (its state is cleared); a new one by default.
    """
    if proxy not in ("mse", "inner_product"):
        raise ValueError(f"proxy must be 'mse' or 'inner_product' to train phi, got {proxy!r}")
    phi = list(loss_net.parameters())
    optimizer = _fresh(optimizer or torch.optim.Adam(phi), settings.phi_lr, settings.phi_betas)
    device = next(model.parameters()).device
    for _ in range(settings.phi_steps):
        x, y = sample_batch(task, settings.batch_size, generator, device)
        _step(_proxy_value(model, loss_net, x, y, settings.final_temperature, proxy, settings, authors_code),
              phi, optimizer)


def adapt(
    meta_model: nn.Module,
    loss_net: nn.Module,
    task: Task,
    settings: TaskLearnerSettings,
    *,
    train_phi: bool,
    proxy: Proxy | None,
    authors_code: bool = False,
    generator: torch.Generator | None = None,
    workspace: TaskWorkspace | None = None,
) -> AdaptedTask:
    """Adapt copies of ``meta_model`` (a ``SearchNetwork``) and ``loss_net`` to ``task``; see the module doc.

    ``train_phi`` needs a ``proxy`` and a loss network with parameters; use False at meta-test (#19).
    ``authors_code`` re-wraps the proxy's logits as a detached leaf (#21). Neither argument is modified.
    ``workspace``: the working copies to reuse (built for these two modules); by default a new one.
    """
    workspace = workspace or TaskWorkspace(meta_model, loss_net)
    model, loss = workspace.reset(meta_model, loss_net)
    model.train()
    model.drop_path_prob = settings.drop_path_prob
    device = next(model.parameters()).device
    w_opt = _fresh(workspace.w_opt, settings.w_lr, settings.w_betas, settings.w_weight_decay)
    a_opt = _fresh(workspace.a_opt, settings.alpha_lr, settings.alpha_betas, settings.alpha_weight_decay)
    for step in range(settings.steps):
        t = settings.temperature(step)
        x_train, y_train = sample_batch(task, settings.batch_size, generator, device)
        x_val, y_val = sample_batch(task, settings.batch_size, generator, device)
        _step(loss(model(x_val, t), y_val), model.alphas(), a_opt)
        _step(loss(model(x_train, t), y_train), model.weights(), w_opt)
    check_finite("adapted weights and alphas", model.parameters(), f"task adaptation ({settings.steps} steps)")
    if train_phi and any(True for _ in loss.parameters()):
        train_phi_on_task(model, loss, task, settings, proxy, authors_code, generator, workspace.phi_opt)
    return _summarise(model, loss, task, settings.final_temperature)


def _summarise(model: nn.Module, loss: nn.Module, task: Task, temperature: float) -> AdaptedTask:
    """Query metrics without drop-path at ``temperature``, and detached copies of the adapted parameters."""
    model.drop_path_prob = 0.0
    device = next(model.parameters()).device
    x, y = task.query_x.to(device), task.query_y.to(device)
    with torch.no_grad():
        logits = model(x, temperature)
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
        ce, learned = F.cross_entropy(logits, y).item(), loss(logits, y).item()
    return AdaptedTask(
        theta={name: p.detach().clone() for name, p in model.named_weights()},
        alpha={name: p.detach().clone() for name, p in model.named_alphas()},
        phi={name: p.detach().clone() for name, p in loss.named_parameters()},
        query_accuracy=accuracy,
        query_ce=ce,
        learned_loss=learned,
        sparse_params=sparse_param_count(model, temperature=temperature),
    )


def sparse_param_count(model: nn.Module, threshold: float = 0.01, temperature: float = 1.0) -> int:
    """Weights of a ``SearchNetwork`` (alphas and the loss network excluded) without pruned ops (#9).

    An op is pruned where :meth:`SearchNetwork.active_ops` at ``temperature`` and ``threshold`` says a
    forward pass would skip it: its path is masked, its softmax weight ``softmax(alpha / temperature)`` is
    below ``threshold``, or (pairwise input alphas) no pair of inputs containing its edge has a weight of
    at least ``threshold``. This is the code's ``get_sparse_num_params`` rule; the code counts at the
    temperature reached after adaptation, with ``alpha_prune_threshold`` = 0.01.
    """
    active = model.active_ops(temperature, threshold)
    pruned = 0
    for cell in model.cells:
        kind = "reduce" if cell.reduction else "normal"
        for edge, op in (~active[kind]).nonzero().tolist():
            pruned += sum(p.numel() for p in cell.edges[edge].ops[op].parameters())
    return sum(p.numel() for p in model.weights()) - pruned


__all__ = [
    "META_TEST",
    "META_TRAIN",
    "AdaptedTask",
    "TaskLearnerSettings",
    "TaskWorkspace",
    "adapt",
    "sample_batch",
    "sparse_param_count",
    "train_phi_on_task",
]
