"""Reptile meta-learning of (theta, alpha, phi): one meta-epoch of LAMANAS Algorithm 2 (caption swapped, #1).

The whole algorithm, as named stages, is ``lib/experiments/lamanas.py:algorithm2``. One meta-epoch
adapts ``meta_batch_size`` tasks (10, INCONSISTENCIES #11) with the task learner and moves each meta-parameter group towards the MEAN of its adapted values (#3; Algorithm 2 writes a sum):
``p <- p - lr * (p - mean_i p_i)``, an SGD step on the explicit gradient ``p - mean_i p_i``
(STYLE pitfall 8: ``zero_grad()`` leaves ``grad = None``, so the gradient is assigned, never
accumulated). Meta LRs: theta 1.0, alpha 0.6 (og_metanas), phi 0.001 (the code's value, constant; the
code's StepLR on phi is meaningless, #26). With ``authors_code`` phi is never meta-updated, as in the
authors' searchcnn path (#22); otherwise phi follows Algorithm 2's intended Reptile update.

Seeds are paired across rows: the task stream (a generator seeded by the run's seed) draws each task and
then a seed for that task alone, which seeds its support batches and drop-path. So two rows with the same
seed see the same tasks with the same batches, whatever their loss network consumes inside a task.

Metrics are per epoch (the mean over this meta-batch of the query accuracy after K steps), not the
authors' running mean since epoch 1 (#8, #27); cumulate them in the caller to compare with their "Train".
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import fmean, pstdev
from typing import Protocol

import torch
from torch import Tensor, nn

from lib.data.tasks import Task
from lib.pipeline.divergence import check_finite
from lib.meta.task_learner import META_TEST, AdaptedTask, Proxy, TaskLearnerSettings, TaskWorkspace, adapt


class TaskSampler(Protocol):
    """Anything with ``sample(rng) -> Task`` (``FewShotTasks``, ``SyntheticFewShotTasks``)."""

    def sample(self, rng: torch.Generator | int | None = None) -> Task: ...


@dataclass(frozen=True)
class ReptileSettings:
    """The meta-learner: ``meta_epochs`` Reptile steps of ``meta_batch_size`` tasks each, and the meta LRs.

    og_metanas values; phi's meta LR is the code's (our documented choice, #22/#26). ``meta_epochs = 0``
    leaves the meta-parameters at their initialisation (the no-meta-training control). LamanasConfig
    checks the values (lib/experiments/lamanas_config.py).
    """

    meta_epochs: int = 200
    meta_batch_size: int = 10
    theta_meta_lr: float = 1.0
    alpha_meta_lr: float = 0.6
    phi_meta_lr: float = 0.001


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


def flat(params: Iterable[Tensor]) -> Tensor:
    """Detached parameters as one vector (empty for none), on their device."""
    return torch.cat([p.detach().flatten() for p in params] or [torch.zeros(0)])


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """The global RNG (drop-path) seeded with ``seed`` inside the block and restored after it."""
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def adapt_paired(meta_model: nn.Module, loss_net: nn.Module, tasks_sampler: TaskSampler, stream: torch.Generator,
                 task: TaskLearnerSettings, *, train_phi: bool, proxy: Proxy | None,
                 authors_code: bool, workspace: TaskWorkspace | None = None) -> AdaptedTask:
    """Draw the next task and its own seed from ``stream``, then adapt to it under that seed (module doc).

    ``workspace``: task learner copies to reuse.
    """
    sampled = tasks_sampler.sample(stream)
    seed = int(torch.randint(2**62, (), generator=stream))
    device = next(meta_model.parameters()).device
    with _seeded(seed, device):
        return adapt(meta_model, loss_net, sampled, task, train_phi=train_phi, proxy=proxy,
                     authors_code=authors_code, generator=torch.Generator().manual_seed(seed), workspace=workspace)


def meta_train_epoch(
    meta_model: nn.Module,
    loss_net: nn.Module,
    tasks_sampler: TaskSampler,
    settings: ReptileSettings,
    task: TaskLearnerSettings,
    optimizers: MetaOptimizers,
    stream: torch.Generator,
    *,
    proxy: Proxy | None,
    authors_code: bool = False,
    workspace: TaskWorkspace | None = None,
) -> EpochMetrics:
    """Adapt ``settings.meta_batch_size`` tasks from ``stream``, then one Reptile step on theta, alpha (and phi).

    The loss network's phi is trained on each task through ``proxy`` when it has parameters; with
    ``authors_code`` the proxy's logits are detached (#21) and phi gets no meta-update (#22).
    ``workspace``: task learner copies to reuse.
    """
    has_phi = optimizers.phi is not None
    workspace = workspace or TaskWorkspace(meta_model, loss_net)
    results = [adapt_paired(meta_model, loss_net, tasks_sampler, stream, task, train_phi=has_phi, proxy=proxy,
                            authors_code=authors_code, workspace=workspace) for _ in range(settings.meta_batch_size)]
    phi_before = flat(loss_net.parameters())
    reptile_update(*_by_name(meta_model.named_weights(), [r.theta for r in results]), optimizers.theta)
    reptile_update(*_by_name(meta_model.named_alphas(), [r.alpha for r in results]), optimizers.alpha)
    if has_phi and not authors_code:
        reptile_update(*_by_name(list(loss_net.named_parameters()), [r.phi for r in results]), optimizers.phi)
    check_finite("meta-parameters (theta, alpha, phi)", [*meta_model.parameters(), *loss_net.parameters()], "Reptile update")
    return EpochMetrics(
        query_accuracy=fmean(r.query_accuracy for r in results),
        query_ce=fmean(r.query_ce for r in results),
        learned_loss=fmean(r.learned_loss for r in results),
        phi_change_norm=float(torch.linalg.vector_norm(flat(loss_net.parameters()) - phi_before)),
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
    "adapt_paired",
    "flat",
    "make_meta_optimizers",
    "meta_test",
    "meta_train_epoch",
    "reptile_update",
]
