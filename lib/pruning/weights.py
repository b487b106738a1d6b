"""Magnitude pruning of weights, keeping pruned weights at zero, and rewinding (lottery tickets).

Pruning is a pure function ``(model, mask) -> new mask`` nested in the old one; :func:`apply_mask` then
zeroes the pruned entries. An optimiser step moves a zeroed weight again (its gradient is not zero, and
SGD momentum remembers earlier gradients), so the mask is re-applied after every step
(``LotteryTicketPruning.after_step``, STYLE pitfall 6). :func:`mask_gradients` additionally zeroes the pruned entries'
gradients, so they count neither in gradient-norm clipping nor in the momentum buffers: after a momentum
reset those buffer entries stay exactly zero and cannot leak into a weight. Without it the buffer entries
of pruned weights fill up but are harmless, since their weights are zeroed after every step anyway.

Scope. ``"layer"`` (the default) prunes the same fraction of every weight tensor: NNI's ``LevelPruner``
convention (the report built its DARTS on NNI, LNAS Sec. 5.1). ``"global"`` ranks all weights together,
as open_lth does, but PyTorch's default init scales a weight by ``1/sqrt(fan_in)``, so on a DARTS network
the classifier and the 1x1 preprocessing convs of the wide late cells are the smallest weights. Measured
at init on DARTS V2 (C=36, 20 cells): global pruning to p = 0.625 empties the classifier and 11
preprocessing convs, to p = 0.95 109 of 440 weight tensors, cutting the network; layer scope empties
none (it cannot empty a tensor of at least ``1 / (1 - p)`` entries).
"""

from collections.abc import Callable, Mapping

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from lib.pruning.mask import Mask

SCOPES = ("global", "layer")


def magnitude_prune(model: nn.Module, current_mask: Mask, fraction: float, scope: str = "layer") -> Mask:
    """Prune ``round(fraction * surviving)`` more entries with the smallest ``|w|``; a new, nested mask.

    ``scope="layer"`` prunes ``fraction`` of each weight's survivors separately; ``"global"`` ranks the
    survivors of all masked weights together, so a layer's share follows its magnitudes (module docstring
    on why "layer" is the default). Ties go in parameter order, then row-major order: deterministic.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    return _prune(model, current_mask, scope, lambda total, alive: round(fraction * alive))


def prune_to_sparsity(model: nn.Module, current_mask: Mask, sparsity: float, scope: str = "layer") -> Mask:
    """Prune the smallest surviving ``|w|`` until ``round(sparsity * total)`` entries are pruned.

    ``total`` counts all masked entries (``"global"``) or each weight's (``"layer"``); an iterative schedule
    that calls this with ``sparsity_after(p, n, k)`` ends exactly at ``round(p * total)``
    (``lib.pruning.schedule``). Raises if the mask already has more pruned entries than that.
    """
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    return _prune(model, current_mask, scope, lambda total, alive: round(sparsity * total) - (total - alive))


def _prune(model: nn.Module, mask: Mask, scope: str, count: Callable[[int, int], int]) -> Mask:
    """Per group of weights (all, or each), prune ``count(entries, surviving)`` smallest ``|w|`` survivors."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    mask.check(model)
    params = dict(model.named_parameters())
    scores = {name: params[name].detach().abs() for name in mask}
    groups = [list(mask)] if scope == "global" else [[name] for name in mask]
    new = {}
    for names in groups:
        total = sum(mask[n].numel() for n in names)
        alive = sum(int(mask[n].sum()) for n in names)
        new.update(_prune_smallest(scores, mask, names, count(total, alive)))
    return Mask({name: new[name] for name in mask})


def _prune_smallest(scores: Mapping[str, Tensor], mask: Mask, names: list[str], count: int) -> dict[str, Tensor]:
    """Masks of ``names`` with the ``count`` surviving entries of smallest score pruned (stable order)."""
    alive = torch.cat([mask[n].flatten() for n in names])
    survivors = alive.nonzero().squeeze(1)
    if not 0 <= count <= len(survivors):
        raise ValueError(f"cannot prune {count} entries of {names if len(names) < 4 else 'the model'}: "
                         f"{len(survivors)} survive")
    score = torch.cat([scores[n].flatten() for n in names])[survivors]
    alive[survivors[torch.sort(score, stable=True).indices[:count]]] = False
    chunks = alive.split([mask[n].numel() for n in names])
    return {n: chunk.view_as(mask[n]) for n, chunk in zip(names, chunks)}


@torch.no_grad()
def apply_mask(model: nn.Module, mask: Mask) -> None:
    """Set the pruned entries of the masked weights to exactly zero, in place."""
    params = dict(model.named_parameters())
    for name, keep in mask.items():
        params[name].masked_fill_(~keep, 0.0)


def mask_gradients(model: nn.Module, mask: Mask) -> list[RemovableHandle]:
    """Zero the gradients of pruned entries as they are computed; remove the returned handles to stop."""
    params = dict(model.named_parameters())
    return [params[name].register_hook(lambda grad, keep=keep: grad.masked_fill(~keep, 0.0))
            for name, keep in mask.items()]


def reset_momentum(optimizer: torch.optim.Optimizer) -> None:
    """Drop the SGD momentum buffers: the next step starts them afresh from its gradient."""
    for state in optimizer.state.values():
        state.pop("momentum_buffer", None)


def rewind(model: nn.Module, initial_state: Mapping[str, Tensor], mask: Mask) -> None:
    """Load ``initial_state`` (theta_k; theta_0 = the initialisation), then zero the pruned entries.

    Surviving weights become ``theta_k * mask``; everything else in the state dict (BatchNorm parameters
    and running statistics, biases, unmasked weights) becomes theta_k, as open_lth loads the whole state
    of step k. Optimiser state and learning-rate schedule are the caller's (see ``lib.pruning.lottery``).
    """
    model.load_state_dict(initial_state)
    apply_mask(model, mask)
