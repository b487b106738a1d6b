"""LNAS Variant 2: prune candidate ops (paths) of the DARTS supernet during the search.

A path is one entry of ``alpha_normal`` / ``alpha_reduce``; pruning it clears its bit in the network's
path mask, so its logit becomes -inf before the softmax and the op is no longer computed (STYLE pitfall 7).
Decisions (INCONSISTENCIES #37, #38):

* Score = the path's softmax weight over the active ops of its edge (``SearchNetwork.edge_weights()``),
  ranked **globally** over all edges of both cell types. Within an edge this is the same order as alpha;
  across edges raw alphas are not comparable (softmax ignores a shift of an edge's alphas), and ``|alpha|``
  would call a strongly negative, suppressed op important. The weight is ProxylessNAS's path probability.
* 'none' is a candidate like any other: it counts (8 ops x 14 edges x 2 cell types = 224 paths in the
  DARTS space, as INCONSISTENCIES #38 counts) and can be pruned.
* An edge always keeps one active op other than 'none' (where the space has one): a path that would
  take its edge's last real op is skipped and the next smallest taken, so the requested count is met
  whenever possible. Keeping only 'none' would be allowed by ``set_path_mask`` but kills the edge for the
  genotype, which never picks 'none' (STYLE pitfall 2); and 'none' often has the largest weight, so
  protecting any last op would leave many edges with only 'none' at high sparsity. At p = 0.95 over 224
  paths the target (213) is above the 196 = 224 - 28 that can be masked, so the schedule stops at
  0.875 and logs it.
* ``scope="edge"`` prunes the same fraction within every edge instead (rounded per edge).
"""

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from lib.darts.search import CELL_TYPES, SearchNetwork
from lib.pruning.schedule import check_schedule, sparsity_after

SCOPES = ("global", "edge")


def path_sparsity(model: SearchNetwork) -> float:
    """Fraction of all alpha entries (both cell types) whose path is masked."""
    masks = [getattr(model, f"mask_{t}") for t in CELL_TYPES]
    return sum(int((~m).sum()) for m in masks) / sum(m.numel() for m in masks)


def prune_paths(model: SearchNetwork, fraction: float, scope: str = "global") -> dict[str, Tensor]:
    """New path masks with ``round(fraction * active)`` more paths of smallest softmax weight masked.

    ``active`` counts active paths over both cell types (``"global"``) or per edge (``"edge"``). Returns
    ``{cell_type: bool (n_edges, n_ops)}`` nested in the current masks; set them with ``set_path_mask``.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    masks, _ = _prune(model, scope, lambda total, active: round(fraction * active))
    return masks


def prune_paths_to_sparsity(model: SearchNetwork, sparsity: float,
                            scope: str = "global") -> tuple[dict[str, Tensor], int]:
    """Masks with ``round(sparsity * total)`` paths masked (globally, or per edge), and the shortfall.

    The shortfall is how many of the requested paths the one-op-per-edge rule left active (0 = reached).
    """
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    return _prune(model, scope, lambda total, active: round(sparsity * total) - (total - active))


def _prune(model: SearchNetwork, scope: str, quota_of: Callable[[int, int], int]) -> tuple[dict[str, Tensor], int]:
    """Mask ``quota_of(paths, active paths)`` smallest-weight paths per group (all paths, or each edge)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    with torch.no_grad():
        weights = model.edge_weights()
    scores = torch.cat([weights[t].flatten() for t in CELL_TYPES]).cpu()
    active = torch.cat([getattr(model, f"mask_{t}").flatten() for t in CELL_TYPES]).cpu()
    n_edges, n_ops = getattr(model, f"mask_{CELL_TYPES[0]}").shape
    edge = torch.arange(len(CELL_TYPES) * n_edges).repeat_interleave(n_ops).tolist()
    if scope == "edge":
        group, quotas = edge, [quota_of(n_ops, int(row.sum())) for row in active.view(-1, n_ops)]
    else:
        group, quotas = [0] * len(edge), [quota_of(len(active), int(active.sum()))]
    if min(quotas) < 0:
        raise ValueError("the model already has more masked paths than requested")
    real = [op != "none" for op in model.ops] * (len(CELL_TYPES) * n_edges)
    keep, shortfall = _mask_smallest(scores, active, edge, group, quotas, real)
    masks = keep.view(len(CELL_TYPES), n_edges, n_ops)
    return {t: masks[i].clone() for i, t in enumerate(CELL_TYPES)}, shortfall


def _mask_smallest(scores: Tensor, active: Tensor, edge: list[int], group: list[int], quotas: list[int],
                   real: list[bool]) -> tuple[Tensor, int]:
    """Clear up to ``quotas[g]`` active entries per group, smallest score first (ties: earlier index).

    ``scores``, ``active``: (M,); ``edge[i]``, ``group[i]``: entry i's edge and group; ``real[i]``: not
    'none'. An entry is skipped if it is its edge's last active op, or last active real op. Returns the
    new active flags (M,) and the unmet quota.
    """
    edges = torch.tensor(edge)
    alive = torch.bincount(edges[active], minlength=max(edge) + 1).tolist()
    alive_real = torch.bincount(edges[active & torch.tensor(real)], minlength=max(edge) + 1).tolist()
    left = list(quotas)
    keep = active.clone()
    candidates = active.nonzero().squeeze(1)
    for i in candidates[torch.sort(scores[candidates], stable=True).indices].tolist():
        e = edge[i]
        if left[group[i]] == 0 or alive[e] == 1 or (real[i] and alive_real[e] == 1):
            continue
        keep[i] = False
        left[group[i]] -= 1
        alive[e] -= 1
        alive_real[e] -= real[i]
    return keep, sum(left)


class PathPruningSchedule:
    """``search(..., on_epoch_end=...)`` callback: after epoch k <= ``rounds``, reach ``1 - (1 - p)^(k/n)``.

    Each round prunes about ``1 - (1 - p)^(1/n)`` of the surviving paths; counting towards
    ``round(total * sparsity_after(p, n, k))`` makes round n exact (``lib.pruning.schedule``). Later
    epochs keep the mask. ``log``: per round the target and achieved masked counts and sparsity, and
    ``reachable`` (False when the one-op-per-edge rule stopped short of the target).
    """

    def __init__(self, target_sparsity: float, rounds: int, scope: str = "global") -> None:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        check_schedule(target_sparsity, rounds)
        self.target_sparsity, self.rounds, self.scope = target_sparsity, rounds, scope
        self.log: list[dict[str, Any]] = []

    def __call__(self, epoch: int, model: SearchNetwork) -> None:
        """Prune after search epoch ``epoch`` (1-based); a no-op after the last round."""
        if epoch > self.rounds:
            return
        target = sparsity_after(self.target_sparsity, self.rounds, epoch)
        masks, shortfall = prune_paths_to_sparsity(model, target, self.scope)
        for cell_type, mask in masks.items():
            model.set_path_mask(cell_type, mask)
        masked = sum(int((~m).sum()) for m in masks.values())
        self.log.append({"epoch": epoch, "target_sparsity": target, "target_masked": masked + shortfall,
                         "masked": masked, "sparsity": path_sparsity(model), "reachable": shortfall == 0})
