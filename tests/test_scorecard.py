"""The scorecard: cell rules checked on hand-made cases, and claims judged from hand-made cached records."""

import json
import shutil

import pandas as pd
import pytest
import torch

from lib.pipeline import results
from lib.experiments import lnas
from lib.experiments.lamanas_rows import CONTROL
from lib.experiments.lamanas_sweep import Sweep
from lib.report.compare import REPORTED_DIR
from lib.pipeline.results import RunOutput
from lib.report.scorecard import build, scales, verdict
from lib.report.scorecard import lamanas as scorecard_lamanas
from lib.experiments import lnas_sweep
from lib.experiments.random_architecture import SAMPLES
from lib.report import rules
from lib.report.scorecard.verdict import ACCURACY, HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE, SIZE


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
            "test_acc_at_best_val": final, "test_acc_last": final, "macs": macs, "train_seconds": 1.0,
            "train_history": history}


S = lambda *values: dict(enumerate(values))  # per-seed values {seed: value}


def test_cell_at_paper_compares_our_interval_with_the_report():
    assert verdict.cell(ACCURACY, 80.0, 79.0, S(79.5, 80.5, 80.0), S(), False, "paper").status == HELD
    assert verdict.cell(ACCURACY, 80.0, 79.0, S(70.0, 71.0, 72.0), S(), False, "paper").status == NOT_HELD
    assert verdict.cell(ACCURACY, 80.0, 79.0, S(70.0, 90.0), S(), False, "paper").status == INCONCLUSIVE
    assert verdict.cell(SIZE, 100.0, 100.0, S(105.0, 106.0, 107.0), S(), False, "paper").status == HELD


def test_cell_at_a_reduced_profile_judges_the_paired_difference_on_the_reports_side():
    base = S(45.0, 47.0, 49.0)
    assert verdict.cell(ACCURACY, 70.0, 78.0, S(40.0, 42.5, 44.0), base, False, "cpu").status == HELD  # below, as reported
    assert verdict.cell(ACCURACY, 70.0, 78.0, S(50.0, 52.5, 54.0), base, False, "cpu").status == NOT_HELD
    assert verdict.cell(ACCURACY, 80.0, 78.0, S(44.0, 49.0, 48.0), base, False, "cpu").status == INCONCLUSIVE
    assert verdict.cell(ACCURACY, 80.0, 78.0, S(60.0), base, False, "cpu").status == INCONCLUSIVE  # one seed: no interval
    # size: report ratio 0.5; ours 0.55 per seed holds, 0.7 does not
    assert verdict.cell(SIZE, 50.0, 100.0, S(5.5, 5.5), S(10.0, 10.0), False, "cpu").status == HELD
    assert verdict.cell(SIZE, 50.0, 100.0, S(7.0, 7.1), S(10.0, 10.0), False, "cpu").status == NOT_HELD
    assert verdict.cell(ACCURACY, 78.0, 78.0, base, base, True, "cpu").status == NOT_TESTABLE


def test_cell_without_a_number_is_not_testable():
    assert verdict.cell(ACCURACY, 70.0, 78.0, {}, S(45.0), False, "cpu").basis.startswith("not yet run")
    assert verdict.cell(ACCURACY, float("nan"), 78.0, S(40.0), S(45.0), False, "cpu").status == NOT_TESTABLE
    with pytest.raises(ValueError, match="status must be one of"):
        verdict.Verdict("maybe", "", "")
    with pytest.raises(ValueError, match="kind must be"):
        verdict.cell("speed", 1.0, 1.0, S(1.0), S(1.0), False, "cpu")


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
    for seed, (base, v2) in enumerate([(50.0, 51.0), (52.0, 53.5), (54.0, 55.0)]):
        _store(config(seed=seed).baseline(), _lnas_metrics(final=base, macs=2e6))
        _store(config(variant="variant2", sparsity=0.95, seed=seed), _lnas_metrics(final=v2, macs=2e6))
    card = build.scorecard("smoke").table
    assert _lnas_claim(card, "L10")["status"] == HELD  # +1, +1.5, +1 over three paired seeds
    flops = card[card["claim"] == "Variant 2, p=0.95: FLOPs (M; ours: multiply-adds of the final model)"].iloc[0]
    assert flops["status"] == NOT_TESTABLE and "not behave like a measurement" in flops["basis"]
    v1_mid = card[card["claim"] == "Variant 1, p=0.5: best val. accuracy up to the middle epoch (%)"].iloc[0]
    assert v1_mid["status"] == NOT_TESTABLE and "fixed by construction" in v1_mid["basis"]
    results.cached(config(variant="variant2", sparsity=0.95, seed=1),
                   lambda c, k: RunOutput(_lnas_metrics(final=40.0), {}, torch.device("cpu")), force=True)
    assert _lnas_claim(build.scorecard("smoke").table, "L10")["status"] == INCONCLUSIVE  # +1, -12, +1


def test_searched_vs_random_is_a_paired_control(empty_cache):
    sweep = lnas_sweep.Sweep.for_profile("smoke", ["baseline", "random"], seeds=[0, 1])
    assert len(sweep.pending()) == 2 * (1 + len(SAMPLES))
    assert build.controls(build.scorecard("smoke")).loc[0, "ours"] == "pending"
    assert "Searched minus random at this profile: pending" in build.findings(build.scorecard("smoke"))[1]
    for seed in (0, 1):
        _store(sweep.config("baseline", seed=seed), _lnas_metrics(final=60.0 + seed))
        for k in SAMPLES:
            _store(sweep.config("random", seed=seed, sample=k), _lnas_metrics(final=50.0 + seed + k))
    assert sweep.pending() == []
    card = build.scorecard("smoke")
    assert build.controls(card).loc[0, "status"] == HELD  # searched - random = +9 at both seeds
    assert f"**{HELD}**" in build.findings(card)[1] and build.controls(card).loc[0, "ours"] in build.findings(card)[1]


def _store_lamanas(row: str, seed: int, authors_code: bool, metrics: dict) -> None:
    _store(Sweep.for_profile("smoke").config(row, seed, authors_code), metrics)


def _lamanas_metrics(test: float, train: float) -> dict:
    return {"test_acc": test, "test_acc_task_steps": test, "train_acc": train, "train_acc_last_epoch": train,
            "mean_params": 1000.0, "test_query_ce": 1.0, "phi_change_total": 0.0,
            "meta_train_seconds": 1.0, "meta_test_seconds": 1.0}


