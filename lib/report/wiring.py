"""Whether a derived cell's wiring was chosen by its search or by a tie of the derivation.

The derivation keeps, for each node, the two incoming edges whose best active op other than 'none' weighs most
(:func:`lib.darts.genotype.derive_genotype`). Before its fix it ranked them by the *masked* softmax, and
path pruning (Variant 2, Algorithm 3) can leave an edge one active op, whose masked weight is then exactly 1: where
a node had more than two such edges its choice was a tie, and the derivation kept the first two in input order
(inputs 0 and 1), not what the search preferred. At path sparsity 0.875 (where p = 0.875 and 0.95 both end,
INCONSISTENCIES #38) every edge kept one op, so every choice was a tie. The derivation now ranks by the unmasked
softmax (``SearchNetwork.derivation_weights``, stored in new records as ``derivation_weights``); records made before
hold only the masked weights (``alphas``), which are what their derivation ranked by. Either way this module reads
the weights the record's derivation ranked by, so the label stays true of each record until it is re-run.
"""

from collections.abc import Mapping, Sequence

from lib.darts.ops import DARTS_SPACE

TIED = ("a run of this row took its derived cell's wiring from a tie of the derivation, not from the search (each "
        "edge kept one op, whose masked weight is 1, so every node took inputs 0 and 1), or reused a search re-run since, "
        "whose wiring cannot be read: runs made with the derivation before its fix, stale until the evidence sweep "
        "re-runs them (lib/report/wiring.py)")
TIE = 1e-9  # two edge strengths closer than this are a tie (a masked softmax gives exactly 1.0)
Weights = Mapping[str, Sequence[Sequence[float]]]  # {cell type: (n_edges, n_ops) softmax weights, 0 if masked}


def _nodes(n_edges: int) -> int:
    """Intermediate nodes of a cell with ``n_edges`` edges (node j has 2 + j of them)."""
    nodes, edges = 0, 0
    while edges < n_edges:
        edges += 2 + nodes
        nodes += 1
    if edges != n_edges:
        raise ValueError(f"{n_edges} edges do not make a DARTS cell (node j has 2 + j incoming edges)")
    return nodes


def _strengths(weights: Sequence[Sequence[float]], ops: Sequence[str]) -> list[float]:
    """Per edge, its best weight over the active ops other than 'none' (0 when it has none)."""
    return [max((w for w, op in zip(edge, ops) if op != "none" and w > 0), default=0.0) for edge in weights]


def tied_choices(weights: Weights, ops: Sequence[str] = DARTS_SPACE) -> tuple[int, int]:
    """(choices decided by a tie, choices) over the cells of ``weights``. A choice is a node with more than two
    eligible incoming edges; it is tied when its second and third strongest edges weigh the same."""
    tied = choices = 0
    for cell in weights.values():
        strengths, first = _strengths(cell, ops), 0
        for node in range(_nodes(len(cell))):
            eligible = sorted((s for s in strengths[first:first + 2 + node] if s > 0), reverse=True)
            first += 2 + node
            if len(eligible) > 2:
                choices += 1
                tied += eligible[1] - eligible[2] <= TIE
    return tied, choices


def ranked_weights(metrics: Mapping[str, object]) -> Weights | None:
    """The weights a search record's derivation ranked edges by: ``derivation_weights`` (unmasked softmax, records
    made since the fix), else ``alphas`` (the masked softmax, which the derivation used before), else None."""
    return metrics.get("derivation_weights") or metrics.get("alphas")  # type: ignore[return-value]


def tied_share(weights: Weights | None) -> float:
    """The share of a derivation's choices decided by a tie (0 when it had none to make, NaN without weights)."""
    if not weights:
        return float("nan")
    tied, choices = tied_choices(weights)
    return tied / choices if choices else 0.0
