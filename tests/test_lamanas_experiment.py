"""LAMANAS rows at the smoke profile: metrics, resumption, paired seeds, the control, config errors, Table 1."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import without_timing
from lib.experiments import lamanas
from lib.experiments.lamanas_config import LamanasConfig, flat_settings, reductions
from lib.experiments.lamanas_rows import CONTROL, ROWS
from lib.experiments.lamanas_sweep import Sweep, is_view
from lib.pipeline import results
from lib.pipeline.checkpoint import Checkpoint
from lib.report import lamanas as report
from lib.report.rules import HELD, INCONCLUSIVE

FNN_MSE = dict(loss="fnn", residual=True, proxy="mse")


def smoke(**overrides) -> LamanasConfig:
    """On the CPU even where a GPU exists: CUDA kernels are not bitwise reproducible run to run."""
    return LamanasConfig.for_profile("smoke", **{"device": "cpu", **overrides})


@pytest.fixture(scope="module")
def fnn_run(tmp_path_factory) -> results.Record:
    return results.cached(smoke(**FNN_MSE), lamanas.algorithm2, root=tmp_path_factory.mktemp("fnn"))


def test_a_smoke_run_reports_what_table_1_needs(fnn_run):
    cfg, m = smoke(**FNN_MSE), fnn_run.metrics
    assert [h["epoch"] for h in m["history"]] == list(range(1, cfg.reptile.meta_epochs + 1))
    per_epoch = [h["query_acc"] for h in m["history"]]
    assert m["train_acc"] == pytest.approx(sum(per_epoch) / len(per_epoch))  # the authors' running mean (#8)
    assert len(m["test_accuracies"]) == cfg.meta_test.tasks and 0 <= m["test_acc"] <= 100
    assert 0 < m["min_params"] <= m["mean_params"] <= m["max_params"]
    assert sorted(m["loss_snapshots"], key=int) == ["0", "1", "2"]
    assert m["phi_change_total"] > 0 and all(h["phi_change_norm"] > 0 for h in m["history"])
    assert m["genotype"].startswith("Genotype(")


def test_movement_diagnostics_add_up(fnn_run):
    """phi's and alpha's distance from init at the last epoch is the total; per-epoch steps bound it (triangle)."""
    m = fnn_run.metrics
    last = m["history"][-1]
    assert last["phi_distance_from_init"] == pytest.approx(m["phi_change_total"])
    assert last["alpha_distance_from_init"] == pytest.approx(m["alpha_change_total"]) and m["alpha_change_total"] > 0
    assert last["alpha_distance_from_init"] <= sum(h["alpha_change_norm"] for h in m["history"]) + 1e-9
    assert all(h["alpha_top_op_ratio"] >= 1.0 for h in m["history"])  # the top op is at least the mean


def test_rows_of_one_seed_start_from_the_same_supernet_and_see_the_same_tasks(tmp_path):
    states = {}
    for row in ("baseline", "fnn-res-ip"):
        cfg = Sweep.for_profile("smoke", device="cpu").config(row, seed=1)
        state = lamanas.initial_meta_parameters(cfg, torch.device("cpu"), Checkpoint(tmp_path / f"{row}.pt"))
        train_tasks, test_tasks, _ = lamanas.task_samplers(cfg.data)
        states[row] = (state.model.state_dict(), train_tasks.sample(state.stream), test_tasks.sample(0))
    (model_a, train_a, test_a), (model_b, train_b, test_b) = states.values()
    assert all(torch.equal(model_a[k], model_b[k]) for k in model_a)
    assert torch.equal(train_a.support_x, train_b.support_x) and torch.equal(test_a.query_x, test_b.query_x)


def test_the_control_meta_tests_the_initial_weights(tmp_path):
    sweep = Sweep.for_profile("smoke", rows=[CONTROL], device="cpu")
    cfg = sweep.config(CONTROL)
    assert cfg.reptile.meta_epochs == 0 and cfg.loss == "ce" and cfg.snapshot_epochs == ()
    m = results.cached(cfg, lamanas.algorithm2, root=tmp_path).metrics
    assert m["history"] == [] and m["train_acc"] is None and m["alpha_change_total"] == 0.0
    assert len(m["test_accuracies"]) == cfg.meta_test.tasks
    rows = report.run_rows([results.stored(cfg, root=tmp_path)])
    assert rows.loc[0, "loss_network"] == "No meta-training" and pd.isna(rows.loc[0, "train_acc"])


def test_an_interrupted_run_resumes_to_the_same_result(fnn_run, tmp_path, monkeypatch):
    saves = {"n": 0}
    original = Checkpoint.save

    def save_then_die(self, state):
        original(self, state)
        saves["n"] += 1
        if saves["n"] in (1, 3):  # after meta-epoch 1, then after the first meta-test task
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "save", save_then_die)
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            results.cached(smoke(**FNN_MSE), lamanas.algorithm2, root=tmp_path)
    resumed = results.cached(smoke(**FNN_MSE), lamanas.algorithm2, root=tmp_path)
    assert resumed.provenance["resumed_from_checkpoint"]
    assert without_timing(resumed.metrics) == without_timing(fnn_run.metrics)


def test_authors_code_leaves_phi_alone_and_makes_the_proxy_irrelevant(tmp_path):
    runs = {proxy: results.cached(smoke(loss="fnn", residual=True, proxy=proxy, authors_code=True), lamanas.algorithm2,
                                  root=tmp_path).metrics for proxy in ("mse", "inner_product")}
    for m in runs.values():
        assert m["phi_change_total"] == 0.0 and all(h["phi_change_norm"] == 0.0 for h in m["history"])
        assert all(s == m["loss_snapshots"]["0"] for s in m["loss_snapshots"].values())
    # phi is the same fixed network in both, so theta and alpha see the same training (#21, #22)
    assert runs["mse"]["test_accuracies"] == runs["inner_product"]["test_accuracies"]
    curves = {proxy: [h["query_acc"] for h in m["history"]] for proxy, m in runs.items()}
    assert curves["mse"] == curves["inner_product"]


@pytest.mark.parametrize("fields, message", [
    (dict(proxy="mse"), "loss='ce'.*proxy='none'"),
    (dict(authors_code=True), "loss='ce'"),
    (dict(loss="lstm"), "needs proxy"),
    (dict(loss="rnn"), r"LamanasConfig.loss = 'rnn': must be one of"),
    (dict(snapshot_epochs=(0, 5)), r"snapshot_epochs \[5\] are outside 0..reptile.meta_epochs=2"),
    ({"data.dataset": "omniglot"}, "Omniglot images are 28x28"),
    ({"data.class_split": "lake"}, "class_split = 'lake': must be one of"),
    ({"meta_test.tasks": 0}, r"tasks = 0: must be in \[1, inf\]"),
    ({"data.ways": 65}, "the smaller split has only 64 classes"),
    ({"data.queries": 0}, "queries = 0"),
    ({"task.batch_size": 16}, r"exceeds the meta-training support set \(ways x shots_train = 15\)"),
    ({"meta_test.batch_size": 11}, "exceeds the meta-test support set"),
    ({"task.drop_path_prob": 1.0}, "drop_path_prob = 1.0"),
    ({"supernet.op_prune_threshold": -0.1}, "op_prune_threshold"),
    ({"reptile.meta_epochs": 0, "loss": "fnn", "residual": True, "proxy": "mse", "snapshot_epochs": ()},
     "not a learned loss"),
    ({"task.t_min": 2.0}, "t_min"),
])
def test_config_errors_say_what_is_wrong(fields, message):
    with pytest.raises(ValueError, match=message):
        smoke(**fields)


def test_profiles_are_changes_by_dotted_name_or_nested_dict():
    assert smoke(**{"supernet.C": 6}) == smoke(supernet={"C": 6})
    assert smoke().supernet.C == 4 and smoke().data.ways == 5 and smoke().task.steps == 2
    small = LamanasConfig.for_profile("small")
    assert [name for name, _, _ in reductions(small, LamanasConfig())] == [
        "supernet.C", "reptile.meta_epochs", "reptile.meta_batch_size", "meta_test.tasks", "meta_test.steps",
        "snapshot_epochs"]
    assert flat_settings(small)["task.w_betas"] == (0.0, 0.999)


def test_execution_fields_stay_top_level_and_out_of_the_key():
    names = {f.name for f in dataclasses.fields(LamanasConfig)}
    assert {"device", "threads"} <= names
    assert results.config_key(smoke()) == results.config_key(smoke(device="cuda", threads=2))


def test_unknown_fields_and_rows_are_named():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['meta_epoch'\]"):
        smoke(meta_epoch=3)
    with pytest.raises(ValueError, match=r"unknown row\(s\) \['lstm-res-dot'\]"):
        Sweep.for_profile("smoke", rows=["lstm-res-dot"])


def test_jobs_cover_the_rows_their_authors_twins_the_control_and_the_seeds():
    sweep = Sweep.for_profile("smoke", rows=list(ROWS), seeds=[0, 1], authors_seeds=[0])
    configs = [cfg for cfg, _ in sweep.jobs()]
    assert len(configs) == 10 * 2 + 4 and len({results.config_key(c) for c in configs}) == len(configs)
    assert all(c.snapshot_epochs == () for c in configs if c.loss == "lstm")
    twins = {(c.loss, c.residual, c.proxy) for c in configs if c.authors_code}  # one per loss network x residual
    assert twins == {(loss, residual, "mse") for loss in ("fnn", "lstm") for residual in (True, False)}
    assert not any(c.authors_code for c in configs if c.loss == "ce")
    assert sum(c.reptile.meta_epochs == 0 for c in configs) == 2  # the control, once per seed
    cpu = Sweep.for_profile("cpu", processes=2)
    assert cpu.rows == tuple(ROWS) and cpu.seeds == cpu.authors_seeds == (0, 1, 2)  # paired seeds, issue 14


def test_an_authors_twin_serves_both_proxies_of_its_row_as_one_run():
    sweep = Sweep.for_profile("smoke", rows=["fnn-res-mse", "fnn-res-ip", "lstm-res-ip"], seeds=[0])
    twins = [cfg for cfg, _ in sweep.jobs() if cfg.authors_code]
    assert [(c.loss, c.proxy) for c in twins] == [("fnn", "mse"), ("lstm", "mse")]
    records = [results.Record("lamanas", f"k{c.loss}", dataclasses.asdict(c), {"test_acc": 7.0}, {"date": "d"})
               for c in twins]
    shown = sweep.shown(records)
    views = [r for r in shown if is_view(r)]
    assert [(r.config["loss"], r.config["proxy"], r.key) for r in views] == [("fnn", "inner_product", "kfnn"),
                                                                             ("lstm", "inner_product", "klstm")]
    assert views[0].metrics == records[0].metrics and "kfnn" in views[0].provenance["shared_from"]
    assert shown[0] is records[0] and not is_view(records[0])  # the run itself is kept, unchanged
    ips = report.run_rows(shown).query("code == 'authors' and loss_proxy == 'Inner product'")
    assert ips["loss_network"].tolist() == ["FNN", "LSTM"] and ips["test_acc"].tolist() == [7.0, 7.0]
    assert len(report.task_intervals(shown)) == len(records)  # per-run tables list each run once


def test_table_1_puts_report_ours_and_authors_side_by_side():
    summary = pd.DataFrame([
        {**row.labels(), "code": code, "seeds": 2, "test_acc": 50.0 + i, "train_acc": 40.0, "mean_params": 1000.0}
        for i, row in enumerate(ROWS.values()) for code in ("ours", "authors") if row.loss != "ce" or code == "ours"])
    table = report.compare_with_report(summary)
    assert list(table["loss_network"]) == ["Baseline"] + ["FNN"] * 4 + ["LSTM"] * 4  # the report's order; no control
    assert table.loc[0, "test acc (report)"] == 82.5 and table.loc[0, "test acc (ours)"] == 50.0
    assert table.loc[0, "test acc (authors' code)"] == 50.0  # no loss network: the same run
    assert table["test acc Δ"].tolist() == (table["test acc (ours)"] - table["test acc (report)"]).tolist()
    assert table["seeds"].tolist() == [2] * 9 and table["why the columns differ"].str.len().min() > 0


def test_missing_diagnostics_show_as_not_recorded_and_missing_control_as_pending():
    record = results.Record("lamanas", "k", dataclasses.asdict(smoke()), {"history": [{"epoch": 1}], "test_acc": 9.0},
                            {})
    movement = report.movement_table([record])
    assert movement.loc[0, "alpha from init (L2)"] == report.NOT_RECORDED
    contribution = report.meta_learning_contribution(report.run_rows([record]))
    assert contribution.loc[0, "no meta-training"] == "pending" and contribution.loc[0, "baseline (meta-trained)"] == "9.0"
    assert contribution.iloc[-1]["baseline (meta-trained)"] == "9.0 (n=1, no interval)"
    assert contribution.iloc[-1]["difference"] == "pending"
    requested = report.meta_learning_contribution(report.run_rows([record]), seeds=(0, 3))
    assert requested["seed"].tolist()[:2] == [0, 3] and requested.loc[1, "baseline (meta-trained)"] == "pending"


def test_the_control_table_ends_with_the_mean_paired_difference_and_its_t_interval():
    from scipy import stats as scipy_stats

    def run(loss_network: str, seed: int, acc: float) -> dict:
        return {"loss_network": loss_network, "residual": "No", "loss_proxy": "N/A", "code": "ours", "seed": seed,
                "test_acc": acc}
    base, control = {0: 30.0, 1: 34.0, 2: 29.0}, {0: 25.0, 1: 26.0, 2: 27.5}
    rows = pd.DataFrame([run("Baseline", s, a) for s, a in base.items()]
                        + [run("No meta-training", s, a) for s, a in control.items()])
    last = report.meta_learning_contribution(rows).iloc[-1]
    diffs = [base[s] - control[s] for s in base]
    low, high = scipy_stats.t.interval(0.95, len(diffs) - 1, loc=np.mean(diffs), scale=scipy_stats.sem(diffs))
    assert last["difference"] == f"{np.mean(diffs):.1f} [{low:.1f}, {high:.1f}] (n=3)"


def test_the_control_verdict_applies_the_better_than_rule_to_the_paired_difference():
    def rows(base: dict, control: dict) -> pd.DataFrame:
        run = lambda name, seed, acc: {"loss_network": name, "residual": "No", "loss_proxy": "N/A", "code": "ours",
                                       "seed": seed, "test_acc": acc}
        return pd.DataFrame([run("Baseline", s, a) for s, a in base.items()]
                            + [run("No meta-training", s, a) for s, a in control.items()])
    # differences 5, 8, 2.5: mean 5.17, t-interval [-1.7, 12.0] contains 0; 10, 11, 12: [7.5, 13.5] above it
    assert "? Inconclusive** " in report.meta_learning_verdict(rows({0: 30.0, 1: 34.0, 2: 30.0}, {0: 25.0, 1: 26.0, 2: 27.5}))
    held = report.meta_learning_verdict(rows({0: 40.0, 1: 41.0, 2: 42.0}, {0: 30.0, 1: 30.0, 2: 30.0}))
    assert "? Held** " in held and held.endswith("3 of 3 seeds are positive.")
    assert report.meta_learning_verdict(rows({0: 40.0}, {1: 30.0})).startswith("Pending")
    # the baseline of seed 0 made on a GPU, everything else here: widened by a third of a 12 pp device offset bound
    across = rows({0: 40.0, 1: 41.0, 2: 42.0}, {0: 30.0, 1: 30.0, 2: 30.0}).assign(made_on=["GPU"] + ["CPU"] * 5)
    # 11 +- t(0.9875, 2) 6.205 x 1 / sqrt(3) = [7.42, 14.58], widened by 4: [3.42, 18.58], still above 0
    diff, margin, ruling = report.judged_control(across, 12.0)
    assert margin == pytest.approx(4.0) and ruling.status == HELD and "[3.42, 18.58]" in ruling.reason
    assert "widened by ±4.00 pp" in report.meta_learning_verdict(across, 12.0)
    assert report.judged_control(across, 30.0)[2].status == INCONCLUSIVE  # widened by 10: [-2.58, 24.58]


def test_a_run_below_chance_is_counted_where_its_row_is_shown():
    def record(seed: int, tasks: list[float]) -> results.Record:
        config = dataclasses.asdict(smoke(seed=seed, loss="lstm", residual=True, proxy="inner_product"))
        return results.Record("lamanas", f"k{seed}", config, {"test_acc": float(np.mean(tasks)), "history": [],
                                                              "test_accuracies": tasks}, {}, status="ok")
    chance = 100.0 / smoke().data.ways
    # the first run's tasks all 0.1 under chance (interval of width 0), the third's mean under chance by 1 but its
    # interval +- 1.96 * 10 sqrt(2) / sqrt(2) = +- 19.6 reaches it: only the first is below chance
    runs = [record(0, [chance - 0.1] * 4), record(1, [chance + 30.0] * 4), record(2, [chance - 11.0, chance + 9.0])]
    assert report.below_chance(runs) == 1
    shown, _ = report.table1(runs)
    assert shown.loc[shown["row"] == report.row_name(pd.Series(ROWS["lstm-res-ip"].labels())), "runs"].item().endswith(
        "(1 below chance)")


def test_table_1_says_pending_for_a_requested_authors_twin_and_n_a_where_a_cell_cannot_exist():
    sweep = Sweep.for_profile("smoke", rows=["baseline", "fnn-res-ip", "lstm-res-mse", CONTROL], seeds=[0],
                              authors_seeds=[0])
    lstm_twin = next(c for c, _ in sweep.jobs() if c.authors_code and c.loss == "lstm")
    pending = [c for c, _ in sweep.jobs() if c != lstm_twin and c.loss != "ce"]  # the LSTM twin: not requested
    records = [results.Record("lamanas", f"k{i}", dataclasses.asdict(sweep.config(row, 0)), {"test_acc": 50.0, "history": []},
                              {}, status="ok") for i, row in enumerate(["baseline", CONTROL])]
    shown, _ = report.table1(records, pending)
    cell = lambda row, column: shown.loc[shown["row"] == row, column].item()
    assert cell("FNN, residual, Inner product", "test acc (authors' code)") == "pending"  # the MSE twin serves it
    assert cell("LSTM, residual, MSE", "test acc (authors' code)") == "not run"
    assert cell("No meta-training", "test acc (authors' code)") == report.NOT_APPLICABLE
    assert cell("No meta-training", "train acc (ours)") == report.NOT_APPLICABLE


def test_authors_code_twins_of_the_two_proxies_agree_in_every_table_1_number(tmp_path):
    """Under the authors' code behaviour phi is never meta-updated (#22) and each task adapts under its own seeded
    random stream, so the proxy (MSE or inner product) cannot change theta, alpha or any accuracy: the two
    twins of a row are the same run (the sweep could run one of them)."""
    twins = [results.cached(smoke(loss="fnn", residual=True, proxy=proxy, authors_code=True), lamanas.algorithm2,
                            root=tmp_path / proxy).metrics for proxy in ("mse", "inner_product")]
    for name in ("test_acc", "test_accuracies", "train_acc", "genotype", "alpha_change_total", "phi_change_total",
                 "mean_params", "test_query_ce", "test_learned_loss"):
        assert twins[0][name] == twins[1][name], name
    assert [h["query_acc"] for h in twins[0]["history"]] == [h["query_acc"] for h in twins[1]["history"]]


@pytest.mark.parametrize("tasks, side", [
    ([1.0, 3.0], "below"),  # mean 2, s = sqrt(2): 2 +- 1.96, entirely below 5
    ([2.0, 6.0], "at chance"),  # mean 4 under 5, but s = 2 sqrt(2): 4 +- 3.92 reaches 5
    ([6.0, 8.0], "above"),  # 7 +- 1.96, entirely above 5
    ([3.0], "at chance"),  # one task: no interval, so neither side
    ([], "at chance"),
])
def test_a_run_is_below_chance_only_when_its_task_interval_lies_below_it(tasks, side):
    assert report.side_of_chance(tasks, chance=5.0) == side


def _control_rows(base: dict, control: dict) -> pd.DataFrame:
    run = lambda name, seed, acc: {"loss_network": name, "residual": "No", "loss_proxy": "N/A", "code": "ours",
                                   "seed": seed, "test_acc": acc}
    return pd.DataFrame([run("Baseline", s, a) for s, a in base.items()]
                        + [run("No meta-training", s, a) for s, a in control.items()])


# differences 10, 2, 4 at seeds 0-2 (mean 5.33, t-interval contains 0), then 8, 9 at seeds 3 and 4 (all five: above 0)
FIVE_BASE = {0: 50.0, 1: 42.0, 2: 44.0, 3: 48.0, 4: 49.0}
FIVE_CONTROL = {s: 40.0 for s in range(5)}


def _t_text(values: list[float], digits: int, level: float = 0.95) -> str:
    from scipy import stats as scipy_stats
    low, high = scipy_stats.t.interval(level, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    return f"{np.mean(values):.{digits}f} [{low:.{digits}f}, {high:.{digits}f}] (n={len(values)})"


def test_the_control_table_gives_table_1s_seeds_apart_from_all_seeds():
    table = report.meta_learning_contribution(_control_rows(FIVE_BASE, FIVE_CONTROL), seeds=range(5))
    first, every = table.iloc[-2], table.iloc[-1]
    assert first["seed"].startswith("seeds 0-2") and every["seed"].startswith("all seeds")
    assert first["baseline (meta-trained)"] == _t_text([50.0, 42.0, 44.0], 1)  # Table 1's baseline number
    assert first["difference"] == _t_text([10.0, 2.0, 4.0], 1)
    assert every["baseline (meta-trained)"] == _t_text(list(FIVE_BASE.values()), 1)
    assert every["difference"] == _t_text([10.0, 2.0, 4.0, 8.0, 9.0], 1)


def test_a_second_look_is_judged_at_half_the_error_rate():
    """Seeds 0-4 differ by 11.0, 4.4, 1.4, 5.6, 3.0: the 95% interval lies above 0, the 97.5% one does not, so a
    verdict taken after adding seeds 3 and 4 to an inconclusive first look is inconclusive (oracle: scipy)."""
    control = {s: 40.0 for s in range(5)}
    baseline = {s: 40.0 + d for s, d in enumerate([11.0, 4.4, 1.4, 5.6, 3.0])}
    looks = report.control_looks(baseline, control)
    assert [look.status for look in looks] == ["inconclusive", "inconclusive"]
    assert looks[-1].difference.text() == _t_text([11.0, 4.4, 1.4, 5.6, 3.0], 2, 0.975)
    assert looks[-1].difference.method.startswith("97.5% t-interval")  # the level a CSV's interval column names
    assert "? Inconclusive** " in report.meta_learning_verdict(_control_rows(baseline, control))


def test_the_control_verdict_says_it_was_decided_at_a_second_look():
    looks = report.control_looks(FIVE_BASE, FIVE_CONTROL)
    assert [look.seeds for look in looks] == [(0, 1, 2), (0, 1, 2, 3, 4)]
    assert [look.status for look in looks] == ["inconclusive", "held"]
    text = report.meta_learning_verdict(_control_rows(FIVE_BASE, FIVE_CONTROL))
    assert "? Held** " in text
    assert (f"at seeds 0-2 (Table 1's) the difference was {_t_text([10.0, 2.0, 4.0], 2, 0.975)} pp, inconclusive, "
            "and seeds 3 and 4 were added after it") in text and "(Bonferroni)" in text
    assert f"paired difference {_t_text([10.0, 2.0, 4.0, 8.0, 9.0], 2, 0.975)} pp: entirely above 0" in text
    assert (f"The baseline's mean here, {_t_text(list(FIVE_BASE.values()), 1)}, is over seeds 0-4; Table 1 shows "
            f"{_t_text([50.0, 42.0, 44.0], 2)}, over seeds 0-2") in text
    # the baseline of seed 0 made on a GPU (its control on the CPU): each look is widened by the bound times its
    # own share of such seeds, a third at the first look, a fifth at the second
    across = _control_rows(FIVE_BASE, FIVE_CONTROL).assign(made_on=["GPU"] + ["CPU"] * 9)
    first, second = report.judged_looks(across, 3.0)
    assert first.margin == pytest.approx(1.0) and second.margin == pytest.approx(0.6)
    assert second.difference.text() == _t_text([10.0, 2.0, 4.0, 8.0, 9.0], 2, 0.975)  # as measured
    assert "judged widened by ±1.00 pp for devices" in report.meta_learning_verdict(across, 3.0)
    three = {s: v for s, v in FIVE_BASE.items() if s < 3}
    assert len(report.control_looks(three, FIVE_CONTROL)) == 1  # one look: nothing to add
    # the level is the design's, whichever seeds have landed: two looks planned, 97.5%; one look planned, 95%
    assert report.control_looks(three, FIVE_CONTROL)[0].difference.text() == _t_text([10.0, 2.0, 4.0], 2, 0.975)
    assert report.control_looks(three, FIVE_CONTROL, planned=(0, 1, 2))[0].difference.text() == \
        _t_text([10.0, 2.0, 4.0], 2)
    assert "second look" not in report.meta_learning_verdict(_control_rows(three, FIVE_CONTROL))