def _made_on_a_gpu(config) -> None:
    """Rewrite the cached record of ``config`` as made on an NVIDIA H200 (re-sealed, so it stays trusted)."""
    path = results.record_path(config)
    data = json.loads(path.read_text())
    data["provenance"]["hardware"] = {"device": "cuda", "accelerator": "NVIDIA H200"}
    data["checksum"] = results.content_checksum(data)
    path.write_text(json.dumps(data))


def test_lamanas_comparisons_across_devices_are_widened_by_the_device_repeats(empty_cache):
    from lib.experiments import lamanas_sweep
    from lib.report import lamanas as report

    baseline, fnn = (50.0, 52.0, 51.0), (56.0, 57.0, 58.0)  # Δ 6, 5, 7: above the baseline, the report puts it below
    for seed in range(3):
        _store_lamanas("baseline", seed, False, _lamanas_metrics(baseline[seed], 40.0))
        _made_on_a_gpu(Sweep.for_profile("smoke").config("baseline", seed))
        _store_lamanas("fnn-res-ip", seed, False, _lamanas_metrics(fnn[seed], 40.0))
    cell = lambda: next(c for c in scorecard_lamanas.table_rows(scorecard_lamanas.evidence("smoke"))
                        if c["claim"] == "FNN, residual, Inner product: meta-test accuracy (%)")
    assert report.device_offset("smoke") is None and cell()["status"] == NOT_HELD  # 6 +- 2.48: not measured yet
    assert "different devices" in cell()["basis"] and cell()["widened (pp)"] == 0.0
    for seed, repeated in zip((0, 1), (47.0, 47.0)):  # the original minus its repeat on the CPU: 3 and 5
        _store(lamanas_sweep.repeat_configs("smoke", [seed])[0], _lamanas_metrics(repeated, 40.0))
    repeats = report.device_repeats(Sweep.for_profile("smoke", ("baseline",), (0, 1, 2)).stored(),
                                    [results.stored(c) for c in lamanas_sweep.repeat_configs("smoke", [0, 1])])
    assert repeats["original - repeat (pp)"].tolist() == [3.0, 5.0]
    assert set(repeats["original made on"]) == {"NVIDIA H200"} and set(repeats["repeat made on"]) == {"CPU"}
    bound = 4 + 12.706205  # mean 4 +- t(0.975, 1) x sqrt(2) / sqrt(2)
    assert report.device_offset("smoke") == pytest.approx(bound)
    # every seed's pair crosses devices: the difference is widened by the whole bound and no longer excludes 0
    assert cell()["status"] == INCONCLUSIVE and cell()["widened (pp)"] == pytest.approx(bound)
    assert f"widened by ±{bound:.2f} pp" in cell()["basis"]
    shown, _ = report.table1(Sweep.for_profile("smoke", ("baseline", "fnn-res-ip"), (0, 1, 2), authors_code=False).stored(),
                             offset=bound)
    row = shown.set_index("row").loc["FNN, residual, Inner product"]
    assert row["status"] == INCONCLUSIVE and row["Δ widened for devices"].startswith("6.00 [")
    data = report.table1(Sweep.for_profile("smoke", ("baseline", "fnn-res-ip"), (0, 1, 2), authors_code=False).stored(),
                         offset=bound)[1].set_index(["loss_network", "residual", "loss_proxy"])
    assert data.loc[("FNN", "Yes", "Inner product"), "widened (pp)"] == pytest.approx(bound)
    assert data.loc[("Baseline", "No", "N/A"), "widened (pp)"] == 0.0
    # a prose claim: the LSTM residual rows (made on the CPU) above the baseline (on the GPU): +27 to +29 at every seed
    for name in ("lstm-res-mse", "lstm-res-ip"):
        for seed in range(3):
            _store_lamanas(name, seed, False, _lamanas_metrics((78.0, 79.0, 80.0)[seed], 58.0))
    ev = scorecard_lamanas.evidence("smoke")
    assert ev.offset == pytest.approx(bound)  # the claims are judged on the bound the evidence carries
    a10 = scorecard_lamanas.CLAIMS["A10"](ev.ours, "smoke", ev.offset)
    assert a10.status == HELD and a10.widened == pytest.approx(bound)  # 28 - 2.48 - 16.71 still above 0
    assert f"widened by up to ±{bound:.2f} pp" in a10.basis and "test_acc: 28.00 [" in a10.ours  # as measured


def test_meta_training_vs_no_meta_training_is_a_paired_control(empty_cache, monkeypatch):
    three = lambda profile: Sweep.for_profile(profile, ("baseline", CONTROL), (0, 1, 2), authors_code=False, processes=1)
    monkeypatch.setattr(scorecard_lamanas, "control_sweep", three)  # smoke's control sweep has seed 0 only
    meta = lambda card: build.controls(card).set_index("control").filter(like="MetaNAS", axis=0).iloc[0]
    assert meta(build.scorecard("smoke"))["ours"] == "pending"
    for seed, (trained, control) in enumerate([(30.0, 20.0), (50.0, 41.0), (40.0, 29.0)]):
        _store_lamanas("baseline", seed, False, _lamanas_metrics(trained, trained))
        _store_lamanas(CONTROL, seed, False, _lamanas_metrics(control, control))
    card = build.scorecard("smoke")
    assert meta(card)["status"] == HELD  # +10, +9, +11 at paired seeds: mean 10
    assert meta(card)["ours"].startswith("10.00 [")
    assert "Meta-trained baseline minus the same adaptation without meta-training: 10.00" in build.findings(card)[1]
    assert build.counts(card.table).loc["both", "total"] == len(card.table)  # the control is not a claim
    assert "second look" not in meta(card)["basis"]  # every seed was in the first look
    results.cached(Sweep.for_profile("smoke").config(CONTROL, 1), lambda c, k: RunOutput(
        _lamanas_metrics(70.0, 70.0), {}, torch.device("cpu")), force=True)
    assert meta(build.scorecard("smoke"))["status"] == INCONCLUSIVE  # +10, -20, +11


