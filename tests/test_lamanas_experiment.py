"""LAMANAS rows at the smoke profile: metrics, resumption, the authors' code behaviour, config errors, Table 1."""

import pandas as pd
import pytest

from conftest import without_timing
from lib.pipeline import results
from lib.pipeline.checkpoint import Checkpoint
from lib.experiments import lamanas, lamanas_tables
from lib.experiments.lamanas import LamanasConfig

FNN_MSE = dict(loss="fnn", residual=True, proxy="mse")



def smoke(**overrides) -> LamanasConfig:
    """On the CPU even where a GPU exists: CUDA kernels are not bitwise reproducible run to run."""
    return LamanasConfig.for_profile("smoke", **{"device": "cpu", **overrides})


@pytest.fixture(scope="module")
def fnn_run(tmp_path_factory) -> results.Record:
    return results.cached(smoke(**FNN_MSE), lamanas.run, root=tmp_path_factory.mktemp("fnn"))


def test_a_smoke_run_reports_what_table_1_needs(fnn_run):
    cfg, m = smoke(**FNN_MSE), fnn_run.metrics
    assert [h["epoch"] for h in m["history"]] == list(range(1, cfg.meta_epochs + 1))
    per_epoch = [h["query_acc"] for h in m["history"]]
    assert m["train_acc"] == pytest.approx(sum(per_epoch) / len(per_epoch))  # the authors' running mean (#8)
    assert len(m["test_accuracies"]) == cfg.test_tasks and 0 <= m["test_acc"] <= 100
    assert 0 < m["min_params"] <= m["mean_params"] <= m["max_params"]
    assert sorted(m["loss_snapshots"], key=int) == ["0", "1", "2"]
    assert m["phi_change_total"] > 0 and all(h["phi_change_norm"] > 0 for h in m["history"])
    assert m["genotype"].startswith("Genotype(")


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
            results.cached(smoke(**FNN_MSE), lamanas.run, root=tmp_path)
    resumed = results.cached(smoke(**FNN_MSE), lamanas.run, root=tmp_path)
    assert resumed.provenance["resumed_from_checkpoint"]
    assert without_timing(resumed.metrics) == without_timing(fnn_run.metrics)


def test_authors_code_leaves_phi_alone_and_makes_the_proxy_irrelevant(tmp_path):
    runs = {proxy: results.cached(smoke(loss="fnn", residual=True, proxy=proxy, authors_code=True), lamanas.run,
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
    (dict(loss="rnn"), "loss must be one of"),
    (dict(snapshot_epochs=(0, 5)), r"snapshot_epochs \[5\] are outside 0..meta_epochs=2"),
    (dict(data="omniglot"), "Omniglot images are 28x28"),
    (dict(class_split="lake"), "class_split must be one of"),
    (dict(test_tasks=0), "test_tasks must be >= 1"),
])
def test_config_errors_say_what_is_wrong(fields, message):
    with pytest.raises(ValueError, match=message):
        smoke(**fields)


def test_unknown_fields_and_rows_are_named():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['meta_epoch'\]"):
        smoke(meta_epoch=3)
    with pytest.raises(ValueError, match=r"unknown row\(s\) \['lstm-res-dot'\]"):
        lamanas_tables.jobs(smoke, ["lstm-res-dot"], [0], [0])


def test_jobs_cover_the_rows_their_authors_twins_and_the_seeds():
    jobs = lamanas_tables.jobs(smoke, list(lamanas_tables.ROWS), seeds=[0, 1], authors_seeds=[0])
    configs = [cfg for cfg, _ in jobs]
    assert len(configs) == 9 * 2 + 8 and len({results.config_key(c) for c in configs}) == len(configs)
    assert all(c.snapshot_epochs == () for c in configs if c.loss == "lstm")
    assert sum(c.authors_code for c in configs) == 8 and not any(c.authors_code for c in configs if c.loss == "ce")


def test_table_1_puts_report_ours_and_authors_side_by_side():
    summary = pd.DataFrame([
        {**row.labels(), "code": code, "seeds": 2, "test_acc": 50.0 + i, "train_acc": 40.0, "mean_params": 1000.0}
        for i, row in enumerate(lamanas_tables.ROWS.values()) for code in ("ours", "authors") if row.loss != "ce"
        or code == "ours"])
    table = lamanas_tables.compare_with_report(summary)
    assert list(table["variant"]) == ["Baseline"] + ["FNN"] * 4 + ["LSTM"] * 4  # the report's order
    assert table.loc[0, "test acc (report)"] == 82.5 and table.loc[0, "test acc (ours)"] == 50.0
    assert table.loc[0, "test acc (authors' code)"] == 50.0  # no loss network: the same run
    assert table["test acc Δ"].tolist() == (table["test acc (ours)"] - table["test acc (report)"]).tolist()
    assert table["seeds"].tolist() == [2] * 9 and table["why the columns differ"].str.len().min() > 0
