"""lib.report.stats against hand-computed cases, textbook quantiles and seeded coverage simulations."""

import math

import numpy as np
import pytest

from lib.report import stats

T_975_2 = 4.303  # textbook table: t_{0.975, 2}
T_975_4 = 2.776  # t_{0.975, 4}


def test_t_interval_hand_computed():
    # [1, 2, 3]: mean 2, s = 1, se = 1/sqrt(3); half = 4.303 / sqrt(3) = 2.4843
    iv = stats.t_interval([1.0, 2.0, 3.0])
    assert iv.n == 3 and iv.estimate == pytest.approx(2.0)
    assert iv.high - iv.estimate == pytest.approx(T_975_2 / math.sqrt(3), abs=1e-3)
    assert iv.low == pytest.approx(2.0 - 2.4843, abs=1e-3)
    assert "t-interval" in iv.method


def test_t_interval_five_values_textbook_quantile():
    x = [10.0, 12.0, 11.0, 13.0, 9.0]  # mean 11, s = sqrt(2.5)
    iv = stats.t_interval(x)
    assert iv.high - 11.0 == pytest.approx(T_975_4 * math.sqrt(2.5) / math.sqrt(5), abs=1e-3)


def test_one_seed_has_no_interval_and_says_so():
    iv = stats.t_interval([87.5])
    assert iv.estimate == 87.5 and iv.low is None and iv.high is None and not iv.has_interval
    assert "no interval" in iv.method and "no interval" in iv.text()
    assert not iv.contains(87.5)


def test_nan_and_empty_are_refused():
    with pytest.raises(ValueError):
        stats.t_interval([1.0, float("nan")])
    with pytest.raises(ValueError):
        stats.t_interval([])


def test_paired_difference_uses_shared_seeds_only():
    a = {0: 1.0, 1: 2.0, 2: 4.0}
    b = {0: 0.0, 1: 1.0, 2: 2.0, 3: 9.0}  # seed 3 has no partner
    iv = stats.paired_difference(a, b)
    # differences [1, 1, 2]: mean 4/3, s = 1/sqrt(3), se = 1/3, half = 4.303/3
    assert iv.n == 3 and iv.estimate == pytest.approx(4 / 3)
    assert iv.high - iv.estimate == pytest.approx(T_975_2 / 3, abs=1e-3)
    assert "shared seeds" in iv.method


def test_paired_difference_is_narrower_than_unpaired_when_rows_share_seed_noise():
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 5, size=5)
    a = {s: 70 + seed_effect[s] + 1.0 + rng.normal(0, 0.1) for s in range(5)}
    b = {s: 70 + seed_effect[s] + rng.normal(0, 0.1) for s in range(5)}
    paired = stats.paired_difference(a, b)
    assert paired.low > 0  # the +1 effect is visible per seed
    assert stats.t_interval(list(a.values())).contains(stats.t_interval(list(b.values())).estimate)


def test_paired_difference_needs_a_shared_seed_and_one_gives_no_interval():
    with pytest.raises(ValueError):
        stats.paired_difference({0: 1.0}, {1: 1.0})
    iv = stats.paired_difference({0: 3.0, 1: 5.0}, {0: 1.0})
    assert iv.n == 1 and iv.estimate == 2.0 and not iv.has_interval and "one shared seed" in iv.method


def test_task_interval_hand_computed():
    acc = [0.9, 0.8, 1.0, 0.9]  # mean 0.9, s = sqrt(0.02/3)
    iv = stats.task_interval(acc)
    assert iv.estimate == pytest.approx(0.9)
    assert iv.high - 0.9 == pytest.approx(1.96 * math.sqrt(0.02 / 3) / 2)
    assert "tasks" in iv.method


def test_t_interval_coverage_simulation():
    rng = np.random.default_rng(1)
    hits = sum(stats.t_interval(rng.normal(5.0, 2.0, size=3)).contains(5.0) for _ in range(2000))
    assert 0.93 <= hits / 2000 <= 0.97  # nominal 95% with only 3 seeds


