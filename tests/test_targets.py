"""The evidence targets (lib/report/targets.py) against hand-computed cases."""

import math

import pandas as pd
import pytest
import torch

from lib.experiments import lamanas
from lib.experiments.lamanas_config import LamanasConfig
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import Record, result_fields
from lib.report import targets
from lib.report.stats import Interval


@pytest.mark.parametrize("interval, expected", [
    (Interval(65.0, 61.0, 69.0, 3, "t"), "met"),
    (Interval(55.0, 50.0, 59.9, 3, "t"), "not met"),
    (Interval(59.9, 50.6, 69.3, 3, "t"), "inconclusive: the interval contains the bar"),
    (Interval(60.0, 60.0, 70.0, 3, "t"), "met"),  # a bound on the bar counts as on its side
    (Interval(61.0, None, None, 1, "one seed"), "met on one run (no interval)"),
    (Interval(59.0, None, None, 1, "one seed"), "not met on one run (no interval)"),
    (None, "pending"),
])
def test_status_applies_one_rule(interval, expected):
    assert targets.status(interval, 60.0) == expected


def _trajectory(steps, ratios):
    return pd.DataFrame({"alpha steps": steps, "top / uniform": ratios})


def test_steps_to_reach_inverts_an_exact_power_law():
    a, b = 1e-4, 1.2  # top/uniform - 1 = a * steps^b reaches 0.5 at (0.5 / a)^(1 / b)
    steps = [100 * (i + 1) for i in range(8)]
    found = targets.steps_to_reach(_trajectory(steps, [1 + a * s ** b for s in steps]), bar=1.5)
    assert found == pytest.approx((0.5 / a) ** (1 / b), rel=1e-9)


def test_steps_to_reach_returns_the_first_measured_epoch_past_the_bar():
    assert targets.steps_to_reach(_trajectory([10, 20, 30, 40], [1.1, 1.6, 1.4, 1.8]), bar=1.5) == 20


def test_steps_to_reach_needs_four_epochs_and_a_rising_curve():
    assert targets.steps_to_reach(_trajectory([10, 20, 30], [1.01, 1.02, 1.03])) is None
    assert targets.steps_to_reach(_trajectory([10, 20, 30, 40], [1.04, 1.03, 1.02, 1.01])) is None


def _search(epochs_top: list[float], n_search: int = 640, batch: int = 64, seconds: float = 50.0,
            device: str = "cpu") -> Record:
    config = {"data": {"n_search": n_search}, "search": {"batch": batch, "epochs": len(epochs_top)}}
    diagnostics = [{"top_over_uniform": {"normal": [v, v], "reduce": [v]}} for v in epochs_top]
    hardware = {"device": device, **({"accelerator": "NVIDIA H200"} if device == "cuda" else {})}
    return Record("darts_cifar10", "k", config, {"search_diagnostics": diagnostics, "search_seconds": seconds},
                  {"hardware": hardware})


def test_search_trajectory_counts_alpha_steps_per_epoch():
    frame = targets.search_trajectory(_search([1.01, 1.02, 1.05]))
    assert list(frame["alpha steps"]) == [10, 20, 30]  # 640 // 64 = 10 steps per epoch
    assert list(frame["top / uniform"]) == pytest.approx([1.01, 1.02, 1.05])


def test_seconds_per_alpha_step_gives_fastest_and_median():
    records = [_search([1.0] * 2, seconds=s) for s in (40.0, 100.0, 60.0)]  # 20 steps each
    on_a_gpu = _search([1.0] * 2, seconds=4.0, device="cuda")  # not a one-core time: left out
    assert targets.seconds_per_alpha_step(records + [on_a_gpu]) == pytest.approx((2.0, 3.0))


def _row(loss: str = "lstm", authors: bool = False) -> LamanasConfig:
    learned = {} if loss == "ce" else {"loss": loss, "residual": True, "proxy": "mse", "authors_code": authors}
    return LamanasConfig.for_profile("smoke", seed=2, device="cpu", **learned)


def _initial_norm(cfg: LamanasConfig, tmp_path) -> float:
    """||phi_0|| as the run itself draws it (the oracle)."""
    return float(lamanas.initial_meta_parameters(cfg, torch.device("cpu"), Checkpoint(tmp_path / "x.pt")).phi_0.norm())


