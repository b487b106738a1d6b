"""What the scorecard says about one claim, and the rule that judges one table cell.

A verdict is ``held``, ``did not hold`` or ``not testable`` (at the profile whose runs are cached),
with our value and the basis of the judgement in words. Absolute numbers are only comparable at the
``paper`` profile; at a reduced profile a cell is judged on what survives the reduction: the direction of
an accuracy against the same table's baseline, or a size as a ratio to the baseline's size.
"""

import math
from dataclasses import dataclass

HELD, NOT_HELD, NOT_TESTABLE = "held", "did not hold", "not testable"
STATUSES = (HELD, NOT_HELD, NOT_TESTABLE)
ACCURACY, SIZE = "accuracy", "size"
MARGIN_PP = 2.0  # accuracy: paper-profile tolerance, and the gap a "better than" claim must exceed
SIZE_TOLERANCE = 0.15  # relative tolerance on a size, or on its ratio to the baseline


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim: status, our value (text) and how it was judged."""

    status: str
    ours: str
    basis: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


def missing(profile: str, what: str = "this row") -> Verdict:
    """No cached run to judge from."""
    return Verdict(NOT_TESTABLE, "", f"no run of {what} is cached at the {profile} profile")


def judged(holds: bool, ours: str, basis: str) -> Verdict:
    return Verdict(HELD if holds else NOT_HELD, ours, basis)


def _absent(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def cell(kind: str, reported: float | None, ours: float | None, reported_baseline: float, ours_baseline: float | None,
         is_baseline: bool, profile: str, spread: float | None = None) -> Verdict:
    """Judge one table cell of kind ``accuracy`` (%) or ``size`` (FLOPs, parameters).

    At ``paper`` the values are compared directly (accuracy within max(2 pp, 2 seed deviations), size
    within 15%). Elsewhere the baseline's own cell is not testable, and another row's cell holds when it
    lies on the same side of its baseline as the report's (accuracy: >= counts as a winning ticket, as in
    the report) or when its ratio to the baseline is within 15% of the report's ratio (size).
    """
    if kind not in (ACCURACY, SIZE):
        raise ValueError(f"kind must be {ACCURACY!r} or {SIZE!r}, got {kind!r}")
    if _absent(reported):
        return Verdict(NOT_TESTABLE, "" if _absent(ours) else f"{ours:.4g}", "the report printed no number")
    if _absent(ours):
        return missing(profile)
    text = f"{ours:.2f}" if kind == ACCURACY else f"{ours:.4g}"
    if profile == "paper":
        return _absolute(kind, reported, ours, text, spread)
    if is_baseline:
        return Verdict(NOT_TESTABLE, text, f"an absolute number; the {profile} profile reduces the settings (paper tests it)")
    if _absent(ours_baseline):
        return Verdict(NOT_TESTABLE, text, f"no baseline run is cached at the {profile} profile")
    return _relative(kind, reported, ours, reported_baseline, ours_baseline, text)


def _absolute(kind: str, reported: float, ours: float, text: str, spread: float | None) -> Verdict:
    if kind == ACCURACY:
        tolerance = max(MARGIN_PP, 2 * (0.0 if _absent(spread) else spread))
        return judged(abs(ours - reported) <= tolerance, text, f"same settings: |ours - report| <= {tolerance:.2g} pp")
    return judged(abs(ours / reported - 1) <= SIZE_TOLERANCE, text, f"same settings: within {SIZE_TOLERANCE:.0%}")


def _relative(kind: str, reported: float, ours: float, reported_baseline: float, ours_baseline: float, text: str) -> Verdict:
    if kind == ACCURACY:
        side = lambda beats: ">=" if beats else "<"
        theirs, mine = reported >= reported_baseline, ours >= ours_baseline
        basis = (f"direction vs the baseline: report {reported:.2f} {side(theirs)} {reported_baseline:.2f}, "
                 f"ours {ours:.2f} {side(mine)} {ours_baseline:.2f}")
        if ours == ours_baseline:
            basis += " (equal: the same training run up to this point)"
        return judged(theirs == mine, text, basis)
    theirs, mine = reported / reported_baseline, ours / ours_baseline
    basis = f"ratio to the baseline within {SIZE_TOLERANCE:.0%}: report {theirs:.3f}, ours {mine:.3f}"
    return judged(abs(mine / theirs - 1) <= SIZE_TOLERANCE, text, basis)
