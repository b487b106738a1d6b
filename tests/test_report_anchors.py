"""data/reported/anchors.json through lib.report.anchors: every anchor carries its value, unit and citation."""

import json

import pytest

from lib.report import anchors


def test_every_committed_anchor_has_value_unit_source_and_table():
    data = json.loads(anchors.ANCHORS_PATH.read_text())
    assert data["anchors"]
    for entry in data["anchors"]:
        assert isinstance(entry["value"], (int, float)) and entry["unit"] and entry["table"]
        assert entry["page"] is None or isinstance(entry["page"], int)
        source = data["sources"][entry["source"]]
        assert source["paper"] and source["venue"] and source["arxiv"]
    assert len(anchors.load()) == len(data["anchors"])


def test_anchors_cover_the_benchmarks_the_issue_names():
    benchmarks = set(anchors.load()["benchmark"])
    assert {"CIFAR-10", "Omniglot 20-way 5-shot"} <= benchmarks
    darts = anchors.for_benchmark("CIFAR-10")
    assert {"test error", "search cost"} <= set(darts["metric"])


def _write(tmp_path, entry, sources=None):
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps({"sources": sources or {"s": {"paper": "P"}}, "anchors": [entry]}))
    return path


GOOD = {"id": "a", "method": "m", "benchmark": "b", "metric": "x", "value": 1.0, "unit": "%", "source": "s",
        "table": "Table 1", "page": None, "verified_from": "paper text"}


def test_a_complete_entry_loads(tmp_path):
    assert anchors.load(_write(tmp_path, GOOD)).loc[0, "paper"] == "P"


@pytest.mark.parametrize("change", [{"unit": ""}, {"value": "2.76"}, {"source": "nope"}, {"page": "7"},
                                    {"table": None}])
def test_incomplete_entries_are_refused(tmp_path, change):
    with pytest.raises(ValueError):
        anchors.load(_write(tmp_path, {**GOOD, **change}))


def test_missing_field_and_repeated_id_are_refused(tmp_path):
    entry = dict(GOOD)
    del entry["verified_from"]
    with pytest.raises(ValueError):
        anchors.load(_write(tmp_path, entry))
    path = tmp_path / "twice.json"
    path.write_text(json.dumps({"sources": {"s": {"paper": "P"}}, "anchors": [GOOD, GOOD]}))
    with pytest.raises(ValueError):
        anchors.load(path)


def test_a_published_value_keeps_the_decimals_of_its_spread():
    from lib.report.lnas import anchor_rows

    rows = anchor_rows("CIFAR-10").set_index(["published", "metric"])["value"]
    assert rows[("DARTS (first order) + cutout", "test error")] == "3.00 ± 0.14 %"  # as Liu et al. print it, not 3
