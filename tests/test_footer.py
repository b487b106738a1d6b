"""The source line under tables and figures: parameters that differ from the defaults, and run summaries."""

import pandas as pd

from lib.report import footer
from lib.pipeline.results import Record


def _record(commit: str, dirty: bool, wall: float, checksum: str = "abcdef0123456789") -> Record:
    provenance = {"git": {"commit": commit, "lib_dirty": dirty}, "wall_time_s": wall,
                  "data": {"name": "cifar10", "kind": "jpeg", "checksum": checksum},
                  "hardware": {"device": "cpu", "torch_threads": 1}}
    return Record("toy", "k", {}, {}, provenance)


def _listed(commit: str, **provenance) -> Record:
    """A record with all that a provenance line reads, plus ``provenance``."""
    record = _record(commit, False, 60.0)
    record.provenance.update(hardware={"device": "cpu", "cpu_count": 2, "torch_threads": 1}, software={"torch": "2.x"},
                             date="2026-01-01", **provenance)
    return record


def test_parameters_show_the_profile_and_what_differs_from_the_defaults():
    namespace = {"profile": "smoke", "seeds": None, "extra_seeds": [1, 2], "sparsities": None, "device": "auto",
                 "force": False, "processes": 0, "overrides": {}}
    assert footer.Source("lnas_table1", namespace).parameters() == "profile='smoke', extra_seeds=[1, 2]"


def test_runs_summary_merges_repeated_values_and_adds_wall_times():
    records = [_record("a" * 40, False, 60.0), _record("a" * 40, False, 120.0), _record("b" * 40, True, 30.0)]
    text = footer.runs_summary(records)
    assert text.startswith("3 run(s), commit aaaaaaaaaa, bbbbbbbbbb (lib edited);")
    assert text.count("sha256 abcdef012345") == 1 and text.endswith("3.5 min of runs")


def test_runs_summary_counts_many_commits_instead_of_listing_them():
    records = [_record(f"{i:x}" * 40, i == 4, 60.0) for i in range(5)] + [_record("0" * 40, False, 60.0)]
    text = footer.runs_summary(records)
    assert text.startswith("6 run(s), 5 commits (1 with lib edited), each run's in the chapter's provenance;")
    assert "0000000000" not in text


def test_caption_outside_a_notebook_has_no_cell_link():
    caption = footer.Source("scorecard", {"profile": "cpu"}).caption([_record("c" * 40, False, 6.0)])
    assert footer.current_cell() is None
    assert caption.data.startswith("<small>Source: `notebooks/scorecard.ipynb` (profile='cpu'); 1 run(s)")


def test_provenance_lists_one_line_per_run_and_says_when_there_is_none():
    record = _record("d" * 40, True, 90.0)
    record.provenance.update(hardware={"device": "cpu", "cpu_count": 2, "torch_threads": 1}, software={"torch": "2.x"},
                             date="2026-01-01")
    text = footer.provenance_markdown([record, record])
    assert text.count("\n- run `k` (?, seed ?): commit `dddddddddd` (lib edited)") == 2 and "1.5 min" in text
    assert "No run record" in footer.provenance_markdown([])


def test_provenance_is_folded_under_a_summary():
    text = footer.provenance_markdown([_listed("e" * 40)])
    assert text.startswith("<details") and "<summary><b>Provenance</b>: 1 run record(s)" in text
    assert text.rstrip().endswith("</details>")


def test_a_vouch_is_a_short_mark_under_each_table_and_said_once_in_full_in_the_provenance():
    reason = "a docstring changed, no number of a run changes"
    code = {"fingerprint": "new", "computed_with": "old"}
    records = [_listed(c * 40, code={**code, "vouched": reason}) for c in "ab"]
    records.append(_listed("c" * 40, code={**code, "vouched": "a comment moved"}))
    caption = footer.runs_summary(records)
    assert caption.endswith(f"; **{footer.VOUCHED_BRIEF}** (3 run(s))") and "docstring" not in caption
    trust, runs = footer.provenance_markdown(records).split("<details")
    assert trust.count(reason) == 1 and f"- **code vouched equal to the current (old -> new): {reason}** (2 run(s))" in trust
    assert "- **code vouched equal to the current (old -> new): a comment moved** (1 run(s))" in trust
    assert runs.count(f"vouched: {reason}") == 2  # each run's own line still names the reason that covers it
    assert footer.provenance_markdown([_listed("d" * 40)]).startswith("<details")  # no marks, no trust list


def test_show_writes_a_table_from_runs_as_csv_and_links_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_STATIC_DIR", str(tmp_path))
    shown = []
    monkeypatch.setattr(footer, "display", lambda *objs, **kw: shown.extend(objs))
    source = footer.Source("scorecard", {"profile": "cpu"})
    source.show(pd.DataFrame({"setting": ["a"], "cpu": [1]}))  # a settings table: no runs, no CSV
    source.show(pd.DataFrame({"variant": ["Baseline"], "acc": [74.04]}), [_record("f" * 40, False, 6.0)])
    assert [p.name for p in tmp_path.rglob("*.csv")] == ["table-1.csv"]
    assert pd.read_csv(tmp_path / "scorecard" / "table-1.csv")["acc"].tolist() == [74.04]
    html = [o["text/html"] for o in shown if isinstance(o, dict)]
    assert len(html) == 2 and all('class="table-scroll"' in h for h in html)
    assert sum("Download this table as CSV" in getattr(o, "data", "") for o in shown) == 1


def test_an_empty_table_says_its_rows_are_pending_and_keeps_later_csv_names(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_STATIC_DIR", str(tmp_path))
    shown = []
    monkeypatch.setattr(footer, "display", lambda *objs, **kw: shown.extend(objs))
    source = footer.Source("scorecard", {"profile": "cpu"})
    record = _record("f" * 40, False, 6.0)
    source.show(pd.DataFrame({"variant": [], "acc": []}), [record])
    source.show(pd.DataFrame({"variant": ["Baseline"], "acc": [74.04]}), [record])
    assert not any(isinstance(o, dict) and "<td></td>" in o.get("text/html", "") for o in shown)
    assert sum(getattr(o, "data", "") == footer.EMPTY_TABLE for o in shown) == 1
    assert [p.name for p in tmp_path.rglob("*.csv")] == ["table-2.csv"]  # the second table keeps its name


def test_a_card_is_named_and_data_without_a_checksum_says_so():
    gpu = _record("e" * 40, False, 60.0, checksum=None)
    gpu.provenance["hardware"].update(device="cuda", accelerator="NVIDIA H200")
    text = footer.runs_summary([gpu, _record("e" * 40, False, 60.0)])
    assert "cifar10 [jpeg] no checksum" in text and "sha256 None" not in text
    assert "cuda (NVIDIA H200), 1 thread(s)" in text and "cpu, 1 thread(s)" in text
