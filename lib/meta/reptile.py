"""Reptile meta-learning of (theta, alpha, phi): LAMANAS Algorithm 2 (its caption is swapped, #1).

One meta-epoch adapts ``meta_batch_size`` tasks (10, INCONSISTENCIES #11) with the task learner and
moves each meta-parameter group towards the MEAN of its adapted values (#3; Algorithm 2 writes a sum):
``p <- p - lr * (p - mean_i p_i)``, an SGD step on the explicit gradient ``p - mean_i p_i``
(STYLE pitfall 8: ``zero_grad()`` leaves ``grad = None``, so the gradient is assigned, never
accumulated). Meta LRs: theta 1.0, alpha 0.6 (og_metanas), phi 0.001 (the code's value, constant; the
code's StepLR on phi is meaningless, #26). With ``authors_code`` phi is never meta-updated, as in the
authors' searchcnn path (#22); otherwise phi follows Algorithm 2's intended Reptile update.

Metrics are per epoch (the mean over this meta-batch of the query accuracy after K steps), not the
authors' running mean since epoch 1 (#8, #27); cumulate them in the caller to compare with their "Train".
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev
from typing import Protocol

import torch
from torch import Tensor, nn

from lib.data.tasks import Task
from lib.meta.task_learner import (META_TEST, META_TRAIN, AdaptedTask, Proxy, TaskLearnerSettings, TaskWorkspace,
                                   adapt)


class TaskSampler(Protocol):
    """Anything with ``sample(rng) -> Task`` (``FewShotTasks``, ``SyntheticFewShotTasks``)."""

    def sample(self, rng: torch.Generator | int | None = None) -> Task: ...


@dataclass(frozen=True)
class ReptileSettings:
    """Meta-training settings (og_metanas values; phi's meta LR is our documented choice, #22/#26).

    ``proxy`` trains phi inside each task (None for the cross-entropy baseline); ``authors_code``
    reproduces the code's detached proxy logits (#21) and its missing phi meta-update (#22).
    """

    meta_batch_size: int = 10
    theta_meta_lr: float = 1.0
    alpha_meta_lr: float = 0.6
    phi_meta_lr: float = 0.001
    proxy: Proxy | None = "mse"
    authors_code: bool = False
    task: TaskLearnerSettings = META_TRAIN


@dataclass
class MetaOptimizers:
    """Plain SGD (no momentum) per parameter group; ``phi`` is None for a loss without parameters."""

    theta: torch.optim.SGD
    alpha: torch.optim.SGD
    phi: torch.optim.SGD | None


@dataclass(frozen=True)
class EpochMetrics:
    """Means over one meta-batch, and the Euclidean norm of the meta-level change of phi."""

    query_accuracy: float
    query_ce: float
    learned_loss: float
    phi_change_norm: float


@dataclass(frozen=True)
class MetaTestResult:
    """Meta-test summary over tasks; ``accuracies`` per task, std is the population std."""

    accuracy_mean: float
    accuracy_std: float
    query_ce_mean: float
    learned_loss_mean: float
    sparse_params_mean: float
    accuracies: tuple[float, ...]


def make_meta_optimizers(meta_model: nn.Module, loss_net: nn.Module, settings: ReptileSettings) -> MetaOptimizers:
    """SGD over ``meta_model.weights()``, ``meta_model.alphas()`` and the loss network's parameters."""
    phi = list(loss_net.parameters())
    return MetaOptimizers(
        theta=torch.optim.SGD(meta_model.weights(), lr=settings.theta_meta_lr),
        alpha=torch.optim.SGD(meta_model.alphas(), lr=settings.alpha_meta_lr),
        phi=torch.optim.SGD(phi, lr=settings.phi_meta_lr) if phi else None,
    )


def reptile_update(meta_params: Sequence[Tensor], adapted: Sequence[Sequence[Tensor]],
                   meta_optimizer: torch.optim.Optimizer) -> None:
    """Set ``p.grad = p - mean_i adapted[i][j]`` for the j-th meta-parameter ``p``, then step.

    ``adapted[i]`` lists task i's tensors in the order (and shapes) of ``meta_params``. Any previous
    ``p.grad`` (or None after ``zero_grad``) is overwritten, never accumulated.
    """
    with torch.no_grad():
        for j, p in enumerate(meta_params):
            p.grad = p.detach() - torch.stack([task[j] for task in adapted]).mean(dim=0)
    meta_optimizer.step()


def _by_name(named: Sequence[tuple[str, Tensor]], adapted: Sequence[dict[str, Tensor]]
             ) -> tuple[list[Tensor], list[list[Tensor]]]:
    """Meta tensors and, per task, the adapted tensors in the same order."""
    return [p for _, p in named], [[task[name] for name, _ in named] for task in adapted]


def _flat(params: Iterable[Tensor]) -> Tensor:
    return torch.cat([p.detach().flatten() for p in params] or [torch.zeros(0)])


def meta_train_epoch(
    meta_model: nn.Module,
    loss_net: nn.Module,
    tasks_sampler: TaskSampler,
    settings: ReptileSettings,
    optimizers: MetaOptimizers,
    generator: torch.Generator | None = None,
    workspace: TaskWorkspace | None = None,
) -> EpochMetrics:
    """Adapt ``settings.meta_batch_size`` sampled tasks, then one Reptile step on theta, alpha (and phi).

    ``generator`` drives task sampling and support batches. The loss network's phi is trained on each
    task through ``settings.proxy`` when it has parameters. ``workspace``: task learner copies to reuse.
    """
    has_phi = optimizers.phi is not None
    workspace = workspace or TaskWorkspace(meta_model, loss_net)
    results = [
        adapt(meta_model, loss_net, tasks_sampler.sample(generator), settings.task, train_phi=has_phi,
              proxy=settings.proxy, authors_code=settings.authors_code, generator=generator, workspace=workspace)
        for _ in range(settings.meta_batch_size)
    ]
    phi_before = _flat(loss_net.parameters())
    reptile_update(*_by_name(meta_model.named_weights(), [r.theta for r in results]), optimizers.theta)
    reptile_update(*_by_name(meta_model.named_alphas(), [r.alpha for r in results]), optimizers.alpha)
    if has_phi and not settings.authors_code:
        reptile_update(*_by_name(list(loss_net.named_parameters()), [r.phi for r in results]), optimizers.phi)
    return EpochMetrics(
        query_accuracy=fmean(r.query_accuracy for r in results),
        query_ce=fmean(r.query_ce for r in results),
        learned_loss=fmean(r.learned_loss for r in results),
        phi_change_norm=float(torch.linalg.vector_norm(_flat(loss_net.parameters()) - phi_before)),
    )


def meta_test(
    meta_model: nn.Module,
    loss_net: nn.Module,
    tasks: Iterable[Task],
    settings: TaskLearnerSettings = META_TEST,
    generator: torch.Generator | None = None,
    workspace: TaskWorkspace | None = None,
) -> MetaTestResult:
    """Adapt to each task (``settings.steps`` = 50 by default) with phi frozen (#19); summarise the query set.

    ``workspace``: task learner copies to reuse.
    """
    workspace = workspace or TaskWorkspace(meta_model, loss_net)
    results: list[AdaptedTask] = [
        adapt(meta_model, loss_net, task, settings, train_phi=False, proxy=None, generator=generator,
              workspace=workspace)
        for task in tasks
    ]
    accuracies = tuple(r.query_accuracy for r in results)
    return MetaTestResult(
        accuracy_mean=fmean(accuracies),
        accuracy_std=pstdev(accuracies),
        query_ce_mean=fmean(r.query_ce for r in results),
        learned_loss_mean=fmean(r.learned_loss for r in results),
        sparse_params_mean=fmean(r.sparse_params for r in results),
        accuracies=accuracies,
    )


__all__ = [
    "EpochMetrics",
    "MetaOptimizers",
    "MetaTestResult",
    "ReptileSettings",
    "TaskSampler",
    "make_meta_optimizers",
    "meta_test",
    "meta_train_epoch",
    "reptile_update",
]