def test_a_control_decided_at_a_second_look_says_so(empty_cache, monkeypatch):
    from scipy import stats as scipy_stats

    five = lambda profile: Sweep.for_profile(profile, ("baseline", CONTROL), range(5), authors_code=False, processes=1)
    monkeypatch.setattr(scorecard_lamanas, "control_sweep", five)
    for seed, gain in enumerate([10.0, 2.0, 4.0, 8.0, 9.0]):  # seeds 0-2: t-interval contains 0; all five: above 0
        _store_lamanas("baseline", seed, False, _lamanas_metrics(40.0 + gain, 40.0))
        _store_lamanas(CONTROL, seed, False, _lamanas_metrics(40.0, 40.0))
    card = build.scorecard("smoke")
    row = build.controls(card).set_index("control").filter(like="MetaNAS", axis=0).iloc[0]
    low, high = scipy_stats.t.interval(0.975, 2, loc=16 / 3, scale=scipy_stats.sem([10.0, 2.0, 4.0]))  # two looks
    first = f"at seeds 0-2 (Table 1's) the difference was 5.33 [{low:.2f}, {high:.2f}] (n=3) pp, inconclusive"
    assert row["status"] == HELD and first in row["basis"] and "seeds 3 and 4 were added after it" in row["basis"]
    assert first in build.findings(card)[1] and "(Bonferroni)" in build.findings(card)[1]


def test_lamanas_claims_are_judged_on_both_behaviours(empty_cache):
    for seed in (0, 1):
        _store_lamanas("baseline", seed, False, _lamanas_metrics(50.0 + seed, 40.0))
        _store_lamanas("lstm-res-ip", seed, False, _lamanas_metrics(60.0 + 2 * seed, 45.0 + 0.2 * seed))
        _store_lamanas("lstm-res-ip", seed, True, _lamanas_metrics(30.0 + seed, 45.0 + seed))
    card = build.scorecard("smoke").table
    a11 = card[(card["report"] == "LAMANAS") & (card["id"] == "A11")].iloc[0]
    assert (a11["status"], a11["authors' code"]) == (HELD, NOT_HELD)


def test_a_result_claim_whose_authors_code_runs_are_pending_says_so(empty_cache):
    from lib.report.scorecard import view

    for seed in (0, 1):  # ours cached, the authors'-code twins not: their column is pending, not untestable
        _store_lamanas("baseline", seed, False, _lamanas_metrics(50.0 + seed, 40.0))
        _store_lamanas("lstm-res-ip", seed, False, _lamanas_metrics(60.0 + 2 * seed, 45.0 + 0.2 * seed))
    card = build.scorecard("smoke").table
    a11 = card[(card["report"] == "LAMANAS") & (card["id"] == "A11")].iloc[0]
    assert a11["status"] == HELD and a11["authors' code"] == "not testable: pending runs"
    a1 = card[(card["report"] == "LAMANAS") & (card["id"] == "A1")].iloc[0]
    assert a1["authors' code"] == ""  # not a result claim: not judged on the authors' code at all
    missing = verdict.missing("smoke")  # the main columns: "not testable", our value "pending", basis "not yet run"
    assert (missing.status, missing.ours) == (NOT_TESTABLE, "pending")
    assert verdict.shown_status(missing) == "not testable: pending runs"
    assert verdict.shown_status(verdict.Verdict(NOT_TESTABLE, "", "describes the setup")) == NOT_TESTABLE
    html = view.styled(pd.DataFrame({"authors' code": ["not testable: pending runs"]})).to_html()
    assert view.COLOURS[NOT_TESTABLE] in html  # grey, as "not testable" is


def test_count_figure_stacks_every_claim(empty_cache):
    from lib.report.scorecard import view

    counts = build.counts(build.scorecard("smoke").table)
    fig = view.plot_counts(counts)
    widths = sum(bar.get_width() for bar in fig.axes[0].patches)
    assert widths == counts.loc["both", "total"]


def test_a_claim_comparing_a_row_with_its_own_authors_code_view_is_fixed_by_construction(empty_cache):
    for seed, (mse, ip) in enumerate([(40.0, 50.0), (41.0, 52.0)]):
        _store_lamanas("fnn-res-mse", seed, False, _lamanas_metrics(mse, 40.0))
        _store_lamanas("fnn-res-ip", seed, False, _lamanas_metrics(ip, 40.0))
        _store_lamanas("fnn-res-mse", seed, True, _lamanas_metrics(30.0 + seed, 40.0))  # serves both proxies
    card = build.scorecard("smoke").table
    a9 = card[(card["report"] == "LAMANAS") & (card["id"] == "A9")].iloc[0]
    assert a9["status"] == HELD  # ours: +10, +11
    assert a9["authors' code"] == NOT_TESTABLE  # the inner-product row is the MSE run: not a difference of 0


def test_authors_code_claims_compare_the_same_seeds(empty_cache):
    _store_lamanas("baseline", 0, False, _lamanas_metrics(50.0, 46.0))
    _store_lamanas("baseline", 1, False, _lamanas_metrics(50.0, 40.0))
    _store_lamanas("lstm-res-ip", 0, True, _lamanas_metrics(60.0, 45.0))
    a11 = build.scorecard("smoke").table.query("id == 'A11'").iloc[0]
    assert a11["authors' code"] == INCONCLUSIVE  # one shared seed (0): a difference without an interval


def test_the_page_opens_with_the_scope_and_the_rules(empty_cache):
    card = build.scorecard("smoke")
    assert "no run" in build.scope(card) and build.rules_text().count("- **") == len(rules.RULES)
    for seed, ratio in enumerate([1.02, 1.9]):  # one baseline's alphas stayed near uniform, one left
        _store_lamanas("baseline", seed, False, {**_lamanas_metrics(50.0, 40.0), "alpha_top_op_ratio": ratio})
    assert "and 1 of our 2 LAMANAS runs rest on a search that ended near uniform" in build.scope(build.scorecard("smoke"))


def _card(profile: str, rows: list[tuple]) -> pd.DataFrame:
    """A hand-built scorecard table of ``profile``: rows of (id, status, basis[, margin widened for devices]),
    columns ``build.COLUMNS``."""
    return pd.DataFrame([{"report": "LNAS", "id": i, "where": "Table 1", "claim": f"claim {i}", "reported": 1.0,
                          "ours": "pending" if basis.startswith("not yet run") else "50.0 [49.0, 51.0] (n=3)",
                          "status": status, "basis": basis, "widened (pp)": widened[0] if widened else 0.0,
                          "authors' code": "", "profile": profile}
                         for i, status, basis, *widened in rows], columns=build.COLUMNS)