def test_task_interval_coverage_simulation():
    rng = np.random.default_rng(2)
    hits = sum(stats.task_interval(rng.binomial(100, 0.6, size=25) / 100).contains(0.6) for _ in range(2000))
    assert 0.92 <= hits / 2000 <= 0.97  # normal quantile with 25 tasks: slightly under 95%


def test_bootstrap_is_seeded_and_close_to_t_for_a_large_normal_sample():
    x = np.random.default_rng(3).normal(0, 1, size=200)
    one, two = stats.bootstrap_interval(x, seed=7), stats.bootstrap_interval(x, seed=7)
    assert one == two
    t = stats.t_interval(x)
    assert one.low == pytest.approx(t.low, abs=0.03) and one.high == pytest.approx(t.high, abs=0.03)
    assert "bootstrap" in one.method


def test_bootstrap_of_a_median_and_single_value():
    iv = stats.bootstrap_interval([1.0, 2.0, 3.0, 100.0], statistic=np.median, resamples=2000)
    assert iv.estimate == 2.5 and 1.0 <= iv.low <= iv.high <= 100.0
    assert not stats.bootstrap_interval([4.0]).has_interval


def _rank_pearson(x, y):
    """Independent oracle: Pearson correlation of average ranks, by hand."""
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return r
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    return num / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))


def test_spearman_hand_computed_with_fisher_interval():
    # d = [1,-1,1,-1,0], sum d^2 = 4: rho = 1 - 6*4/(5*24) = 0.8
    iv = stats.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert iv.estimate == pytest.approx(0.8)
    se = math.sqrt((1 + 0.8 ** 2 / 2) / 2)
    assert iv.low == pytest.approx(math.tanh(math.atanh(0.8) - 1.959964 * se), abs=1e-4)
    assert iv.high == pytest.approx(math.tanh(math.atanh(0.8) + 1.959964 * se), abs=1e-4)


def test_spearman_ties_match_average_rank_oracle():
    x, y = [1, 2, 2, 3, 4, 4, 5], [3, 1, 2, 2, 5, 4, 6]
    assert stats.spearman(x, y).estimate == pytest.approx(_rank_pearson(x, y))


def test_spearman_small_n_constant_and_perfect():
    assert not stats.spearman([1, 2, 3], [1, 3, 2]).has_interval
    undefined = stats.spearman([1, 1, 1, 1], [1, 2, 3, 4])
    assert math.isnan(undefined.estimate) and not undefined.has_interval
    perfect = stats.spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert perfect.estimate == pytest.approx(1.0) and not perfect.has_interval
    with pytest.raises(ValueError):
        stats.spearman([1, 2], [1, 2, 3])


def test_spearman_bootstrap_interval_contains_estimate():
    rng = np.random.default_rng(4)
    x = rng.normal(size=30)
    y = x + rng.normal(size=30)
    iv = stats.spearman(x, y, method="bootstrap", resamples=2000)
    assert iv.low < iv.estimate < iv.high and "bootstrap" in iv.method
    fisher = stats.spearman(x, y)
    assert abs(iv.low - fisher.low) < 0.15 and abs(iv.high - fisher.high) < 0.15


def test_over_seeds_gives_each_row_its_seeds_and_t_intervals_with_the_csv_bounds():
    import pandas as pd
    from lib.report import seeds

    per_run = pd.DataFrame([
        {"row": "A", "seed": 0, "score": 1.0, "cost": 10.0}, {"row": "A", "seed": 1, "score": 2.0, "cost": 10.0},
        {"row": "A", "seed": 2, "score": 2.0, "cost": 10.0}, {"row": "A", "seed": 2, "score": 4.0, "cost": 10.0},
        {"row": "B", "seed": 1, "score": 7.0, "cost": float("nan")},
    ])
    shown, data = seeds.over_seeds(per_run, ["row"], {"score": ("score", 1), "cost": ("cost", 0)})
    # A: seed 2's two runs average to 3, so the seeds give 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.3027
    half = 4.302653 / math.sqrt(3)
    assert shown.loc[0, "score"] == f"2.0 [{2 - half:.1f}, {2 + half:.1f}]"  # n: the seeds column
    assert data.loc[0, "score_low"] == pytest.approx(2 - half) and data.loc[0, "score_n"] == 3
    assert shown.loc[0, "seeds"] == "0;1;2" and shown.loc[0, "cost"] == "10 [10, 10]"
    assert shown.loc[1, "score"] == "7.0 (no interval)" and shown.loc[1, "cost"] == "n/a"
    assert list(shown.columns) == ["row", "seeds", "score", "cost"]
    fewer = per_run.assign(cost=[10.0, 12.0, float("nan"), float("nan"), 1.0])  # A's cost at seeds 0 and 1 only
    assert seeds.over_seeds(fewer, ["row"], {"cost": ("cost", 0)})[0].loc[0, "cost"].endswith("] (n=2)")


