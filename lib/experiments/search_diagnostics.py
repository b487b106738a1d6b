"""Did the search leave uniform? The softmax weights of each edge, per search epoch, against the uniform mixture.

Per edge with ``k`` active candidate ops (path pruning masks some), the uniform mixture gives each op
``1/k``. Two numbers per edge and epoch: ``top_over_uniform`` = ``k * max weight`` (1: still uniform;
``k``: one op took everything) and ``entropy`` = ``H(weights) / log k`` (1: uniform; 0: one op). The
summary of a search is the mean of ``top_over_uniform`` over all edges of both cell types at the end; a
search whose summary stays below :data:`NEAR_UNIFORM` has not chosen between its ops, so the genotype
derived from it is close to a random pick of the space.
"""

import math
from typing import Any, Mapping, Sequence

import torch

from lib.darts.search import SearchNetwork

NEAR_UNIFORM = 1.5  # mean top-op weight below 1.5x uniform: the search never left uniform
Weights = Mapping[str, Sequence[Sequence[float]]]  # {cell type: (n_edges, n_ops) softmax weights}


def edge_statistics(weights: torch.Tensor) -> tuple[list[float], list[float]]:
    """(n_edges, n_ops) softmax weights, 0 for pruned ops -> per edge (top weight x k, normalized entropy)."""
    active = (weights > 0).sum(1)
    top = weights.max(1).values * active
    logs = torch.where(weights > 0, weights.clamp_min(1e-30).log(), torch.zeros_like(weights))
    entropy = -(weights * logs).sum(1) / active.clamp_min(2).log()
    return top.tolist(), torch.where(active > 1, entropy, torch.zeros_like(entropy)).tolist()


def top_over_uniform(weights: Weights) -> float:
    """Mean over all edges of both cell types of ``k * max weight`` (the summary a table shows)."""
    tops = [t for w in weights.values() for t in edge_statistics(torch.tensor(w, dtype=torch.float64))[0]]
    return math.fsum(tops) / len(tops)


def near_uniform(summary: float | None) -> bool | None:
    """True when a search's summary is below :data:`NEAR_UNIFORM`; None when it was not recorded."""
    return None if summary is None else summary < NEAR_UNIFORM


class SearchDiagnostics:
    """``search(..., on_epoch_end=...)`` callback: the per-edge statistics after each search epoch.

    ``epochs``: one entry per epoch, ``{"epoch", "top_over_uniform": {cell: [per edge]}, "entropy": {...}}``,
    taken before any path pruning of that epoch. ``saved`` restores the entries of a resumed search.
    """

    def __init__(self, saved: Sequence[dict[str, Any]] = ()) -> None:
        self.epochs: list[dict[str, Any]] = list(saved)

    def __call__(self, epoch: int, model: SearchNetwork) -> None:
        with torch.no_grad():
            stats = {cell: edge_statistics(w.detach().double().cpu()) for cell, w in model.edge_weights().items()}
        self.epochs.append({"epoch": epoch, "top_over_uniform": {c: s[0] for c, s in stats.items()},
                            "entropy": {c: s[1] for c, s in stats.items()}})

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps (restored with ``SearchDiagnostics(state["diagnostics"])``)."""
        return {"diagnostics": list(self.epochs)}