def test_two_scales_mark_a_flip_no_flip_and_a_pending_side():
    from lib.report import devices

    cpu = _card("cpu", [("T1.1", HELD, "rule"), ("T1.2", INCONCLUSIVE, "rule"), ("T1.3", HELD, "rule"),
                        ("L1", NOT_TESTABLE, "describes the setup"), ("T1.4", INCONCLUSIVE, "rule"),
                        ("T1.5", INCONCLUSIVE, f"rule; {devices.widening_note(8.05)}", 8.05)])
    small = _card("small", [("T1.1", NOT_HELD, "rule"), ("T1.2", INCONCLUSIVE, "rule"), ("T1.4", HELD, "rule"),
                            ("T1.5", HELD, "rule"),
                            ("T1.3", NOT_TESTABLE, "not yet run: no record of this row is cached at the small profile"),
                            ("L1", NOT_TESTABLE, "describes the setup")])
    table = scales.side_by_side(cpu, small).set_index("id")
    assert list(table.columns[:7]) == ["report", "where", "claim", "status at cpu", "ours at cpu", "status at small",
                                       "ours at small"]
    assert table.loc["T1.1", "with scale"] == scales.FLIPS
    assert table.loc["T1.2", "with scale"] == scales.SAME
    assert table.loc["T1.4", "with scale"] == scales.ONE_SCALE  # more evidence at one scale, not a reversal
    assert table.loc["T1.5", "with scale"] == scales.ONE_SCALE + " (widened for devices at cpu)"
    assert table.loc["T1.5", "ours at cpu"].endswith(" (judged on the interval widened by ±8.05 pp for devices)")
    assert "widened" not in table.loc["T1.5", "ours at small"] and "widened" not in table.loc["T1.1", "ours at cpu"]
    assert table.loc["T1.3", "with scale"] == "not compared: pending at small"
    assert table.loc["L1", "with scale"] == "not compared: not testable at cpu, not testable at small"
    assert list(scales.flips(table.reset_index())["id"]) == ["T1.1"]
    assert list(scales.judged(table.reset_index())["id"]) == ["T1.1", "T1.2", "T1.3", "T1.4", "T1.5"]
    text = scales.summary(table.reset_index(), "cpu")
    assert "1 of the 4 claims judged at both profiles flips" in text and "2 are settled at one scale only" in text
    moves = scales.transitions(table.reset_index(), "cpu", "small").set_index("at small \\ at cpu")
    assert moves.loc[NOT_HELD, HELD] == 1 and moves.loc[INCONCLUSIVE, INCONCLUSIVE] == 1
    assert int(moves[list(verdict.STATUSES)].to_numpy().sum()) == 6


def test_two_scales_same_report_ids_are_kept_apart_and_a_missing_claim_is_pending():
    cpu = _card("cpu", [("T1.1", HELD, "rule")])
    small = _card("small", [("T1.1", HELD, "rule"), ("T1.9", HELD, "rule")]).assign(report=["LAMANAS", "LNAS"])
    table = scales.side_by_side(cpu, small)
    assert len(table) == 3  # LNAS T1.1, LAMANAS T1.1 and LNAS T1.9 (only at small)
    only_small = table[table["id"] == "T1.9"].iloc[0]
    assert only_small["ours at cpu"] == "pending" and only_small["with scale"] == "not compared: pending at cpu"
    with pytest.raises(ValueError, match="two profiles"):
        scales.side_by_side(cpu, cpu)


def test_only_cpu_and_paper_have_a_second_scale():
    assert scales.smaller("cpu") == "small" and scales.smaller("paper") == "cpu"
    assert scales.smaller("smoke") is None and scales.smaller("small") is None
    assert "no second scale" in scales.summary(None, "smoke")


def test_the_phi_finding_concludes_only_when_every_number_is_below_the_bar(empty_cache, monkeypatch):
    _store_lamanas("baseline", 0, False, _lamanas_metrics(30.0, 30.0))
    monkeypatch.setattr(build.targets, "phi_relative_movement", lambda records: [0.002])
    phi = lambda card: next(f for f in build.findings(card) if "phi is never meta-updated" in f)
    at = build.targets.PaperScale
    monkeypatch.setattr(build.targets, "phi_at_paper_scale", lambda curves: [at(8, 0.004, 0.002)])
    assert "0.40% by tasks, 0.20% by meta-updates at C=8" in phi(build.scorecard("smoke"))
    assert "stays, in effect" in phi(build.scorecard("smoke"))
    monkeypatch.setattr(build.targets, "phi_at_paper_scale", lambda curves: [at(8, 0.004, 0.002), at(28, 0.001, 0.03)])
    assert "3.00% by meta-updates at C=28" in phi(build.scorecard("smoke")) and "stays" not in phi(build.scorecard("smoke"))
    monkeypatch.setattr(build.targets, "phi_at_paper_scale", lambda curves: [])
    assert phi(build.scorecard("smoke")).endswith("at most 0.20% here.")


def test_the_training_budget_finding_reads_both_measured_curves(empty_cache, monkeypatch):
    point = lambda curve, x, y, training, top=1.004: {"curve": curve, "x": x, "y": y, "status": "done",
                                                      "training": training, "top_over_uniform": top}
    monkeypatch.setattr(build.scaling, "points", lambda profile: [
        point("lnas_training", 360000, 78.04, "45000 x 8"), point("lnas_training", 15360, 48.36, "2560 x 6"),
        point("lnas_search", 50, 64.7, "10000 x 8", 1.0058), point("lnas_search", 1248, 63.92, "10000 x 8", 1.2003),
        {**point("lnas_search", 2340, None, "10000 x 8"), "status": "pending"}])
    text = build.findings(build.scorecard("smoke"))[2]
    assert "reaches 78.9% (validation" in text  # the report's baseline, from data/reported
    assert "2,560 x 6 (images x epochs)" in text and "reaches 48.4% test accuracy; on 45,000 x 8, 78.0%" in text
    assert ("Searching 50 to 1,248 alpha steps, retrained on 10,000 x 8, gives 63.9-64.7%, while the searched top op "
            "went from 1.006x to 1.200x the uniform weight") in text
    monkeypatch.setattr(build.scaling, "points", lambda profile: [
        point("lnas_training", 15360, 48.36, "2560 x 6"), point("lnas_search", 50, 64.7, "10000 x 8", 1.0058),
        point("lnas_search", 1248, 63.92, "10000 x 8", None)])  # a record without the diagnostic
    assert build.findings(build.scorecard("smoke"))[2].endswith("gives 63.9-64.7% (one seed per point; scaling chapter).")


