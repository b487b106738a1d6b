"""LNAS Variant 1: lottery-ticket pruning of a discrete network while it trains, as ``TrainHooks``.

As run in the report (LNAS Sec. 5.1, INCONSISTENCIES #36): train 20 epochs; at the end of epoch 10 prune
a fraction p of the weights by magnitude in one shot (per layer by default, see ``lib.pruning.weights``),
rewind the survivors to theta_0 and train epochs 11-20 with the mask fixed
(:meth:`LotteryTicketPruning.one_shot`). Algorithm 1 (prune in n rounds during training, no rewinding) is
:meth:`LotteryTicketPruning.iterative`.

What the report leaves open (INCONSISTENCIES #36), decided here:

* SGD momentum is reset at each pruning (``reset_momentum=True``): the buffers hold the trained
  trajectory's velocity, which does not belong to the rewound weights.
* The learning-rate schedule is **not** rewound: the cosine schedule of ``train_network`` continues from
  epoch 11 (the hooks cannot reach the scheduler; rewinding it would need a ``train_network`` change).
* Everything else in the state dict (BatchNorm, biases, running statistics) is rewound to theta_0 too.
* Pruned entries get zero gradients (``lib.pruning.weights.mask_gradients``), so they affect neither the
  gradient-norm clipping nor the momentum; the mask is also re-applied after every optimiser step.
"""

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from lib.pruning.mask import Mask
from lib.pruning.schedule import check_schedule, sparsity_after
from lib.pruning.weights import SCOPES, apply_mask, mask_gradients, prune_to_sparsity, reset_momentum, rewind
from lib.training.train import TrainHooks


class LotteryTicketPruning:
    """Prune at the end of each epoch in ``prune_epochs`` (round k reaches ``1 - (1 - p)^(k/n)``).

    Build it before training: it keeps a deep copy of the state dict as theta_0. ``mask`` is the current
    (finally: the ticket's) weight mask, usable as ``masks=`` in ``lib.darts.flops``; ``log`` has one entry per
    pruning (epoch, round, target and achieved sparsity, whether weights were rewound).
    """

    def __init__(self, model: nn.Module, target_sparsity: float, prune_epochs: Sequence[int], rewind: bool = True,
                 reset_momentum: bool = True, scope: str = "layer", exclude: Iterable[str] = ()) -> None:
        epochs = tuple(prune_epochs)
        if not epochs or len(set(epochs)) != len(epochs) or min(epochs) < 1:
            raise ValueError(f"prune_epochs must be distinct epochs >= 1, got {epochs}")
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        check_schedule(target_sparsity, len(epochs))
        self.target_sparsity, self.scope = target_sparsity, scope
        self.prune_epochs = tuple(sorted(epochs))
        self.rewind, self.reset_momentum = rewind, reset_momentum
        self.initial_state = copy.deepcopy(model.state_dict())
        self.mask = Mask.ones_like(model, exclude)
        self.log: list[dict[str, Any]] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    @classmethod
    def one_shot(cls, model: nn.Module, target_sparsity: float, prune_epoch: int,
                 **kwargs: Any) -> "LotteryTicketPruning":
        """The report's Variant 1: prune ``p`` once after ``prune_epoch`` (10 of 20) and rewind to theta_0."""
        return cls(model, target_sparsity, (prune_epoch,), **kwargs)

    @classmethod
    def iterative(cls, model: nn.Module, target_sparsity: float, epochs: int, rounds: int,
                  rewind: bool = False, **kwargs: Any) -> "LotteryTicketPruning":
        """Algorithm 1: prune after epochs ``floor(k * epochs / (rounds + 1))``, k = 1..rounds; no rewinding by default.

        The rounds are spread so that training continues after the last one (the final model is a
        trained ticket, not a freshly pruned one); this needs ``rounds < epochs``.
        """
        if not 1 <= rounds < epochs:
            raise ValueError(f"need 1 <= rounds < epochs, got rounds={rounds}, epochs={epochs}")
        prune_epochs = [k * epochs // (rounds + 1) or 1 for k in range(1, rounds + 1)]
        return cls(model, target_sparsity, prune_epochs, rewind=rewind, **kwargs)

    @property
    def hooks(self) -> TrainHooks:
        """The callbacks for ``lib.training.train.train_network``."""
        return TrainHooks(after_step=self.after_step, on_epoch_end=self.on_epoch_end,
                          select_from_epoch=self.prune_epochs[-1] + 1)

    def after_step(self, model: nn.Module) -> None:
        """Re-apply the mask after every optimiser step (STYLE pitfall 6); nothing before the first pruning."""
        if self.log:
            apply_mask(model, self.mask)

    def on_epoch_end(self, epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """At a pruning epoch: prune to the round's sparsity, rewind (or just zero), reset momentum."""
        if epoch not in self.prune_epochs:
            return
        k = self.prune_epochs.index(epoch) + 1
        target = sparsity_after(self.target_sparsity, len(self.prune_epochs), k)
        self.mask = prune_to_sparsity(model, self.mask, target, self.scope)
        if self.rewind:
            rewind(model, self.initial_state, self.mask)
        else:
            apply_mask(model, self.mask)
        if self.reset_momentum:
            reset_momentum(optimizer)
        self._attach(model)
        self.log.append({"epoch": epoch, "round": k, "target_sparsity": target, "sparsity": self.mask.sparsity,
                         "rewound": self.rewind})

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs: theta_0, the mask and the log (save it beside ``train_network``'s state)."""
        return {"initial_state": self.initial_state, "mask": dict(self.mask), "log": list(self.log)}

    def load_state_dict(self, state: dict[str, Any], model: nn.Module) -> None:
        """Restore :meth:`state_dict` output on ``model``'s device (a checkpoint loads on the CPU) and re-attach
        the gradient masks to ``model``."""
        device = next(model.parameters()).device
        self.initial_state = {name: value.to(device) for name, value in state["initial_state"].items()}
        self.mask = Mask({name: keep.to(device) for name, keep in state["mask"].items()})
        self.log = list(state["log"])
        if self.log:
            self._attach(model)

    def _attach(self, model: nn.Module) -> None:
        """Replace the gradient hooks with ones for the current mask."""
        for handle in self._handles:
            handle.remove()
        self._handles = mask_gradients(model, self.mask)
