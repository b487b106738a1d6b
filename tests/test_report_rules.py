"""lib.report.rules: every branch of every rule, on hand-made intervals."""

import pytest

from lib.report import rules
from lib.report.rules import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE
from lib.report.stats import Interval


def iv(low: float | None, high: float | None, estimate: float | None = None, n: int = 3) -> Interval:
    mid = estimate if estimate is not None else (low + high) / 2
    return Interval(mid, low, high, n, "test")


ONE_SEED = Interval(0.9, None, None, 1, "one seed: no interval")


@pytest.mark.parametrize("interval, status", [(iv(0.2, 1.5), HELD), (iv(-1.5, -0.2), NOT_HELD),
                                              (iv(-0.5, 1.0), INCONCLUSIVE), (iv(0.0, 1.0), INCONCLUSIVE)])
def test_better_than(interval, status):
    ruling = rules.better_than(interval)
    assert ruling.status == status and "paired difference" in ruling.reason


@pytest.mark.parametrize("interval, status", [(iv(-1.5, -0.2), HELD), (iv(0.2, 1.5), NOT_HELD),
                                              (iv(-0.5, 1.0), INCONCLUSIVE)])
def test_worse_than(interval, status):
    assert rules.worse_than(interval).status == status


def test_better_and_worse_are_mirror_images():
    for interval in (iv(0.2, 1.5), iv(-1.5, -0.2), iv(-0.5, 1.0)):
        mirrored = iv(-interval.high, -interval.low)
        assert rules.better_than(interval).status == rules.worse_than(mirrored).status


def test_one_paired_seed_is_inconclusive_and_says_why():
    for rule in (rules.better_than, rules.worse_than, rules.about_equal):
        ruling = rule(ONE_SEED)
        assert ruling.status == INCONCLUSIVE and "no interval" in ruling.reason


@pytest.mark.parametrize("interval, status", [(iv(-0.4, 0.6), HELD), (iv(1.2, 3.0), NOT_HELD), (iv(-3.0, -1.5), NOT_HELD),
                                              (iv(-0.5, 1.5), INCONCLUSIVE), (iv(-2.0, 2.0), INCONCLUSIVE),
                                              (iv(-1.0, 1.0), HELD)])
def test_about_equal_default_margin(interval, status):
    assert rules.EQUAL_MARGIN_PP == 1.0
    assert rules.about_equal(interval).status == status


def test_about_equal_custom_margin_and_bad_margin():
    assert rules.about_equal(iv(-1.5, 1.5), margin=2.0).status == HELD
    with pytest.raises(ValueError):
        rules.about_equal(iv(-1.0, 1.0), margin=0.0)


@pytest.mark.parametrize("interval, status", [(iv(77.5, 79.5), HELD), (iv(70.0, 74.0), NOT_HELD), (iv(82.0, 84.0), NOT_HELD),
                                              (iv(75.0, 79.0), INCONCLUSIVE), (iv(70.0, 90.0), INCONCLUSIVE)])
def test_matches_reported_accuracy_at_paper(interval, status):
    ruling = rules.matches_reported(interval, 78.9, rules.ACCURACY_TOLERANCE_PP, "paper", unit="%")
    assert ruling.status == status and "78.9" in ruling.reason


def test_matches_reported_relative_tolerance():
    assert rules.matches_reported(iv(90.0, 110.0), 100.0, 0.15, "paper", relative=True).status == HELD
    assert rules.matches_reported(iv(120.0, 130.0), 100.0, 0.15, "paper", relative=True).status == NOT_HELD
    assert rules.matches_reported(iv(110.0, 120.0), 100.0, 0.15, "paper", relative=True).status == INCONCLUSIVE


def test_matches_reported_needs_paper_profile_and_an_interval():
    ruling = rules.matches_reported(iv(78.0, 79.0), 78.9, 2.0, "cpu")
    assert ruling.status == NOT_TESTABLE and "cpu" in ruling.reason
    assert rules.matches_reported(ONE_SEED, 0.9, 0.02, "paper").status == INCONCLUSIVE


def test_not_testable_helpers_carry_a_reason():
    assert rules.fixed_by_construction("the same run as the baseline before pruning") == \
        (NOT_TESTABLE, "fixed by construction: the same run as the baseline before pruning")
    ruling = rules.not_a_measurement("FLOPS", "a formula of p")
    assert ruling.status == NOT_TESTABLE and "FLOPS" in ruling.reason and "not behave like a measurement" in ruling.reason
    with pytest.raises(ValueError):
        rules.not_testable("  ")


def test_rule_texts_cover_every_kind_and_status():
    assert set(rules.RULES) == {"better", "worse", "equal", "value", "devices", "two looks", "not testable"}
    text = " ".join(rules.RULES.values())
    for status in rules.STATUSES:
        assert status in text.lower()


def test_all_of_combines_parts():
    held, no, unsure, nt = (rules.Ruling(s, s) for s in (HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE))
    assert rules.all_of([held, held]).status == HELD
    assert rules.all_of([held, unsure]).status == INCONCLUSIVE
    assert rules.all_of([unsure, no, held]).status == NOT_HELD
    assert rules.all_of([nt, nt]).status == NOT_TESTABLE
    assert rules.all_of([nt, held]).status == INCONCLUSIVE
    assert rules.all_of([held, no]).reason == "held; did not hold"
    with pytest.raises(ValueError):
        rules.all_of([])
