"""How much to prune per round so that ``rounds`` rounds reach a target sparsity.

Pruning a fraction ``r`` of the *surviving* entries ``n`` times leaves ``(1 - r)^n`` of them, so the rate
that reaches sparsity ``p`` is ``r = 1 - (1 - p)^(1/n)`` (STYLE pitfall 6). The report's "prune p^(1/n)"
(LNAS Sec. 3, Algorithms 1-3) is a slip: it would remove far more than ``p`` (INCONSISTENCIES #37).

Entry counts are integers. Rounding each round's ``r * surviving`` lets the errors add up, so schedules
here instead aim, after round ``k``, at ``round(total * (1 - (1 - p)^(k/n)))`` pruned entries (Python's
``round``: nearest integer, ties to even) and prune the difference: exact at every round, ``round(total
* p)`` after the last.
"""


def check_schedule(target_sparsity: float, rounds: int) -> None:
    """Raise unless ``0 <= p < 1`` and ``rounds >= 1``."""
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target sparsity must be in [0, 1), got {target_sparsity}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")


def sparsity_after(target_sparsity: float, rounds: int, k: int) -> float:
    """Sparsity after round ``k`` of ``rounds`` (0 <= k <= rounds): ``1 - (1 - p)^(k/n)``."""
    check_schedule(target_sparsity, rounds)
    if not 0 <= k <= rounds:
        raise ValueError(f"round {k} is outside 0..{rounds}")
    return 1.0 - (1.0 - target_sparsity) ** (k / rounds)