def _lamanas(loss: str, moved: float, authors: bool = False, meta_epochs: int | None = None) -> Record:
    config = result_fields(_row(loss, authors))
    if meta_epochs is not None:
        config["reptile"]["meta_epochs"] = meta_epochs
    return Record("lamanas", "k", config, {"phi_change_total": moved}, {})


def test_phi_movement_is_relative_to_the_runs_initial_norm_and_skips_other_runs(tmp_path):
    norm = _initial_norm(_row(), tmp_path)
    runs = [_lamanas("lstm", 0.5), _lamanas("ce", 0.0), _lamanas("lstm", 0.0, authors=True), _lamanas("lstm", 0.0, meta_epochs=0)]
    assert targets.phi_relative_movement(runs) == pytest.approx([0.5 / norm])
    assert not math.isclose(norm, 0.0)


def test_over_seeds_is_a_t_interval_and_drops_failed_runs():
    runs = [Record("x", "k", {}, {"acc": v}, {}) for v in (50.0, 60.0, 70.0)]
    runs.append(Record("x", "k", {}, {"acc": 0.0}, {}, status="diverged"))
    found = targets.over_seeds(runs, "acc")
    assert (found.estimate, found.n) == (60.0, 3)
    assert found.high - found.estimate == pytest.approx(4.302652729911275 * 10.0 / math.sqrt(3))  # t_{0.975, 2}
    assert targets.over_seeds([], "acc") is None


def test_trajectory_plot_extends_the_fit_to_the_bar():
    from lib.plots.scaling import plot_search_trajectory
    steps = [100 * (i + 1) for i in range(8)]
    fig = plot_search_trajectory(_trajectory(steps, [1 + 1e-4 * s ** 1.2 for s in steps]), bar=1.5)
    measured, fitted = fig.axes[0].lines[:2]
    assert list(measured.get_xdata()) == steps
    assert fitted.get_ydata()[-1] == pytest.approx(1.5)
    assert fitted.get_xdata()[-1] == pytest.approx((0.5 / 1e-4) ** (1 / 1.2))


def test_trajectory_plot_marks_where_the_profiles_searches_end():
    from lib.plots.scaling import plot_search_trajectory
    steps = [100 * (i + 1) for i in range(8)]
    here = targets.ProfileSearch("cpu", 200, Interval(1.02, 1.01, 1.03, 3, "t"), [])
    fig = plot_search_trajectory(_trajectory(steps, [1 + 1e-4 * s ** 1.2 for s in steps]), bar=1.5, here=here)
    marker = next(c for c in fig.axes[0].containers if c.get_label().startswith("the cpu profile's searches"))
    assert list(marker.lines[0].get_xdata()) == [200] and list(marker.lines[0].get_ydata()) == [1.02]
    (low, high), = [seg[:, 1] for seg in marker.lines[2][0].get_segments()]
    assert (low, high) == (pytest.approx(1.01), pytest.approx(1.03))
    assert "(3 seeds, 95% interval)" in marker.get_label()


def test_profile_search_reads_the_baseline_runs_over_seeds():
    runs = [Record("lnas", "k", {}, {"alpha_top_over_uniform": v}, {}) for v in (1.01, 1.02, 1.03)]
    found = targets.profile_search("smoke", runs)
    assert (found.leaves.estimate, found.leaves.n, found.records) == (pytest.approx(1.02), 3, runs)
    from lib.experiments import lnas_sweep, scaling
    sweep = lnas_sweep.Sweep.for_profile("smoke", ["baseline"], seeds=targets.SEEDS)
    assert found.alpha_steps == scaling.search_steps(result_fields(sweep.config("baseline")))
    assert targets.profile_search("smoke", []).leaves is None


def _curve(moved: list[float], loss: str = "lstm") -> Record:
    row = result_fields(_row(loss))
    points = [{"meta_epoch": e, "tasks_seen": 4 * e, "phi_distance_from_init": m, "meta_train_seconds": 30.0 * e}
              for e, m in zip((0, 1, 2, 4, 8), [0.0, *moved])]
    return Record("lamanas_curve", "k", {}, {"row_config": row, "curve": points}, {})


