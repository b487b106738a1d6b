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
from lib.pipeline.divergence import check_finite, check_finite_tensors


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


Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class SearchStepper:
    """What a search step needs besides the batches: the supernet, its architect and its two optimisers."""

    model: SearchNetwork
    settings: SearchSettings
    architect: Architect
    w_optim: torch.optim.SGD
    a_optim: torch.optim.Adam

    @classmethod
    def build(cls, model: SearchNetwork, settings: SearchSettings) -> "SearchStepper":
        """SGD with momentum and weight decay on ``model.weights()``, Adam on ``model.alphas()`` (pitfall 5)."""
        w_optim = torch.optim.SGD(model.weights(), settings.lr, momentum=settings.momentum,
                                  weight_decay=settings.weight_decay)
        a_optim = torch.optim.Adam(model.alphas(), settings.alpha_lr, betas=settings.alpha_betas,
                                   weight_decay=settings.alpha_weight_decay)
        return cls(model, settings, Architect(model, _cross_entropy), w_optim, a_optim)


def search_step(stepper: SearchStepper, weight_batch: Batch, alpha_batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """One DARTS search step, the one the search loop, the Sec. 5.3 cost chapter and the benchmark all run.

    An architecture step (first or second order, ``settings.order``; the virtual step uses the weight
    optimiser's current learning rate and momentum) and an Adam step on the alphas, then an SGD step on
    the weights with their gradient norm clipped to ``settings.grad_clip``. Batches are (x (B, C, H, W),
    y (B,)). Returns the weight step's detached loss () and logits (B, n_classes).
    """
    model, settings, w_optim = stepper.model, stepper.settings, stepper.w_optim
    stepper.a_optim.zero_grad(set_to_none=True)
    stepper.architect.step(weight_batch, alpha_batch, lr=w_optim.param_groups[0]["lr"],
                           weight_decay=settings.weight_decay, order=settings.order, weight_optimizer=w_optim)
    stepper.a_optim.step()
    w_optim.zero_grad(set_to_none=True)
    weights = model.weights()
    logits = model(weight_batch[0])
    loss = nn.functional.cross_entropy(logits, weight_batch[1])
    loss.backward(inputs=weights)  # the alphas' gradient is not needed here
    nn.utils.clip_grad_norm_(weights, settings.grad_clip)
    w_optim.step()
    return loss.detach(), logits.detach()


def _search_epoch(stepper: SearchStepper, weight_batches: TensorBatches, alpha_batches: TensorBatches,
                  device: torch.device, desc: str) -> dict[str, float]:
    """One epoch of :func:`search_step`; the mean weight loss and accuracy, read once at the end.

    After each step the loss and the alphas are checked for non-finite values with one device read (a NaN
    alpha would mask every op of the next step, so the search must stop there); the sums stay on the device.
    """
    stepper.model.train()
    total_loss = correct = torch.zeros((), dtype=torch.float64, device=device)
    seen = 0
    batches = tqdm(zip(weight_batches, alpha_batches), desc=desc, leave=False, total=len(weight_batches))
    for step, ((xw, yw), (xa, ya)) in enumerate(batches, 1):
        yw = yw.to(device)
        loss, logits = search_step(stepper, (xw.to(device), yw), (xa.to(device), ya.to(device)))
        check_finite_tensors({"weight loss": loss, "alphas": stepper.model.alphas()}, f"{desc} step {step}")
        total_loss = total_loss + loss * yw.numel()
        correct = correct + (logits.argmax(1) == yw).sum()
        seen += yw.numel()
    log = {"train_loss": total_loss.item() / seen, "train_acc": 100.0 * correct.item() / seen}
    return log


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
    stepper = SearchStepper.build(model, settings)
    w_optim, a_optim = stepper.w_optim, stepper.a_optim
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(w_optim, settings.epochs, eta_min=settings.lr_min)
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
        log = _search_epoch(stepper, weight_batches, alpha_batches, device, f"search epoch {epoch}")
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
