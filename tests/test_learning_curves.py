"""lib/report/learning_curves.py: what meta-training adds along a learning curve, paired over the same tasks."""

import math

import pytest

from lib.report import learning_curves


def _point(series: str, x: int, accuracies: list[float] | None, status: str = "done") -> dict:
    return {"curve": "lamanas", "series": series, "x": x, "status": status, "accuracies": accuracies}


def test_the_gain_is_the_per_task_difference_between_the_last_and_the_first_point():
    points = [_point("baseline, C=28", 0, [40.0, 50.0, 60.0]), _point("baseline, C=28", 32, [45.0, 55.0, 65.0]),
              _point("baseline, C=28", 64, [50.0, 70.0, 90.0]),
              _point("lstm, C=28", 0, [40.0, 50.0, 60.0]), _point("lstm, C=28", 32, None, "pending"),
              {"curve": "lnas_search", "series": "x", "x": 0, "status": "done"}]
    table = learning_curves.gain(points, chance=5.0)
    assert table["curve"].tolist() == ["baseline, C=28"]  # the LSTM curve has one measured point: left out
    row = table.iloc[0]
    # per task: +10, +20, +30 -> mean 20, sd 10, t(0.975, 2) = 4.302653
    half = 4.302653 * 10 / math.sqrt(3)
    assert row["gain (pp)"] == f"20.0 [{20 - half:.1f}, {20 + half:.1f}] (n=3)"
    assert (row["tasks"], row["no meta-training (%)"], row["after meta-training (%)"]) == ("0 -> 64", 50.0, 70.0)
    assert row["note"] == learning_curves.NO_GAIN  # [-4.8, 44.8]: three tasks cannot show this gain


def test_a_curve_that_ends_below_chance_is_marked_so():
    collapsed = [_point("lstm, C=28", 0, [0.0, 1.0]), _point("lstm, C=28", 128, [1.0, 2.0])]  # chance: 5%
    assert learning_curves.gain(collapsed, chance=5.0).iloc[0]["note"] == learning_curves.BELOW_CHANCE


def test_a_gain_whose_interval_lies_above_zero_carries_no_note():
    # per task: +19, +20, +21 -> mean 20, sd 1, half-width 4.30 / sqrt(3) = 2.5
    steady = [_point("baseline, C=8", 0, [40.0, 50.0, 60.0]), _point("baseline, C=8", 32, [59.0, 70.0, 81.0])]
    assert learning_curves.gain(steady, chance=5.0).iloc[0]["note"] == ""


def test_a_curve_meta_tested_on_different_task_counts_is_refused():
    with pytest.raises(ValueError, match="different task counts"):
        learning_curves.gain([_point("b", 0, [40.0, 50.0]), _point("b", 32, [45.0])], chance=5.0)


def test_no_measured_curve_gives_an_empty_table():
    assert learning_curves.gain([], 5.0).empty and list(learning_curves.gain([], 5.0).columns) == learning_curves.COLUMNS
