"""The measurement runs of issue 15: a learning curve measured in segments equals Algorithm 2 run in one go."""

import pytest

from lib.experiments import lamanas, scaling
from lib.experiments.checks import ConfigError
from lib.experiments.lamanas_curve import LamanasCurveConfig, run
from lib.pipeline import results


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path))


def test_curve_points_are_algorithm2_with_that_many_meta_epochs():
    cfg = LamanasCurveConfig(profile="smoke", row="fnn-res-ip", width=4, curve_at=(0, 1), test_tasks=2, test_steps=3)
    curve = results.cached(cfg, run).metrics["curve"]
    whole = results.cached(cfg.lamanas(), lamanas.algorithm2).metrics
    assert [p["meta_epoch"] for p in curve] == [0, 1] and curve[0]["phi_distance_from_init"] == 0.0
    assert curve[-1]["test_accuracies"] == pytest.approx(whole["test_accuracies"])
    assert curve[-1]["phi_distance_from_init"] == pytest.approx(whole["phi_change_total"])
    control = LamanasCurveConfig(profile="smoke", width=4, curve_at=(0,), test_tasks=2, test_steps=3)
    no_meta_training = results.cached(control.lamanas(), lamanas.algorithm2).metrics
    assert results.cached(control, run).metrics["curve"][0]["test_accuracies"] == pytest.approx(
        no_meta_training["test_accuracies"])


def test_curve_points_must_increase():
    with pytest.raises(ConfigError):
        LamanasCurveConfig(profile="smoke", curve_at=(2, 1))


def test_measurement_grids_vary_one_budget_each():
    search, training = scaling.search_grid("cpu"), scaling.training_grid("cpu")
    assert len({c.training for c in search}) == 1 and len({c.search.epochs for c in training}) == 1
    assert [scaling.search_steps(results.result_fields(c)) for c in search] == sorted(
        scaling.search_steps(results.result_fields(c)) for c in search)
    assert all(c.experiment == "darts_cifar10" for c in search + training)


def test_a_point_made_on_a_gpu_does_not_pass_for_core_time():
    from lib.experiments.scaling import cost_basis
    from lib.pipeline.results import Record

    made_on = lambda hardware: Record("lamanas_curve", "k", {}, {}, {"hardware": hardware})
    assert cost_basis(made_on({"device": "cpu"})) == "measured"
    assert cost_basis(made_on({"device": "cuda:0", "accelerator": "NVIDIA H200"})) == "measured on NVIDIA H200 (not core time)"