def test_a_parameter_count_the_report_prints_in_two_rows_is_not_a_target():
    from lib.report.scorecard import lamanas as card

    theirs = pd.DataFrame({"loss_network": ["Baseline", "FNN", "LSTM", "LSTM"],
                           "mean_params": [413215.0, 398533.0, 398533.0, 435067.0]})
    fixed = card.duplicated_sizes(theirs)
    size, accuracy = card.COLUMNS[2], card.COLUMNS[0]
    reasons = [fixed(row, size) for _, row in theirs.iterrows()]
    assert reasons[0] is None and reasons[3] is None  # printed once: judged as usual
    assert "398,533" in reasons[1] and "#9" in reasons[2]
    assert fixed(theirs.iloc[1], accuracy) is None  # only the size column


def _step_cost(sparsity: float, skipped: float, computed: float):
    from lib.pipeline.results import Record

    mode = lambda seconds: {"seconds_per_step": seconds, "peak_rss_mb": 200.0, "rss_before_steps_mb": 100.0}
    return Record("lnas_search_cost", f"k{sparsity}", {"sparsity": sparsity},
                  {**mode(skipped), "path_sparsity": sparsity, "active_paths": 10, "compute": mode(computed)}, {})


@pytest.mark.parametrize("first, second, status", [(0.5, 0.4, "did not hold"), (2.6, 2.7, "held"),
                                                   (2.6, 0.5, "inconclusive")])
def test_the_search_time_claim_is_judged_within_each_record_against_the_reports_ratio(first, second, status):
    from lib.report import lnas as report
    from lib.report.scorecard import lnas as card

    # sparsity 0: skipping leaves out only the 'none' op, 0.8x the computed step; the computed steps of the two
    # pruned records were timed 1.3x and 0.9x the unpruned record's: noise between records, which must not enter.
    # A pruned step truly costs `first` x the unpruned one at the first sparsity, `second` x at the second.
    records = [_step_cost(0.0, 0.8, 1.0), _step_cost(0.5, first * 0.8 * 1.3, 1.3), _step_cost(0.9, second * 0.8 * 0.9, 0.9)]
    costs = report.step_costs(records)
    assert costs[report.PRUNED_OVER_UNPRUNED].tolist() == pytest.approx([1.0, first, second])  # the table's column
    verdict = card.search_step_cost(card.LnasEvidence("cpu", [], costs, records))
    # held: the median at or above 2.6 / 1.15 = 2.26; did not hold: every sparsity below it; else inconclusive
    assert card.reported_slowdown() == pytest.approx(5.2 / 2.0)  # "around 2 hours ... vs about 5.2 hours" (L11)
    assert verdict.status == status
    assert f"{min(first, second):.2f}-{max(first, second):.2f}x an unpruned one" in verdict.ours
    assert "differ by 0.90-1.30x" in verdict.ours


def test_the_search_time_finding_says_why_when_the_claim_cannot_be_judged(empty_cache, monkeypatch):
    from lib.report import lnas as report

    old = [_step_cost(0.0, 0.8, float("nan")), _step_cost(0.5, 0.4, float("nan"))]  # no masked-but-computed timing
    evidence = build.lnas.evidence
    monkeypatch.setattr(build.lnas, "evidence", lambda profile: evidence(profile).__class__(
        profile, [], report.step_costs(old), old))
    finding = next(f for f in build.findings(build.scorecard("smoke")) if "(L11)" in f)
    assert "Here ." not in finding and "no masked-but-computed timing" in finding


def test_lamanas_cells_whose_alphas_end_near_uniform_are_marked_as_lnas_cells_are():
    from lib.report.scorecard import lamanas as card

    rows = pd.DataFrame({"loss_network": ["Baseline", "Baseline", "FNN"], "residual": ["No", "No", "Yes"],
                         "loss_proxy": ["N/A", "N/A", "MSE"], "alpha_top_op_ratio": [1.1, 1.3, 1.9]})
    label = card.near_uniform_label(rows)
    assert label(pd.Series({"loss_network": "Baseline", "residual": "No", "loss_proxy": "N/A"})) == "search near uniform"
    assert label(pd.Series({"loss_network": "FNN", "residual": "Yes", "loss_proxy": "MSE"})) == ""  # left uniform
    assert label(pd.Series({"loss_network": "LSTM", "residual": "Yes", "loss_proxy": "MSE"})) == ""  # no run: no mark


def test_the_controls_finding_adds_what_meta_training_gained_along_the_baselines_curves(empty_cache, monkeypatch):
    point = lambda series, x, accuracies: {"curve": "lamanas", "series": series, "x": x, "status": "done",
                                           "accuracies": accuracies}
    monkeypatch.setattr(build.scaling, "points", lambda profile: [
        point("baseline, C=28", 0, [40.0, 50.0, 60.0]), point("baseline, C=28", 128, [50.0, 70.0, 90.0]),
        point("lstm-res-ip, C=28", 0, [40.0, 50.0]), point("lstm-res-ip, C=28", 128, [40.0, 50.0])])
    text = build.findings(build.scorecard("smoke"))[1]
    assert "along its learning curves by 20.0 [" in text
    assert "] pp (n=3) at C=28 (0 to 128 tasks; the interval contains 0)" in text  # [-4.8, 44.8]
    monkeypatch.setattr(build.scaling, "points", lambda profile: [
        point("baseline, C=8", 0, [40.0, 50.0, 60.0]), point("baseline, C=8", 128, [59.0, 70.0, 81.0])])
    assert "20.0 [17.5, 22.5] pp (n=3) at C=8 (0 to 128 tasks)," in build.findings(build.scorecard("smoke"))[1]
    assert "lstm" not in text  # the baseline's curves only: the control question is about the baseline
    monkeypatch.setattr(build.scaling, "points", lambda profile: [])
    assert "learning curves" not in build.findings(build.scorecard("smoke"))[1]


