"""The source line under tables and figures: parameters that differ from the defaults, and run summaries."""

from lib.report import footer
from lib.pipeline.results import Record


def _record(commit: str, dirty: bool, wall: float, checksum: str = "abcdef0123456789") -> Record:
    provenance = {"git": {"commit": commit, "lib_dirty": dirty}, "wall_time_s": wall,
                  "data": {"name": "cifar10", "kind": "jpeg", "checksum": checksum},
                  "hardware": {"device": "cpu", "torch_threads": 1}}
    return Record("toy", "k", {}, {}, provenance)


def test_parameters_show_the_profile_and_what_differs_from_the_defaults():
    namespace = {"profile": "smoke", "seeds": [0], "extra_seeds": [1, 2], "sparsities": None, "device": "auto",
                 "force": False, "processes": 0, "overrides": {}}
    assert footer.Source("lnas_table1", namespace).parameters() == "profile='smoke', extra_seeds=[1, 2]"


def test_runs_summary_merges_repeated_values_and_adds_wall_times():
    records = [_record("a" * 40, False, 60.0), _record("a" * 40, False, 120.0), _record("b" * 40, True, 30.0)]
    text = footer.runs_summary(records)
    assert text.startswith("3 run(s), commit aaaaaaaaaa, bbbbbbbbbb (lib edited);")
    assert text.count("sha256 abcdef012345") == 1 and text.endswith("3.5 min of runs")


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
