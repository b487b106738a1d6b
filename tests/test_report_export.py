"""lib.report.export: CSV tables and the per-profile record bundle, written into temporary directories."""

import json

import pandas as pd
import pytest

from lib.pipeline.atomic import write_json
from lib.report import export
from lib.report.stats import Interval, t_interval


def _table() -> pd.DataFrame:
    rows = [{"variant": "Baseline", "seeds": export.seeds_text([2, 0, 1]),
             **export.interval_columns("val_acc_final", t_interval([70.0, 72.0, 74.0]))},
            {"variant": "Variant 2", "seeds": export.seeds_text([0]),
             **export.interval_columns("val_acc_final", Interval(75.0, None, None, 1, "one seed: no interval"))}]
    return pd.DataFrame(rows)


def test_write_table_round_trips_and_returns_the_page_link(tmp_path):
    root, book = tmp_path / "book" / "_static" / "data", tmp_path / "book"
    link = export.write_table(_table(), "lnas_table1", "table1", root=root, page_dir=book)
    assert link == "_static/data/lnas_table1/table1.csv"
    back = pd.read_csv(book / link, dtype={"seeds": str})
    assert list(back["seeds"]) == ["0;1;2", "0"]
    assert back.loc[0, "val_acc_final"] == pytest.approx(72.0)
    assert back.loc[0, "val_acc_final_low"] < 72.0 < back.loc[0, "val_acc_final_high"]
    assert pd.isna(back.loc[1, "val_acc_final_low"]) and back.loc[1, "val_acc_final_n"] == 1
    assert not [p for p in (root / "lnas_table1").iterdir() if p.name.endswith(".tmp")]
    assert export.download_markdown(link) == "[Download this table as CSV](_static/data/lnas_table1/table1.csv)"


@pytest.mark.parametrize("drop", [["seeds"], ["val_acc_final_low", "val_acc_final_high"], ["val_acc_final_high"]])
def test_write_table_refuses_a_table_without_seeds_or_bounds(tmp_path, drop):
    with pytest.raises(ValueError):
        export.write_table(_table().drop(columns=drop), "nb", "t", root=tmp_path, page_dir=tmp_path)


def test_write_table_refuses_path_like_names(tmp_path):
    with pytest.raises(ValueError):
        export.write_table(_table(), "../escape", "t", root=tmp_path, page_dir=tmp_path)


def _record(root, experiment, key, profile, seed):
    write_json(root / experiment / f"{key}.json",
               {"experiment": experiment, "key": key, "config": {"profile": profile, "seed": seed},
                "metrics": {"acc": seed / 10}, "provenance": {"date": f"2025-01-0{seed + 1}"}})


def test_bundle_records_keeps_one_profile_in_a_stable_order(tmp_path):
    results = tmp_path / "results"
    _record(results, "lnas", "bb", "cpu", 1)
    _record(results, "lnas", "aa", "cpu", 0)
    _record(results, "lnas", "cc", "smoke", 2)
    _record(results, "darts_cifar10", "dd", "cpu", 3)
    path, link = export.bundle_records("cpu", source=results, root=tmp_path / "book" / "_static" / "data",
                                       page_dir=tmp_path / "book")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["experiment"], r["key"]) for r in lines] == [("darts_cifar10", "dd"), ("lnas", "aa"), ("lnas", "bb")]
    assert lines[1]["metrics"] == {"acc": 0.0} and link == "_static/data/records_cpu.jsonl"
    only = export.bundle_records("cpu", experiments=["lnas"], source=results, root=tmp_path, page_dir=tmp_path)[0]
    assert len(only.read_text().splitlines()) == 2


def test_the_records_page_joins_a_trust_mark_to_the_status_and_the_csv_keeps_both():
    table = pd.DataFrame({"key": ["a", "b"], "status": ["ok", "ok"], "mark": ["", "stale: computed with code X, now Y"]})
    shown = export.records_shown(table)
    assert shown["status"].tolist() == ["ok", "ok; stale: computed with code X, now Y"]
    assert "mark" not in shown and "mark" in table


def test_the_records_table_names_the_accelerator_a_run_was_made_on():
    from lib.pipeline.results import Record

    def record(key: str, hardware: dict) -> Record:
        provenance = {"git": {"commit": "abcdef0123"}, "hardware": hardware, "wall_time_s": 60.0, "date": "2026-11-26T00:00"}
        return Record("lnas", key, {"seed": 0}, {}, provenance)

    table = export.records_table([record("a", {"device": "cpu"}), record("b", {"device": "cuda", "accelerator": "NVIDIA H200"})])
    assert table["device"].tolist() == ["CPU", "NVIDIA H200"]


def test_a_device_repeat_is_listed_under_the_profile_and_seed_of_the_run_it_repeats():
    from lib.pipeline.results import Record

    provenance = {"git": {"commit": "abcdef0123"}, "hardware": {"device": "cpu"}, "wall_time_s": 60.0, "date": "2026-11-26"}
    repeat = Record("lamanas_device_repeat", "r", {"experiment": "lamanas_device_repeat",
                                                   "original": {"profile": "cpu", "seed": 2}}, {}, provenance)
    assert export.config_field(repeat.config, "profile") == "cpu" and export.config_field({"seed": 1}, "seed") == 1
    assert export.config_field({}, "seed") is None
    assert export.records_table([repeat])["seed"].tolist() == [2]
