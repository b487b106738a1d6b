"""End-to-end experiment runs at the smoke profile: metrics, resumption, LNAS variants, the parallel runner."""

import pytest

from conftest import without_timing
from lib.pipeline import results
from lib.pipeline.checkpoint import Checkpoint
from lib.experiments import darts_cifar10, lnas, lnas_algorithm3, lnas_variant1, lnas_variant2
from lib.experiments.search_diagnostics import top_over_uniform
from lib.pipeline.runner import run_all




def smoke(**overrides) -> darts_cifar10.DartsCifarConfig:
    return darts_cifar10.DartsCifarConfig.for_profile("smoke", **overrides)


def test_baseline_run_reports_what_the_table_needs(tmp_path):
    m = results.cached(smoke(), darts_cifar10.run, root=tmp_path).metrics
    cfg = smoke()
    assert len(m["train_history"]) == cfg.training.epochs and len(m["search_history"]) == cfg.search.epochs
    curve = [h["val_acc"] for h in m["train_history"]]
    assert m["val_acc_final"] == max(curve) and m["val_acc_mid"] == max(curve[: m["mid_epoch"]])
    assert [e["epoch"] for e in m["search_diagnostics"]] == list(range(1, cfg.search.epochs + 1))
    n_edges = len(m["alphas"]["normal"])
    assert all(len(e["top_over_uniform"]["normal"]) == len(e["entropy"]["reduce"]) == n_edges for e in m["search_diagnostics"])
    assert m["alpha_top_over_uniform"] == top_over_uniform(m["alphas"]) >= 1.0
    assert 0 <= m["test_acc_at_best_val"] <= 100 and m["macs"] == m["dense_macs"] > 0


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    uninterrupted = results.cached(smoke(), darts_cifar10.run, root=tmp_path / "a").metrics
    saves = {"n": 0}
    original = Checkpoint.save

    def save_then_die(self, state):
        original(self, state)
        saves["n"] += 1
        if saves["n"] == smoke().search.epochs + 1:  # after the first training epoch
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        results.cached(smoke(), darts_cifar10.run, root=tmp_path / "b")
    monkeypatch.setattr(Checkpoint, "save", original)
    resumed = results.cached(smoke(), darts_cifar10.run, root=tmp_path / "b")
    assert resumed.provenance["resumed_from_checkpoint"]
    assert without_timing(resumed.metrics) == without_timing(uninterrupted)


def test_variant_1_prunes_the_weights_at_the_middle_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path))
    cfg = lnas.LnasConfig.for_profile("smoke", variant="variant1", sparsity=0.5, training={"epochs": 4})
    m = results.cached(cfg, lnas_variant1.run).metrics
    assert (tmp_path / "darts_cifar10").is_dir()  # the baseline search it reused is cached too
    assert [e["epoch"] for e in m["weight_pruning_log"]] == [2]
    assert m["weight_sparsity"] == pytest.approx(0.5, abs=1e-3)
    assert m["best_epoch"] > 2 and m["macs"] < m["dense_macs"] and m["params"] < m["dense_params"]


def test_variant_2_prunes_paths_and_algorithm_3_reuses_its_search(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path))
    v2 = results.cached(lnas.LnasConfig.for_profile("smoke", variant="variant2", sparsity=0.5), lnas_variant2.run)
    paths = len(v2.metrics["alphas"]["normal"]) * len(v2.metrics["alphas"]["normal"][0]) * 2
    assert v2.metrics["path_sparsity"] == round(0.5 * paths) / paths
    generalized = results.cached(lnas.LnasConfig.for_profile("smoke", variant="algorithm3", sparsity=0.5), lnas_algorithm3.run)
    assert generalized.metrics["searched_by"] == f"lnas/{v2.key}"
    assert generalized.metrics["genotype"] == v2.metrics["genotype"]
    assert generalized.metrics["weight_sparsity"] == pytest.approx(0.5, abs=1e-3)


def test_parallel_runner_gives_the_records_a_serial_run_gives(tmp_path, monkeypatch):
    jobs = [(smoke(seed=s), darts_cifar10.run) for s in (0, 1)]
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path / "serial"))
    serial = run_all(jobs, processes=1)
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path / "parallel"))
    parallel = run_all(jobs, processes=2)
    assert all(r.provenance["hardware"]["torch_threads"] == 1 for r in parallel)
    assert [without_timing(r.metrics) for r in parallel] == [without_timing(r.metrics) for r in serial]
