"""The scorecard: cell rules checked on hand-made cases, and claims judged from hand-made cached records."""

import json
import shutil

import pytest
import torch

from lib.pipeline import results
from lib.experiments import lnas
from lib.experiments.lamanas_sweep import Sweep
from lib.report.compare import REPORTED_DIR
from lib.pipeline.results import RunOutput
from lib.report.scorecard import build, verdict
from lib.report.scorecard.verdict import ACCURACY, HELD, NOT_HELD, NOT_TESTABLE, SIZE


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path))
    return tmp_path


def _store(config, metrics: dict) -> None:
    """Cache a record with hand-chosen metrics for ``config`` (the scorecard only reads records)."""
    run = lambda cfg, ckpt: RunOutput(metrics, {"name": "hand-made", "checksum": "0"}, torch.device("cpu"))
    results.cached(config, run)


def _lnas_metrics(final: float, mid: float = 30.0, macs: float = 1e6) -> dict:
    history = [{"val_acc": mid}, {"val_acc": final}]
    return {"val_acc_mid": mid, "val_acc_final": final, "val_acc_at_final": final,
            "test_acc_at_best_val": final, "macs": macs, "train_seconds": 1.0, "train_history": history}


def test_cell_at_paper_compares_absolute_values():
    assert verdict.cell(ACCURACY, 80.0, 79.0, 75.0, 70.0, False, "paper").status == HELD
    assert verdict.cell(ACCURACY, 80.0, 77.0, 75.0, 70.0, False, "paper").status == NOT_HELD
    assert verdict.cell(ACCURACY, 80.0, 77.0, 75.0, 70.0, False, "paper", spread=2.0).status == HELD  # 3 <= 2 * 2
    assert verdict.cell(SIZE, 100.0, 114.0, 200.0, 200.0, False, "paper").status == HELD
    assert verdict.cell(SIZE, 100.0, 116.0, 200.0, 200.0, False, "paper").status == NOT_HELD


def test_cell_at_a_reduced_profile_compares_against_the_baseline():
    # report: row below its baseline; ours below ours -> held; ours above -> not held
    assert verdict.cell(ACCURACY, 70.0, 40.0, 78.0, 45.0, False, "cpu").status == HELD
    assert verdict.cell(ACCURACY, 70.0, 46.0, 78.0, 45.0, False, "cpu").status == NOT_HELD
    assert verdict.cell(ACCURACY, 80.0, 45.0, 78.0, 45.0, False, "cpu").status == HELD  # >= is a winning ticket
    # size: report ratio 0.5; ours 0.55 (10% off) holds, 0.6 (20% off) does not
    assert verdict.cell(SIZE, 50.0, 5.5, 100.0, 10.0, False, "cpu").status == HELD
    assert verdict.cell(SIZE, 50.0, 6.0, 100.0, 10.0, False, "cpu").status == NOT_HELD
    assert verdict.cell(ACCURACY, 78.0, 45.0, 78.0, 45.0, True, "cpu").status == NOT_TESTABLE


def test_cell_without_a_number_is_not_testable():
    assert verdict.cell(ACCURACY, 70.0, None, 78.0, 45.0, False, "cpu").basis.startswith("no run")
    assert verdict.cell(ACCURACY, float("nan"), 40.0, 78.0, 45.0, False, "cpu").status == NOT_TESTABLE
    with pytest.raises(ValueError, match="status must be one of"):
        verdict.Verdict("maybe", "", "")
    with pytest.raises(ValueError, match="kind must be"):
        verdict.cell("speed", 1.0, 1.0, 1.0, 1.0, False, "cpu")


def test_every_claim_and_cell_of_both_reports_has_a_row(empty_cache):
    card = build.scorecard("smoke").table
    for report, cells in (("lnas", 17 * 3), ("lamanas", 9 * 3)):
        claims = json.loads((REPORTED_DIR / f"{report}_reported.json").read_text())["quantitative_claims"]
        rows = card[card["report"] == report.upper()]
        assert set(rows["id"]) >= {c["id"] for c in claims}
        assert len(rows) == len(claims) + cells
    assert set(card["status"]) == {NOT_TESTABLE}  # nothing cached: nothing can be judged
    counts = build.counts(card)
    assert counts.loc["both", "total"] == len(card)


