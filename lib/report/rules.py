"""The scorecard's four statuses and one written rule for each kind of claim.

Every rule is a pure function of a :class:`~lib.report.stats.Interval` (and the claim's numbers) returning a
:class:`Ruling` ``(status, reason)``. The rule texts below are printed once at the top of the scorecard page;
each row then only says which rule judged it and what the interval was.

Orientation: for comparisons the caller passes the paired difference *claimed side minus other side* in a
unit where larger is better (accuracy in pp; for an error or a cost, pass other minus claimed), so "on the
claimed side" always means "above zero".
"""

from typing import NamedTuple

from lib.report.stats import LEVEL, Interval

HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE = "held", "did not hold", "inconclusive", "not testable"
STATUSES = (HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE)

EQUAL_MARGIN_PP = 1.0
"""Equivalence margin for "about equal" accuracy claims, in percentage points. The smallest gap either report
presents as a real difference is about 1 pp (LNAS Table 1: Variant 2 at p=0.75, 79.86 vs the baseline's
78.90, is a winning ticket, while p=0.125 at 78.77 is not), so an "equal" claim must be decided on a finer
scale than the differences the reports call real."""
ACCURACY_TOLERANCE_PP = 2.0
"""Tolerance for an absolute accuracy at the paper profile: the reports give one run per row, so their own
number carries an unknown seed spread (at full scale DARTS reports standard deviations of 0.14 and 0.09 pp
over 10 runs, Liu et al. 2019 Table 1, but the reports train far shorter); 2 pp keeps the earlier scorecard's
tolerance."""
SIZE_TOLERANCE = 0.15
"""Relative tolerance for a size (parameters, FLOPs) or its ratio to the baseline."""

RULE_BETTER = ("Better than / outperforms: held when the 95% interval of the per-seed paired difference "
               "(claimed-better row minus the other) lies entirely above zero; did not hold when it lies entirely "
               "below zero; inconclusive when it contains zero or when fewer than two paired seeds give no interval.")
RULE_WORSE = ("Worse than: the mirror image of 'better than': held when the interval of the paired difference "
              "lies entirely below zero, did not hold when entirely above, inconclusive when it contains zero.")
RULE_EQUAL = (f"About equal: held when the 95% interval of the paired difference lies inside ±{EQUAL_MARGIN_PP:g} pp; "
              f"did not hold when it lies entirely outside that band; inconclusive when it crosses ±{EQUAL_MARGIN_PP:g} pp. "
              f"{EQUAL_MARGIN_PP:g} pp is the smallest gap the reports treat as a real difference.")
RULE_VALUE = (f"A reported number (paper profile only): held when our 95% interval lies inside the report's value "
              f"± the tolerance ({ACCURACY_TOLERANCE_PP:g} pp for accuracy, {SIZE_TOLERANCE:.0%} for sizes); did not "
              f"hold when it lies entirely outside; inconclusive when it crosses the band's edge. At a reduced profile "
              f"an absolute number is not testable, so a size is judged as its per-seed ratio to our baseline against "
              f"the report's ratio to its baseline, with the same {SIZE_TOLERANCE:.0%} tolerance.")
RULE_NOT_TESTABLE = ("Not testable: the claim describes the setup or earlier work, sets no threshold, needs a run "
                     "the profile does not hold, or its cell is fixed by construction or judged against a report "
                     "column that does not behave like a measurement; the row says which.")
RULE_DEVICES = ("Devices: where some of a paired difference's seeds compare runs made on different devices "
                "(a lent GPU and this machine's CPU), its interval is widened on both sides, before the rules above, "
                "by the share of such seeds times the largest systematic device offset the measurement allows (LNAS: "
                "Variant 1 before its pruning against the baseline, LNAS Table 1, 'How much the device moves a run'; "
                "LAMANAS: baseline runs repeated on the other device, LAMANAS Table 1): pairing by seed cancels the "
                "seed, and the interval over seeds covers the device's noise, but not an offset shared by every run "
                "of one device. The offset is measured between this CPU and an NVIDIA H200 and taken for the H100 "
                "too (one architecture and software); seeds whose runs were made on two GPUs are not widened (their "
                "kernels are picked per run, so they differ by noise the interval covers). Until a report's "
                "measurement has two pairs, its comparisons across devices carry the caveat only.")
TWO_LOOK_LEVEL = 1 - (1 - LEVEL) / 2
"""The level of each look of a two-stage design: the error split over its two looks (Bonferroni)."""
TWO_LOOKS_WHY = (f"A {100 * LEVEL:g}% interval errs in one direction or the other {100 * (1 - LEVEL):g}% of the "
                 f"time (a false 'held' {50 * (1 - LEVEL):g}%), so a verdict that may come from either of two looks "
                 f"errs up to twice as often; both looks are therefore judged on {100 * TWO_LOOK_LEVEL:g}% intervals "
                 f"(Bonferroni), which keeps the two together at the error of one look.")
RULE_TWO_LOOKS = ("Two looks: a comparison planned with a second look after more seeds (the meta-training control: "
                  "first at Table 1's seeds, then at all of its seeds) is judged at both looks on "
                  f"{100 * TWO_LOOK_LEVEL:g}% intervals. " + TWO_LOOKS_WHY)