def test_an_accuracy_interval_is_clipped_to_what_an_accuracy_can_be():
    from lib.report import seeds

    # two seeds, one collapsed (2.4%) and one working (64.0%): mean 33.2, half-width t(0.975, 1) * s / sqrt(2)
    half = 12.7062 * math.sqrt(((2.4 - 33.2) ** 2 + (64.0 - 33.2) ** 2) / 1) / math.sqrt(2)
    raw = seeds.interval_or_none({0: 2.4, 1: 64.0})
    assert raw.low == pytest.approx(33.2 - half, abs=1e-3) and raw.high == pytest.approx(33.2 + half, abs=1e-3)
    accuracy = seeds.interval_or_none({0: 2.4, 1: 64.0}, "test_acc")
    assert (accuracy.low, accuracy.high, accuracy.estimate) == (0.0, 100.0, pytest.approx(33.2))
    assert "clipped to [0, 100]" in accuracy.method
    change = seeds.interval_or_none({0: -5.0, 1: 3.0}, "drop_at_pruning")  # a change: either sign, not clipped
    assert change.low < -5.0 and change.high > 3.0
    inside = seeds.interval_or_none({0: 60.0, 1: 61.0, 2: 62.0}, "test_acc")
    assert inside.method == "95% t-interval over 3 seeds"  # nothing to clip: unchanged


def test_a_difference_of_accuracies_is_clipped_to_plus_minus_100():
    from lib.report import seeds

    # per seed: -95 and +60: mean -17.5, sd 109.6, t(0.975, 1) = 12.7062 -> far beyond +-100
    diff = seeds.paired_or_none({0: 2.0, 1: 90.0}, {0: 97.0, 1: 30.0}, "test_acc")
    assert (diff.low, diff.high, diff.estimate) == (-100.0, 100.0, pytest.approx(-17.5))
    assert seeds.difference_support("test_acc") == (-100.0, 100.0) and seeds.difference_support("drop_at_pruning") is None
    assert seeds.paired_or_none({0: 2.0, 1: 90.0}, {0: 97.0, 1: 30.0}).low < -100  # no metric: not clipped


def test_sizes_fractions_and_weight_ratios_are_clipped_to_what_they_can_be():
    from lib.report import seeds

    spread = {0: 0.1, 1: 0.5}  # mean 0.3, t-interval 0.3 +- 12.7 * 0.2: far below 0 and above 1
    assert seeds.interval_or_none(spread, "dense_flops_M").low == 0.0  # a count of multiply-adds
    fraction = seeds.interval_or_none(spread, "reached_sparsity")
    assert (fraction.low, fraction.high) == (0.0, 1.0)
    ratio = seeds.interval_or_none({0: 1.01, 1: 1.2}, "search_top_over_uniform")
    assert ratio.low == 1.0 and ratio.high > 1.2  # the strongest op weighs at least the uniform weight


def test_a_widened_interval_adds_the_margin_on_both_sides_and_says_why():
    iv = stats.t_interval([1.0, 2.0, 3.0])  # 2 ± 4.303 * 1 / sqrt(3) = 2 ± 2.484
    wide = iv.widened(1.5, "a device offset")
    assert (wide.low, wide.high) == pytest.approx((2 - 2.484 - 1.5, 2 + 2.484 + 1.5), abs=1e-3)
    assert wide.estimate == 2.0 and "widened by ±1.50 for a device offset" in wide.method
    assert iv.widened(0.0, "nothing") is iv and stats.t_interval([1.0]).widened(2.0, "x").low is None