def test_a_claim_without_a_rule_is_an_error(tmp_path, empty_cache):
    for name in ("lnas_reported.json", "lamanas_reported.json"):
        shutil.copy(REPORTED_DIR / name, tmp_path / name)
    data = json.loads((tmp_path / "lnas_reported.json").read_text())
    data["quantitative_claims"].append({"id": "L99", "where": "nowhere", "claim": "new"})
    (tmp_path / "lnas_reported.json").write_text(json.dumps(data))
    with pytest.raises(KeyError, match="L99"):
        build.lnas_rows("smoke", root=tmp_path)


def _lnas_claim(card, claim_id: str) -> dict:
    return card[(card["report"] == "LNAS") & (card["id"] == claim_id)].iloc[0].to_dict()


def test_lnas_claims_follow_the_cached_numbers(empty_cache):
    config = lambda **kw: lnas.LnasConfig.for_profile("smoke", **kw)
    _store(config(seed=0).baseline(), _lnas_metrics(final=50.0, macs=2e6))
    _store(config(variant="variant2", sparsity=0.95, seed=0), _lnas_metrics(final=51.0, macs=2e6))
    card = build.scorecard("smoke").table
    assert _lnas_claim(card, "L10")["status"] == HELD
    flops = card[card["claim"] == "Variant 2, p=0.95: FLOPs (M; ours: multiply-adds of the final model)"].iloc[0]
    assert flops["status"] == NOT_HELD  # report ratio 84.05/752.355 = 0.11; ours 1.0
    _store(config(variant="variant2", sparsity=0.95, seed=1), _lnas_metrics(final=40.0))  # no baseline for seed 1
    assert _lnas_claim(build.scorecard("smoke").table, "L10")["status"] == HELD  # compared on the shared seed only
    results.cached(config(variant="variant2", sparsity=0.95, seed=0),
                   lambda c, k: RunOutput(_lnas_metrics(final=49.0), {}, torch.device("cpu")), force=True)
    assert _lnas_claim(build.scorecard("smoke").table, "L10")["status"] == NOT_HELD


def _store_lamanas(row: str, seed: int, authors_code: bool, metrics: dict) -> None:
    _store(Sweep.for_profile("smoke").config(row, seed, authors_code), metrics)


def _lamanas_metrics(test: float, train: float) -> dict:
    return {"test_acc": test, "test_acc_task_steps": test, "train_acc": train, "train_acc_last_epoch": train,
            "mean_params": 1000.0, "test_query_ce": 1.0, "phi_change_total": 0.0,
            "meta_train_seconds": 1.0, "meta_test_seconds": 1.0}


def test_lamanas_claims_are_judged_on_both_behaviours(empty_cache):
    _store_lamanas("baseline", 0, False, _lamanas_metrics(50.0, 40.0))
    _store_lamanas("lstm-res-ip", 0, False, _lamanas_metrics(60.0, 45.0))
    _store_lamanas("lstm-res-ip", 0, True, _lamanas_metrics(30.0, 45.0))
    card = build.scorecard("smoke").table
    a11 = card[(card["report"] == "LAMANAS") & (card["id"] == "A11")].iloc[0]
    assert (a11["status"], a11["authors' code"]) == (HELD, NOT_HELD)


def test_count_figure_stacks_every_claim(empty_cache):
    from lib.report.scorecard import view

    counts = build.counts(build.scorecard("smoke").table)
    fig = view.plot_counts(counts)
    widths = sum(bar.get_width() for bar in fig.axes[0].patches)
    assert widths == counts.loc["both", "total"]


def test_authors_code_claims_compare_the_same_seeds(empty_cache):
    _store_lamanas("baseline", 0, False, _lamanas_metrics(50.0, 46.0))
    _store_lamanas("baseline", 1, False, _lamanas_metrics(50.0, 40.0))
    _store_lamanas("lstm-res-ip", 0, True, _lamanas_metrics(60.0, 45.0))
    a11 = build.scorecard("smoke").table.query("id == 'A11'").iloc[0]
    assert a11["authors' code"] == NOT_HELD  # 45 < seed 0's 46, though above the two-seed mean 43