def test_the_scope_says_whether_tasks_or_seeds_make_the_lamanas_spread(empty_cache):
    for seed, (test, tasks) in enumerate([(10.0, [8.0, 12.0]), (50.0, [40.0, 60.0])]):
        _store_lamanas("baseline", seed, False, {**_lamanas_metrics(test, test), "test_accuracies": tasks})
    text = build.scope(build.scorecard("smoke"))
    # task half-widths 1.96 * sd / sqrt(2): sd 2.83 -> 3.92, sd 14.14 -> 19.6; median 11.8; seeds differ by 40.
    # Chance is 20% (5 ways): 10 +- 3.92 lies below it, 50 +- 19.6 above, so the median above chance is 19.6
    assert "±11.8 pp at the median of all 2 runs, ±19.6 over the 1 run above chance, at most ±19.6" in text
    assert "differ by up to 40.0 pp" in text
    _store_lamanas("fnn-res-mse", 0, True, {**_lamanas_metrics(30.0, 30.0), "test_accuracies": [29.0, 31.0]})
    text = build.scope(build.scorecard("smoke"))  # one authors'-code run, shown for both proxies: counted once
    assert "at the median of all 3 runs" in text


def _ticket_curve(sparsity: float, seed: int, regains: bool, after: float = 60.0):
    """A Variant-1 run pruned after epoch 2 of 4: the dense epochs peak at 70, the ticket at 72 or ``after``."""
    from lib.pipeline.results import Record

    curve = (60.0, 70.0, 50.0, 72.0 if regains else after)
    metrics = {**_lnas_metrics(final=max(curve[2:]), mid=70.0), "train_history": [{"val_acc": a} for a in curve],
               "weight_pruning_log": [{"epoch": 2}]}
    return Record("lnas", f"v1-{sparsity}-{seed}", {"variant": "variant1", "sparsity": sparsity, "seed": seed}, metrics, {})


def test_the_variant_1_drop_off_claim_needs_a_drop_and_curves_that_never_regain_at_both_sparsities():
    from lib.experiments.lnas import SPARSITIES
    from lib.report.scorecard import lnas as card

    judge = lambda runs: card._l12(card.LnasEvidence("cpu", runs, None, []))
    # the other six sparsities end at 80 (above their pre-pruning best of 70), at seeds 0 and 1
    others = [_ticket_curve(p, s, regains=False, after=80.0) for p in SPARSITIES if p not in card.L12_SPARSITIES
              for s in (0, 1)]
    dropped = lambda p, regains=(False, False): [_ticket_curve(p, s, r) for s, r in zip((0, 1), regains)]
    assert judge(others + dropped(0.875)).status == NOT_TESTABLE and "Variant 1 at p=0.95" in judge(others + dropped(0.875)).basis
    held = judge(others + dropped(0.875) + dropped(0.95))  # 60 against 80 at both seeds: -20 [-20, -20]
    assert held.status == HELD and "-20.00 [-20.00, -20.00] (n=2)" in held.ours
    assert "4 of 4 curves never regain their pre-pruning best (0 of 12 at the other sparsities)" in held.ours
    assert judge(others + dropped(0.875) + dropped(0.95, (True, False))).status == INCONCLUSIVE  # one curve regains
    assert judge(others + dropped(0.875, (True, True)) + dropped(0.95, (True, True))).status == NOT_HELD
    no_drop = [_ticket_curve(p, s, regains=False, after=55.0) for p in SPARSITIES if p not in card.L12_SPARSITIES
               for s in (0, 1)]  # never regaining, but the others end lower still: no drop-off
    assert judge(no_drop + dropped(0.875) + dropped(0.95)).status == NOT_HELD


def _row(variant: str, sparsity: float, seed: int, final: float, accelerator: str | None = None):
    from lib.pipeline.results import Record

    config = {"variant": variant, "sparsity": sparsity, "seed": seed}
    hardware = {"device": "cuda", "accelerator": accelerator} if accelerator else {"device": "cpu"}
    return Record("lnas", f"{variant}-{sparsity}-{seed}", config, _lnas_metrics(final=final), {"hardware": hardware})


def test_claims_over_every_sparsity_wait_until_each_has_a_run():
    from lib.experiments.lnas import SPARSITIES
    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    judge = lambda claim, runs: claim(card.LnasEvidence("cpu", runs, None, []))
    # L8: Variant 1's middle sparsities at 78, the outer ones at 70 + seed: +8, +7, +6 over three paired seeds
    v1 = [_row("variant1", p, s, 78.0 if p in card.MID_SPARSITIES else 70.0 + s) for p in SPARSITIES for s in (0, 1, 2)]
    assert judge(card._l8, v1[3:]).status == NOT_TESTABLE and "Variant 1 at p=0.125 is cached" in judge(card._l8, v1[3:]).basis
    assert judge(card._l8, v1).status == HELD
    lower_dips = [_row("variant1", p, s, 60.0 if p in card.LOWER_SPARSITIES else 78.0 if p in card.MID_SPARSITIES
                       else 70.0 + s) for p in SPARSITIES for s in (0, 1, 2)]
    assert judge(card._l8, lower_dips).status == HELD  # above both sides
    flat_below = [_row("variant1", p, s, 79.0 if p in card.LOWER_SPARSITIES else 78.0 if p in card.MID_SPARSITIES
                       else 70.0 + s) for p in SPARSITIES for s in (0, 1, 2)]
    assert judge(card._l8, flat_below).status == NOT_HELD  # the lower sparsities are 1 above the middle ones
    v2 = [_row("variant2", p, s, 80.0 + s) for p in SPARSITIES for s in (0, 1, 2)]  # flat, for L13 below
    # L9, three parts: Variant 2 at 82 + seed at its low and high sparsities, 78 + seed at 0.5 and 0.625: above
    # Variant 1 (81 + s against 73 + 5s/8), 4 above its middle at both ends, and every row above a 75 + s baseline
    shaped = [_row("variant2", p, s, 78.0 + s if p in card.V2_MIDDLE else 82.0 + s) for p in SPARSITIES for s in (0, 1, 2)]
    baseline = lambda level: [Record("darts_cifar10", f"b{s}", {"seed": s}, _lnas_metrics(final=level + s), {})
                              for s in (0, 1, 2)]
    assert "Variant 2 at p=0.95 is cached" in judge(card._l9, v1 + shaped[:-3]).basis
    assert judge(card._l9, v1 + shaped + baseline(75.0)).status == HELD
    assert "winning tickets: 8 of 8 rows above the baseline" in judge(card._l9, v1 + shaped + baseline(75.0)).ours
    assert judge(card._l9, v1 + shaped + baseline(90.0)).status == NOT_HELD  # no row can be a winning ticket
    assert judge(card._l9, v1 + shaped).status == INCONCLUSIVE  # tickets pending without a baseline
    assert judge(card._l9, v1 + v2 + baseline(75.0)).status == INCONCLUSIVE  # flat: no better at the ends
    a3 = [_row("algorithm3", p, s, 81.0 + s) for p in SPARSITIES for s in (0, 1, 2)]  # +1 over Variant 2 at each seed
    assert "Algorithm 3 at p=0.125 is cached" in judge(card._l13, v1 + v2 + a3[3:]).basis
    assert judge(card._l13, v1 + v2 + a3).status == HELD
    # "ours" gives both paired differences. Over Variant 1's mean (3 sparsities at 78, 5 at 70 + s): 81 + s - (73 + 5s/8)
    # = 8, 8.375, 8.75, mean 8.375, sd 0.375, half-width t(0.975, 2) 4.303 * 0.375 / sqrt(3) = 0.93
    assert judge(card._l13, v1 + v2 + a3).ours.startswith("vs Variant 1: 8.38 [7.44, 9.31] (n=3)")
    assert "; vs Variant 2: 1.00 [1.00, 1.00] (n=3)" in judge(card._l13, v1 + v2 + a3).ours
    worse = [_row("algorithm3", p, s, 79.0 + s) for p in SPARSITIES for s in (0, 1, 2)]  # 1 below Variant 2
    assert judge(card._l13, v1 + v2 + worse).status == NOT_HELD


