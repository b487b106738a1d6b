"""The DARTS search loop: alternate an architecture step on one split and a weight step on the other."""

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn
from tqdm import tqdm

from lib.darts.architect import Architect
from lib.darts.search import SearchNetwork
from lib.data.cifar10 import TensorBatches
from lib.pipeline.divergence import check_finite


@dataclass(frozen=True)
class SearchSettings:
    """Optimisers of the search (LNAS Sec. 5.1 for the weights; DARTS defaults for alpha, INCONSISTENCIES #40)."""

    epochs: int
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    alpha_lr: float = 3e-4
    alpha_betas: tuple[float, float] = (0.5, 0.999)
    alpha_weight_decay: float = 1e-3
    order: str = "first"

    def __post_init__(self) -> None:
        if self.order not in ("first", "second"):
            raise ValueError(f"order must be 'first' or 'second', got {self.order!r}")


@dataclass
class SearchResult:
    """Per-epoch history of the search (losses, accuracies, time, the genotype after each epoch)."""

    history: list[dict[str, Any]] = field(default_factory=list)


def _cross_entropy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(model(x), y)


def _search_epoch(model, architect, weight_batches, alpha_batches, w_optim, a_optim, settings, device, desc):
    model.train()
    total_loss = correct = seen = 0.0
    lr = w_optim.param_groups[0]["lr"]
    for (xw, yw), (xa, ya) in tqdm(zip(weight_batches, alpha_batches), desc=desc, leave=False, total=len(weight_batches)):
        xw, yw, xa, ya = xw.to(device), yw.to(device), xa.to(device), ya.to(device)
        a_optim.zero_grad(set_to_none=True)
        architect.step((xw, yw), (xa, ya), lr=lr, weight_decay=settings.weight_decay, order=settings.order,
                       weight_optimizer=w_optim)
        a_optim.step()
        w_optim.zero_grad(set_to_none=True)
        logits = model(xw)
        loss = nn.functional.cross_entropy(logits, yw)
        loss.backward()
        nn.utils.clip_grad_norm_(list(model.weights()), settings.grad_clip)
        w_optim.step()
        check_finite("weight loss", loss.item(), desc)
        check_finite("alphas", model.alphas(), desc)
        total_loss += loss.item() * yw.numel()
        correct += (logits.argmax(1) == yw).sum().item()
        seen += yw.numel()
    return {"train_loss": total_loss / seen, "train_acc": 100.0 * correct / seen}


def search(
    model: SearchNetwork,
    weight_batches: TensorBatches,
    alpha_batches: TensorBatches,
    settings: SearchSettings,
    device: torch.device,
    on_epoch_end: Callable[[int, SearchNetwork], None] | None = None,
    resume: dict[str, Any] | None = None,
    save: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    """Run ``settings.epochs`` epochs of DARTS search; weights on ``weight_batches``, alphas on ``alpha_batches``.

    Alphas are stepped by Adam and are never touched by the weight optimiser, its weight decay or the
    gradient clipping (STYLE pitfall 5). ``on_epoch_end(epoch, model)`` runs after each epoch (path
    pruning in LNAS Variant 2); ``save`` receives a resumable state after each epoch.
    """
    w_optim = torch.optim.SGD(model.weights(), settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay)
    a_optim = torch.optim.Adam(model.alphas(), settings.alpha_lr, betas=settings.alpha_betas, weight_decay=settings.alpha_weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(w_optim, settings.epochs, eta_min=settings.lr_min)
    architect = Architect(model, _cross_entropy)
    result = SearchResult()
    if resume:
        model.load_state_dict(resume["model"])
        for obj, key in ((w_optim, "w_optim"), (a_optim, "a_optim"), (scheduler, "scheduler")):
            obj.load_state_dict(resume[key])
        result = SearchResult(**resume["result"])
    for epoch in range(len(result.history) + 1, settings.epochs + 1):
        start = time.perf_counter()
        weight_batches.set_epoch(epoch - 1)  # replays the right shuffle after a resume
        alpha_batches.set_epoch(epoch - 1)
        log = _search_epoch(model, architect, weight_batches, alpha_batches, w_optim, a_optim, settings, device, f"search epoch {epoch}")
        scheduler.step()
        if on_epoch_end:
            on_epoch_end(epoch, model)
        log.update(epoch=epoch, seconds=time.perf_counter() - start, genotype=model.genotype().to_string())
        result.history.append(log)
        check_finite("weights", model.weights(), f"search epoch {epoch}")
        if save:
            save({"model": model.state_dict(), "w_optim": w_optim.state_dict(), "a_optim": a_optim.state_dict(),
                  "scheduler": scheduler.state_dict(), "result": dataclasses.asdict(result)})
    return result
