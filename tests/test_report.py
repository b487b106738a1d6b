"""Reported-vs-reproduced tables and the reports' own numbers."""

import pandas as pd
import pytest

from lib.report import compare


def test_compare_puts_pairs_side_by_side_with_the_difference():
    theirs = pd.DataFrame({"variant": ["a", "b"], "acc": [70.0, 80.0]})
    ours = pd.DataFrame({"variant": ["b"], "acc": [77.5]})
    table = compare.compare(ours, theirs, on=["variant"], metrics={"accuracy": "acc"})
    assert list(table.columns) == ["variant", "accuracy (report)", "accuracy (ours)", "accuracy Δ"]
    row_b = table.set_index("variant").loc["b"]
    assert row_b["accuracy Δ"] == pytest.approx(-2.5)
    assert table.set_index("variant").loc["a"].isna()["accuracy (ours)"]


def test_compare_names_missing_columns():
    with pytest.raises(KeyError, match="acc"):
        compare.compare(pd.DataFrame({"v": [1]}), pd.DataFrame({"v": [1]}), on=["v"], metrics={"x": "acc"})


def test_reported_lnas_table_has_the_baseline_row():
    table = compare.reported("lnas", "Table 1")
    baseline = table[table["variant"] == "Baseline"].iloc[0]
    assert (baseline["val_acc_epoch10"], baseline["val_acc_epoch20"], baseline["flops_M"]) == (74.04, 78.9, 752.355)
    assert len(table) == 17


def test_unknown_report_or_table_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of"):
        compare.reported("nas")
    with pytest.raises(ValueError, match="has no table"):
        compare.reported("lnas", "Table 9")