RULES = {"better": RULE_BETTER, "worse": RULE_WORSE, "equal": RULE_EQUAL, "value": RULE_VALUE,
         "devices": RULE_DEVICES, "two looks": RULE_TWO_LOOKS, "not testable": RULE_NOT_TESTABLE}


class Ruling(NamedTuple):
    """The verdict of one rule: one of :data:`STATUSES` and the reason in words."""

    status: str
    reason: str


def _no_interval(diff: Interval, what: str) -> Ruling:
    return Ruling(INCONCLUSIVE, f"{what}: {diff.text()}; {diff.method}")


def better_than(diff: Interval, unit: str = "pp") -> Ruling:
    """Rule for "better than / outperforms"; ``diff`` is claimed-better minus other (larger is better)."""
    if not diff.has_interval:
        return _no_interval(diff, "paired difference without an interval")
    text = f"paired difference {diff.text()} {unit}"
    if diff.low > 0:
        return Ruling(HELD, f"{text}: entirely above 0")
    if diff.high < 0:
        return Ruling(NOT_HELD, f"{text}: entirely below 0")
    return Ruling(INCONCLUSIVE, f"{text}: contains 0")


def worse_than(diff: Interval, unit: str = "pp") -> Ruling:
    """Rule for "worse than"; ``diff`` is claimed-worse minus other (larger is better)."""
    if not diff.has_interval:
        return _no_interval(diff, "paired difference without an interval")
    text = f"paired difference {diff.text()} {unit}"
    if diff.high < 0:
        return Ruling(HELD, f"{text}: entirely below 0")
    if diff.low > 0:
        return Ruling(NOT_HELD, f"{text}: entirely above 0")
    return Ruling(INCONCLUSIVE, f"{text}: contains 0")


def about_equal(diff: Interval, margin: float = EQUAL_MARGIN_PP, unit: str = "pp") -> Ruling:
    """Rule for "about equal": the paired difference's interval against the band ±``margin``."""
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    if not diff.has_interval:
        return _no_interval(diff, "paired difference without an interval")
    text = f"paired difference {diff.text()} {unit} vs ±{margin:g} {unit}"
    if -margin <= diff.low and diff.high <= margin:
        return Ruling(HELD, f"{text}: inside the band")
    if diff.low > margin or diff.high < -margin:
        return Ruling(NOT_HELD, f"{text}: entirely outside the band")
    return Ruling(INCONCLUSIVE, f"{text}: crosses the band's edge")


def matches_reported(ours: Interval, reported: float, tolerance: float, profile: str, relative: bool = False,
                     unit: str = "") -> Ruling:
    """Rule for a reported number: our interval against ``reported`` ± ``tolerance`` (× reported if ``relative``).

    Only at the ``paper`` profile; elsewhere the number is not testable (the profile reduces the settings).
    Also used for a ratio to the baseline, which survives the reduction: pass ``profile="paper"`` then.
    """
    if profile != "paper":
        return Ruling(NOT_TESTABLE, f"an absolute number; the {profile} profile reduces the settings (paper tests it)")
    width = abs(reported) * tolerance if relative else tolerance
    band = (reported - width, reported + width)
    if not ours.has_interval:
        return _no_interval(ours, "our value without an interval")
    text = f"ours {ours.text()}{unit} vs report {reported:g}{unit} ± {width:.2f}"
    if band[0] <= ours.low and ours.high <= band[1]:
        return Ruling(HELD, f"{text}: inside")
    if ours.low > band[1] or ours.high < band[0]:
        return Ruling(NOT_HELD, f"{text}: entirely outside")
    return Ruling(INCONCLUSIVE, f"{text}: crosses the edge")


def not_testable(reason: str) -> Ruling:
    """A claim the profile cannot test, with the reason written in the row."""
    if not reason.strip():
        raise ValueError("a not-testable row must say why")
    return Ruling(NOT_TESTABLE, reason)


def fixed_by_construction(what: str) -> Ruling:
    """A cell whose value is fixed by construction (e.g. the same run as the baseline before pruning)."""
    return not_testable(f"fixed by construction: {what}")


def not_a_measurement(column: str, why: str) -> Ruling:
    """A cell judged against a report column that does not behave like a measurement."""
    return not_testable(f"the report's {column} column does not behave like a measurement: {why}")


def all_of(rulings: list[Ruling]) -> Ruling:
    """A claim made of several comparisons (e.g. "in each of the four pairs"): held when every part held,
    did not hold when any part did not hold, otherwise inconclusive (also when only some parts are not
    testable); not testable only when every part is."""
    if not rulings:
        raise ValueError("all_of needs at least one ruling")
    statuses = {r.status for r in rulings}
    reason = "; ".join(r.reason for r in rulings)
    if statuses == {NOT_TESTABLE}:
        return Ruling(NOT_TESTABLE, reason)
    if NOT_HELD in statuses:
        return Ruling(NOT_HELD, reason)
    return Ruling(HELD if statuses == {HELD} else INCONCLUSIVE, reason)