def test_a_paired_difference_across_devices_carries_the_caveat():
    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    baseline = [Record("darts_cifar10", f"b{s}", {"seed": s}, _lnas_metrics(final=70.0 + s), {"hardware": {"device": "cpu"}})
                for s in (0, 1, 2)]
    on_the_cpu = [_row("variant2", 0.95, s, 72.0 + s) for s in (0, 1, 2)]
    on_a_gpu = [_row("variant2", 0.95, s, 72.0 + s, "NVIDIA H200") if s else on_the_cpu[0] for s in (0, 1, 2)]
    judge = lambda runs: card._l10(card.LnasEvidence("cpu", runs, None, []))
    assert judge(baseline + on_the_cpu).status == HELD and "devices" not in judge(baseline + on_the_cpu).basis
    assert "at 2 of 3 seeds the compared runs were made on different devices (CPU and NVIDIA H200)" in judge(baseline + on_a_gpu).basis
    cells = {c["claim"]: c for c in card.table_rows(card.LnasEvidence("cpu", baseline + on_a_gpu, None, []))}
    v2 = cells["Variant 2, p=0.95: best val. accuracy up to the last epoch (%)"]
    assert v2["status"] == HELD and "at 2 of 3 seeds" in v2["basis"]
    # with a measured device offset bound the interval [2, 2] is widened by 2/3 of it on both sides
    offset = lambda bound: card.LnasEvidence("cpu", baseline + on_a_gpu, None, [], (bound, "cpu"))
    assert "2.00 [1.00, 3.00]" in card._l10(offset(1.5)).basis and card._l10(offset(1.5)).status == HELD
    assert "2.00 [-2.00, 6.00]" in card._l10(offset(6.0)).basis and card._l10(offset(6.0)).status == INCONCLUSIVE
    assert "widened by ±4.00 pp" in card._l10(offset(6.0)).basis and card._l10(offset(6.0)).widened == pytest.approx(4.0)
    assert card._l10(offset(1.5)).widened == pytest.approx(1.0) and judge(baseline + on_a_gpu).widened == 0.0
    assert card._l10(offset(6.0)).ours == "2.00 [2.00, 2.00] (n=3)"  # as measured
    assert card._l10(card.LnasEvidence("cpu", baseline + on_the_cpu, None, [], (6.0, "cpu"))).status == HELD  # one device
    cells = {c["claim"]: c for c in card.table_rows(offset(6.0))}
    v2 = cells["Variant 2, p=0.95: best val. accuracy up to the last epoch (%)"]
    assert v2["status"] == INCONCLUSIVE and "widened by ±4.00 pp" in v2["basis"] and v2["widened (pp)"] == pytest.approx(4.0)
    assert "; Δ 2.00 [2.00, 2.00] (n=3)" in v2["ours"]  # the difference as measured; the basis has the widened one


def test_the_device_rule_looks_only_at_the_sparsities_a_claim_compares():
    from dataclasses import replace

    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    baseline = [Record("darts_cifar10", f"b{s}", {"seed": s}, _lnas_metrics(final=70.0 + s), {"hardware": {"device": "cpu"}})
                for s in (0, 1, 2)]
    at_095 = [_row("variant2", 0.95, s, 72.0 + s) for s in (0, 1, 2)]  # on the CPU, like the baseline
    elsewhere = [_row("variant2", 0.5, s, 60.0, "NVIDIA H200") for s in (0, 1, 2)]  # another row, on a card
    verdict = card._l10(card.LnasEvidence("cpu", baseline + at_095 + elsewhere, None, [], (6.0, "cpu")))
    assert verdict.status == HELD and "devices" not in verdict.basis and "widened" not in verdict.basis
    alphas = {"normal": [[0.25] * 4] * 2, "reduce": [[0.25] * 4] * 2}
    moved = {"alpha_top_over_uniform": 2.0, "alphas": alphas}  # the searches at 0.95 left uniform, the others did not
    searched = [replace(r, metrics={**r.metrics, **moved}) for r in at_095]
    still = [replace(r, metrics={**r.metrics, "alpha_top_over_uniform": 1.0, "alphas": alphas}) for r in elsewhere]
    verdict = card._l10(card.LnasEvidence("cpu", baseline + searched + still, None, [], (6.0, "cpu")))
    assert "searches near uniform: 0 of 3 runs" in verdict.basis  # not "3 of 6": the runs at 0.5 are not compared