def test_phi_reach_extrapolates_the_relative_movement_and_its_cost(tmp_path, monkeypatch):
    norm = _initial_norm(_row(), tmp_path)
    a, b = 1e-4, 0.5  # phi moved / |phi_0| = a * tasks^b reaches 1% at (0.01 / a)^(1 / b) tasks
    tasks = [4, 8, 16, 32]
    monkeypatch.setattr(targets, "paper_tasks", lambda: 400)
    monkeypatch.setattr(targets, "paper_updates", lambda: 50)
    curves = [_curve([a * t ** b * norm for t in tasks]), _curve([0.0] * 4, loss="ce")]
    text = targets.phi_reach(curves)
    # the row's meta-batch is 2 at smoke: updates = tasks / 2, so phi = a * (2 * updates)^b; at 50 updates
    # a * 100^0.5 = 10 a; at 400 tasks a * 20
    assert targets.phi_at_paper_scale(curves) == [(_row().supernet.C, pytest.approx(a * 20), pytest.approx(a * 10))]
    needed = (targets.PHI_BAR / a) ** (1 / b)
    hours = needed * 7.5 / 3600  # 30 s per meta-epoch of 4 tasks
    assert text == (f"C={_row().supernet.C}, measured to 32 tasks ({a * 32 ** b:.2%}): about {needed:,.0f} meta-training "
                    f"tasks, {hours:,.0f} one-core hours (power law fitted to the later half of the points, at least 3 of "
                    f"them, of a curve of 4 or more); at the paper profile's 400 tasks the fit gives {a * 20:.2%}, and "
                    f"{a * 10:.2%} at its 50 meta-updates of our meta-batch of 2")
    assert targets.phi_reach([]) == "pending: the learned-loss learning curves"
    short = targets.phi_reach([_curve([a * t ** b * norm for t in tasks[:3]])])  # 3 meta-trained points: no fit
    assert short.endswith("3 meta-trained points, too few to extrapolate (a curve needs 4 or more)")


def test_the_scorecard_quotes_the_numbers_the_targets_table_shows(tmp_path, monkeypatch):
    """Finding 4 of the scorecard and the scaling chapter's targets table read one fit (stale curves left out)."""
    from lib.report.scorecard import build

    norm = _initial_norm(_row(), tmp_path)
    curve = _curve([1e-4 * t ** 0.5 * norm for t in (4, 8, 16, 32)])
    stale = Record("lamanas_curve", "s", {}, curve.metrics, {}, mark="stale: computed with code X, now Y")
    monkeypatch.setattr(targets, "paper_tasks", lambda: 400)
    monkeypatch.setattr(targets, "paper_updates", lambda: 50)
    monkeypatch.setattr(build.scaling, "stored_records", lambda profile: [curve, stale])
    monkeypatch.setattr(build.targets, "phi_relative_movement", lambda records: [0.001])
    evidence = type("Ev", (), {"records": [Record("lamanas", "k", result_fields(_row()), {}, {})], "profile": "smoke"})
    card = type("Card", (), {"lamanas_evidence": evidence})
    shown = targets.phi_reach(targets.lamanas_curves([curve, stale]))
    assert "gives 0.20%, and 0.10% at its 50 meta-updates" in shown  # 1e-4 * 400^0.5 and 1e-4 * (2 * 50)^0.5
    assert build._phi_scale(card).count("0.20% by tasks, 0.10% by meta-updates") == 1  # the stale copy is not quoted


def test_a_power_law_is_fitted_to_at_least_three_points():
    assert targets.power_law([1, 2, 4, 8], [50, 2, 4, 8]) == (pytest.approx(1.0), pytest.approx(1.0))  # first point ignored
    a, b = targets.power_law([1, 2, 4, 8], [50, 3, 4, 8])
    # the least-squares slope in log2-log2 over (1, log2 3), (2, 2), (3, 3), by hand: sum(dx * dy) / sum(dx^2)
    ys = [math.log2(3), 2.0, 3.0]
    assert b == pytest.approx(((-1) * (ys[0] - sum(ys) / 3) + 1 * (ys[2] - sum(ys) / 3)) / 2)  # not 1: the 3rd point counts
