"""Train a discrete network with SGD + cosine annealing, evaluating on a validation split every epoch."""

import copy
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn
from tqdm import tqdm

from lib.data.cifar10 import TensorBatches
from lib.pipeline.divergence import check_finite
from lib.training.evaluate import accuracy


@dataclass(frozen=True)
class TrainSettings:
    """Optimiser and schedule of the training loop (LNAS Sec. 5.1: SGD 0.9, wd 3e-4, lr 0.025 cosine)."""

    epochs: int
    lr: float = 0.025
    lr_min: float = 0.0
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    drop_path_prob: float = 0.0
    auxiliary_weight: float = 0.4


@dataclass
class TrainHooks:
    """Callbacks the pruning experiments plug in.

    ``after_step(model)`` runs after every optimiser step (re-applying weight masks);
    ``on_epoch_end(epoch, model, optimizer)`` after each epoch's evaluation (one-shot prune and rewind);
    ``select_from_epoch``: the first epoch whose weights may be selected as the best (after the last
    pruning, so a pruned run never reports its dense weights).
    """

    after_step: Callable[[nn.Module], None] | None = None
    on_epoch_end: Callable[[int, nn.Module, torch.optim.Optimizer], None] | None = None
    select_from_epoch: int = 1


@dataclass
class TrainResult:
    """Per-epoch history and the weights of the epoch with the best validation accuracy."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_acc: float = float("-inf")
    best_state: dict[str, torch.Tensor] | None = None


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, aux_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    out = model(x)
    if isinstance(out, tuple):
        logits, aux_logits = out
        return nn.functional.cross_entropy(logits, y) + aux_weight * nn.functional.cross_entropy(aux_logits, y), logits
    return nn.functional.cross_entropy(out, y), out


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               settings: TrainSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step on (x (B, C, H, W), y (B,)) with the gradient norm clipped; returns detached (loss, logits)."""
    optimizer.zero_grad(set_to_none=True)
    loss, logits = _loss(model, x, y, settings.auxiliary_weight)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
    optimizer.step()
    return loss.detach(), logits.detach()


def _train_epoch(model, batches, optimizer, settings, device, hooks, desc) -> dict[str, float]:
    model.train()
    total_loss = correct = torch.zeros((), dtype=torch.float64, device=device)  # no sync per step
    seen = 0
    for x, y in tqdm(batches, desc=desc, leave=False):
        x, y = x.to(device), y.to(device)
        loss, logits = train_step(model, optimizer, x, y, settings)
        if hooks.after_step:
            hooks.after_step(model)
        total_loss = total_loss + loss * y.numel()
        correct = correct + (logits.argmax(1) == y).sum()
        seen += y.numel()
    log = {"train_loss": total_loss.item() / seen, "train_acc": 100.0 * correct.item() / seen}
    check_finite("train loss (epoch mean)", log["train_loss"], desc)  # a non-finite step loss makes the sum so
    return log


def train_network(
    model: nn.Module,
    train_batches: TensorBatches,
    val_batches: TensorBatches,
    settings: TrainSettings,
    device: torch.device,
    hooks: TrainHooks | None = None,
    resume: dict[str, Any] | None = None,
    save: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train ``model`` for ``settings.epochs`` epochs; log val accuracy each epoch; keep the best weights.

    ``resume`` is a state previously passed to ``save`` (called after each epoch), so an interrupted
    run continues from its last finished epoch. Batches yield (images (B, C, H, W), labels (B,)).
    """
    hooks = hooks or TrainHooks()
    optimizer = torch.optim.SGD(model.parameters(), settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.epochs, eta_min=settings.lr_min)
    result = TrainResult()
    if resume:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        scheduler.load_state_dict(resume["scheduler"])
        result = TrainResult(**resume["result"])
    for epoch in range(len(result.history) + 1, settings.epochs + 1):
        start = time.perf_counter()
        if hasattr(model, "drop_path_prob"):
            model.drop_path_prob = settings.drop_path_prob * (epoch - 1) / settings.epochs
        train_batches.set_epoch(epoch - 1)  # replays the right shuffle after a resume
        log = _train_epoch(model, train_batches, optimizer, settings, device, hooks, f"train epoch {epoch}")
        scheduler.step()
        log.update(epoch=epoch, val_acc=accuracy(model, val_batches, device), seconds=time.perf_counter() - start)
        result.history.append(log)
        if epoch >= hooks.select_from_epoch and log["val_acc"] > result.best_val_acc:
            result.best_epoch, result.best_val_acc = epoch, log["val_acc"]
            result.best_state = copy.deepcopy(model.state_dict())
        if hooks.on_epoch_end:
            hooks.on_epoch_end(epoch, model, optimizer)
        check_finite("weights", model.parameters(), f"train epoch {epoch}")
        if save:
            save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "result": dataclasses.asdict(result)})
    return result