def test_a_verdict_resting_on_stale_runs_says_how_many():
    from dataclasses import replace

    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    baseline = [Record("darts_cifar10", f"b{s}", {"seed": s}, _lnas_metrics(final=70.0 + s), {"hardware": {"device": "cpu"}})
                for s in (0, 1, 2)]
    v2 = [_row("variant2", 0.95, s, 72.0 + s) for s in (0, 1, 2)]
    older = [replace(r, mark="stale: computed with code a, now b") if r.config["seed"] else r for r in v2]
    ev = lambda runs: card.LnasEvidence("cpu", runs, None, [])
    assert "stale" not in card._l10(ev(baseline + v2)).basis
    assert "of the runs of Baseline and Variant 2, 2 of 6 stale (made by code that has changed since" in card._l10(ev(baseline + older)).basis
    altered = [replace(r, mark="altered: its content does not match its checksum") for r in v2]
    assert "stale" not in card._l10(ev(baseline + altered)).basis  # another mark, said elsewhere
    cells = {c["claim"]: c for c in card.table_rows(ev(baseline + older))}
    assert cells["Variant 2, p=0.95: best val. accuracy up to the last epoch (%)"]["ours"].endswith("[2 run(s) stale]")
    assert "stale" not in cells["Baseline: best val. accuracy up to the last epoch (%)"]["ours"]


def test_the_rewind_control_is_judged_against_the_baseline():
    from lib.experiments import lnas_sweep
    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    baseline = [Record("darts_cifar10", f"b{s}", {"seed": s}, _lnas_metrics(final=70.0 + s), {"hardware": {"device": "cpu"}})
                for s in (0, 1, 2)]
    judge = lambda runs: card.rewind_cost(card.LnasEvidence("cpu", runs, None, []))
    assert judge(baseline).status == NOT_TESTABLE  # pending
    costly = [_row("variant1", lnas_sweep.REWIND_ONLY, s, 64.0 + s + 0.5 * (s == 1)) for s in (0, 1, 2)]  # -6, -5.5, -6
    assert judge(baseline + costly).status == HELD
    free = [_row("variant1", lnas_sweep.REWIND_ONLY, s, 70.0 + s + (1.0, -1.0, 0.5)[s]) for s in (0, 1, 2)]
    assert judge(baseline + free).status == INCONCLUSIVE  # +1, -1, +0.5: contains 0


def test_a_row_with_a_run_whose_wiring_is_all_ties_is_not_testable():
    from lib.darts.ops import DARTS_SPACE
    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    one_op = [[1.0 if op == "sep_conv_3x3" else 0.0 for op in DARTS_SPACE]] * 14  # one active op on each of 14 edges
    chosen = [[0.2 + 0.01 * e if op == "sep_conv_3x3" else (0.8 - 0.01 * e) / 7 for op in DARTS_SPACE]
              for e in range(14)]  # every edge a different strength: no tie
    baseline = [Record("darts_cifar10", f"b{s}", {"seed": s}, _lnas_metrics(final=70.0), {}) for s in (0, 1, 2)]
    v2 = lambda weights: [Record("lnas", f"v2-{s}", {"variant": "variant2", "sparsity": 0.95, "seed": s},
                                 {**_lnas_metrics(final=72.0 + s), "alphas": {"normal": weights, "reduce": weights}}, {})
                          for s in (0, 1, 2)]
    tied = card.LnasEvidence("cpu", baseline + v2(one_op), None, [])
    assert tied.tied_rows() == {("Variant 2", 0.95)}
    assert card._l10(tied).status == NOT_TESTABLE and "tie" in card._l10(tied).basis
    cells = {c["claim"]: c for c in card.table_rows(tied)}
    assert cells["Variant 2, p=0.95: best val. accuracy up to the last epoch (%)"]["status"] == NOT_TESTABLE
    searched = card.LnasEvidence("cpu", baseline + v2(chosen), None, [])
    assert searched.tied_rows() == set() and card._l10(searched).status == HELD  # +2, +3, +4 over the baseline
    one_tied = card.LnasEvidence("cpu", baseline + v2(chosen)[:2] + v2(one_op)[2:], None, [])
    assert one_tied.tied_rows() == {("Variant 2", 0.95)}  # one run of the row is enough: it is left out
    a3 = [Record("lnas", f"a3-{s}", {"variant": "algorithm3", "sparsity": 0.95, "seed": s},
                 {**_lnas_metrics(final=60.0), "alphas": {"normal": one_op, "reduce": one_op}}, {}) for s in (0, 1, 2)]
    other_tied = card.LnasEvidence("cpu", baseline + v2(chosen) + a3, None, [])
    assert other_tied.tied_rows() == {("Algorithm 3", 0.95)}
    assert "tied wiring" not in card._tickets(other_tied).ours  # no Variant 2 row was left out


def test_a_run_whose_reused_search_was_re_run_since_cannot_show_that_search():
    from lib.pipeline.results import Record
    from lib.report import lnas as report

    search = lambda genotype: Record("lnas", "v2", {"variant": "variant2", "sparsity": 0.95, "seed": 0},
                                     {**_lnas_metrics(final=72.0), "genotype": genotype, "alpha_top_over_uniform": 2.0}, {})
    ticket = Record("lnas", "a3", {"variant": "algorithm3", "sparsity": 0.95, "seed": 0},
                    {**_lnas_metrics(final=70.0), "genotype": "G1", "searched_by": "lnas/v2"}, {})
    same, replaced = report.rows([search("G1"), ticket]), report.rows([search("G2"), ticket])
    assert same.iloc[1]["search_top_over_uniform"] == 2.0 and not same.iloc[1]["search_replaced"]
    assert replaced.iloc[1]["search_replaced"] and replaced.iloc[1]["search_top_over_uniform"] != 2.0  # NaN
    assert report.tied_rows(replaced) == {("Algorithm 3", 0.95)} and report.tied_rows(same) == set()


def test_the_summary_names_the_tied_rows_and_the_device_widening():
    from lib.darts.ops import DARTS_SPACE
    from lib.pipeline.results import Record
    from lib.report.scorecard import lnas as card

    one_op = [[1.0 if op == "sep_conv_3x3" else 0.0 for op in DARTS_SPACE]] * 14
    tied = [Record("lnas", f"v2-{s}", {"variant": "variant2", "sparsity": 0.875, "seed": s},
                   {**_lnas_metrics(final=72.0), "alphas": {"normal": one_op, "reduce": one_op}}, {}) for s in (0, 1)]
    summary = lambda ev: build.lnas_limits(build.Scorecard(pd.DataFrame(), [], ev))
    text = summary(card.LnasEvidence("cpu", tied, None, [], (3.25, "cpu")))
    assert text.startswith("Runs of Variant 2 p=0.875 took their cells' wiring from ties") and "±3.25 pp" in text
    assert summary(card.LnasEvidence("cpu", [], None, [])) == ""
