"""What the scorecard says about one claim, and the rule that judges one table cell.

A verdict has one of the four statuses of :mod:`lib.report.rules` (held, did not hold, inconclusive, not
testable), our value in words and the basis (which rule, on which interval). Absolute numbers are only
comparable at the ``paper`` profile; at a reduced profile an accuracy cell is judged on the side of the
baseline the report puts it (the paired difference over seeds, :func:`lib.report.rules.better_than` /
:func:`~lib.report.rules.worse_than`), a size cell as its per-seed ratio to the baseline.
"""

import math
from dataclasses import dataclass

from lib.report import rules
from lib.report.devices import applied_margin, widened_for_offset
from lib.report.rules import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE, STATUSES, Ruling
from lib.report.seeds import NON_NEGATIVE, PERCENT, PERCENT_DIFFERENCE
from lib.report.stats import paired_difference, t_interval

ACCURACY, SIZE = "accuracy", "size"
PENDING_BASIS = "not yet run"
"""How the basis of a verdict without a cached run begins (:func:`missing`): such a claim is pending, not untestable."""
PENDING_STATUS = f"{NOT_TESTABLE}: pending runs"
"""How a column that shows a status alone (the authors'-code column) shows a pending claim (:func:`shown_status`)."""
__all__ = ["ACCURACY", "SIZE", "HELD", "NOT_HELD", "INCONCLUSIVE", "NOT_TESTABLE", "STATUSES", "PENDING_BASIS",
           "PENDING_STATUS", "Verdict", "is_pending", "shown_status"]


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim: status, our value (text), how it was judged and ``widened``: the margin (pp)
    its interval was widened by on both sides for a device offset the pairing cannot cancel (rule 'Devices';
    0: not widened), which the basis also gives in words."""

    status: str
    ours: str
    basis: str
    widened: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @classmethod
    def of(cls, ruling: Ruling, ours: str = "") -> "Verdict":
        return cls(ruling.status, ours, ruling.reason)


def missing(profile: str, what: str = "this row") -> Verdict:
    """No cached run to judge from: not yet run."""
    return Verdict(NOT_TESTABLE, "pending", f"{PENDING_BASIS}: no record of {what} is cached at the {profile} profile")


def is_pending(status: str, basis: str) -> bool:
    """Whether a scorecard row is not testable only because its runs are not cached yet."""
    return status == NOT_TESTABLE and basis.startswith(PENDING_BASIS)


def shown_status(verdict: Verdict) -> str:
    """The status for a column without ``ours`` and ``basis`` beside it: :data:`PENDING_STATUS` for a claim not
    testable only because its runs are not cached yet (the main columns show such a claim as "not testable" with
    "pending" as our value and "not yet run" as the basis), else the status."""
    return PENDING_STATUS if is_pending(verdict.status, verdict.basis) else verdict.status


def _absent(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def cell(kind: str, reported: float | None, reported_baseline: float, ours: dict[int, float],
         baseline: dict[int, float], is_baseline: bool, profile: str, widen: float = 0.0) -> Verdict:
    """Judge one table cell of kind ``accuracy`` (%) or ``size`` from per-seed values ``{seed: value}``.

    At ``paper``: our t-interval against the report's value (:func:`rules.matches_reported`). Elsewhere the
    baseline's own cell is not testable; an accuracy is judged by the paired difference to the baseline on
    the side the report puts it (its interval widened by ``widen`` on both sides: a device offset the pairing
    cannot cancel; "ours" gives our mean and the paired difference Δ as measured); a size by the per-seed ratio to
    the baseline against the report's ratio.
    """
    if kind not in (ACCURACY, SIZE):
        raise ValueError(f"kind must be {ACCURACY!r} or {SIZE!r}, got {kind!r}")
    if _absent(reported):
        return Verdict(NOT_TESTABLE, "", "the report printed no number")
    if not ours:
        return missing(profile)
    mine = t_interval(list(ours.values())).clipped(PERCENT if kind == ACCURACY else NON_NEGATIVE)
    text = mine.text(2 if kind == ACCURACY else 1)
    if profile == "paper":
        tolerance = rules.ACCURACY_TOLERANCE_PP if kind == ACCURACY else rules.SIZE_TOLERANCE
        return Verdict.of(rules.matches_reported(mine, reported, tolerance, profile, relative=kind == SIZE), text)
    if is_baseline:
        return Verdict.of(rules.matches_reported(mine, reported, 0, profile), text)
    shared = sorted(set(ours) & set(baseline))
    if not shared:
        return Verdict(NOT_TESTABLE, text, f"{PENDING_BASIS}: no baseline run at this row's seeds at the {profile} profile")
    if kind == SIZE:
        ratio = t_interval([ours[s] / baseline[s] for s in shared])
        return Verdict.of(rules.matches_reported(ratio, reported / reported_baseline, rules.SIZE_TOLERANCE, "paper",
                                                 relative=True, unit=" (ratio to the baseline)"), text)
    support = PERCENT_DIFFERENCE if kind == ACCURACY else None
    paired = paired_difference(ours, baseline)
    measured, diff = paired.clipped(support), widened_for_offset(paired, widen, support)
    rule = rules.better_than if reported >= reported_baseline else rules.worse_than
    side = ">=" if reported >= reported_baseline else "<"
    ruling = rule(diff)
    return Verdict(ruling.status, f"{text}; Δ {measured.text()}",
                   f"report: {reported:.2f} {side} baseline {reported_baseline:.2f}; ours: {ruling.reason}",
                   applied_margin(paired, widen))

