"""Figures of means draw their 95% interval (bands over seeds, bars over seeds or tasks) and say which one."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from scipy import stats as sps

from lib.pipeline.results import Record
from lib.plots import bands, lamanas as lamanas_plots, lnas as lnas_plots, scaling as scaling_plots


def _t95(values: list[float]) -> tuple[float, float]:
    """Independent oracle: scipy's t interval of the mean."""
    x = np.asarray(values)
    return sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))


def test_over_seeds_gives_the_t_interval_per_x_and_none_for_one_seed():
    curves = pd.DataFrame({"seed": [0, 1, 2, 0], "epoch": [1, 1, 1, 2], "acc": [10.0, 14.0, 15.0, 20.0]})
    stats = bands.over_seeds(curves, "epoch", "acc").set_index("epoch")
    assert stats.loc[1, ["low", "high"]].tolist() == pytest.approx(_t95([10.0, 14.0, 15.0]))
    assert stats.loc[1, "n"] == 3 and stats.loc[2, "n"] == 1
    assert np.isnan(stats.loc[2, "low"]) and stats.loc[2, "mean"] == 20.0


def test_band_draws_the_interval_and_labels_n():
    fig, ax = plt.subplots()
    curves = pd.DataFrame({"seed": [0, 1, 2] * 2, "epoch": [1] * 3 + [2] * 3, "acc": [1.0, 2.0, 4.0, 3.0, 5.0, 4.0]})
    bands.band(ax, curves, "epoch", "acc", "row")
    assert ax.lines[0].get_label() == "row (n=3)"
    (poly,) = ax.collections
    ys = poly.get_paths()[0].vertices[:, 1]
    low, high = _t95([1.0, 2.0, 4.0])
    assert ys.min() == pytest.approx(min(low, _t95([3.0, 5.0, 4.0])[0]))
    assert ys.max() == pytest.approx(max(high, _t95([3.0, 5.0, 4.0])[1]))
    plt.close(fig)


def test_error_bars_are_zero_where_there_is_no_interval():
    low, high = bands.error_bars(pd.Series([5.0, 7.0]), pd.Series([4.0, np.nan]), pd.Series([6.5, np.nan]))
    assert low.tolist() == [1.0, 0.0] and high.tolist() == [1.5, 0.0]


def _lnas_run(variant: str, sparsity, seed: int, curve: list[float]) -> dict:
    history = [{"epoch": e + 1, "val_acc": v} for e, v in enumerate(curve)]
    metrics = {"train_history": history}
    if variant == "Variant 1":
        metrics["weight_pruning_log"] = [{"epoch": 2}]
    return {"variant": variant, "sparsity": sparsity, "seed": seed, "record": Record("lnas", f"{variant}{seed}", {}, metrics, {})}


def test_lnas_curves_band_over_seeds_and_curve_claims_with_intervals():
    from lib.report import lnas

    per_run = pd.DataFrame([_lnas_run("Variant 1", 0.5, s, [30.0 + s, 20.0 + 2 * s, 25.0 + s]) for s in range(3)]
                           + [_lnas_run("Baseline", "N/A", 0, [31.0, 33.0, 35.0])])
    fig = lnas_plots.plot_curves(per_run)
    ax = fig.axes[0]
    assert ax.get_title() == "Variant 1 (n=3 seed(s) per sparsity)"
    assert [line.get_label() for line in ax.lines] == ["p=0.5 (n=3)", "baseline (unpruned) (n=1)"]
    assert len(ax.collections) == 2  # the band of p=0.5; the baseline's one seed gives an empty band
    plt.close(fig)
    shown, data = lnas.curve_claims(per_run)
    v1 = shown.set_index("variant").loc["Variant 1"]
    drops = [(25.0 + s) - (20.0 + 2 * s) for s in range(3)]  # the log names the first epoch index after the prune
    low, high = _t95(drops)
    assert v1["drop at pruning"] == f"{np.mean(drops):.2f} [{low:.2f}, {high:.2f}] (n=3)"
    assert shown.set_index("variant").loc["Baseline", "drop at pruning"] == "n/a"
    assert data.loc[0, "seeds"] == "0;1;2" and data.loc[0, "drop_at_pruning_low"] == pytest.approx(low)


def test_lnas_curves_with_the_baseline_alone_draw_one_panel():
    fig = lnas_plots.plot_curves(pd.DataFrame([_lnas_run("Baseline", "N/A", 0, [31.0, 33.0, 35.0])]))
    (ax,) = [a for a in fig.axes if a.get_title()]
    assert ax.get_title() == lnas_plots.NO_PRUNED_ROW
    assert [line.get_label() for line in ax.lines] == ["baseline (unpruned) (n=1)"]
    plt.close(fig)


def _lamanas_rows() -> pd.DataFrame:
    rows = []
    for seed in range(3):
        history = [{"epoch": e, "query_acc": 10.0 + e + seed, "train_acc_running": 9.0 + e,
                    "phi_distance_from_init": 0.0, "alpha_distance_from_init": 0.01 * e * (seed + 1),
                    "alpha_top_op_ratio": 1.0 + 0.001 * e} for e in (1, 2)]
        rows.append({"loss_network": "Baseline", "residual": "No", "loss_proxy": "N/A", "code": "ours", "seed": seed,
                     "record": Record("lamanas", f"b{seed}", {}, {"history": history}, {})})
    return pd.DataFrame(rows)


def test_lamanas_training_and_movement_figures_band_over_seeds():
    for plot in (lamanas_plots.plot_training, lamanas_plots.plot_movement):
        fig = plot(_lamanas_rows())
        assert fig._suptitle.get_text() == bands.SEED_BAND
        assert all(ax.lines[0].get_label() == "Baseline (n=3)" and ax.collections for ax in fig.axes)
        plt.close(fig)


def test_lamanas_test_accuracy_bars_carry_the_seed_interval():
    data = pd.DataFrame([{"loss_network": "FNN", "residual": "Yes", "loss_proxy": "MSE", "test_acc (report)": 40.0,
                          "test_acc": 30.0, "test_acc_low": 25.0, "test_acc_high": 35.0, "test_acc_n": 3,
                          "test_acc_authors_code": 28.0, "test_acc_authors_code_low": np.nan,
                          "test_acc_authors_code_high": np.nan}])
    fig = lamanas_plots.plot_test_accuracy(data, ways=20)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["FNN, residual, MSE (n=3)"]
    segments = [c for c in ax.collections if c.get_segments()]
    assert [s[:, 0].tolist() for s in segments[0].get_segments()] == [[25.0, 35.0]]
    assert bands.SEED_BARS in ax.get_xlabel()
    plt.close(fig)


def test_scaling_table_says_which_interval_each_point_has():
    points = [{"curve": "lamanas", "series": "baseline", "x": 4, "status": "done", "y": 50.0, "cost_s": 60.0,
               "cost": "measured", "accuracies": [40.0, 50.0, 60.0]},
              {"curve": "lnas_search", "series": "DARTS", "x": 8, "status": "done", "y": 47.0, "cost_s": 60.0,
               "cost": "measured"}]
    table = scaling_plots.table(points)
    assert table.loc[0, "interval"].endswith("over 3 meta-test tasks")
    assert table.loc[1, "interval"] == scaling_plots.NO_INTERVAL
    assert table["x is"].tolist() == ["meta-training tasks seen", "alpha steps of the search"]
    fig = scaling_plots.plot_scaling(points)
    assert scaling_plots.TASK_BARS in fig.axes[0].get_title() and scaling_plots.ONE_RUN in fig.axes[2].get_title()
    plt.close(fig)


def test_scaling_costs_go_to_the_legend_where_curves_share_a_panel():
    lamanas = [{"curve": "lamanas", "series": name, "x": x, "status": "done", "y": 40.0 + x, "cost_s": cost,
                "cost": "measured", "phi_distance": 0.01 * x, "accuracies": [30.0, 40.0, 50.0]}
               for name, runs in (("baseline", ((0, 600.0), (4, 1380.0))), ("lstm", ((0, 660.0), (4, 660.0))))
               for x, cost in runs]
    lnas = [{"curve": "lnas_search", "series": "DARTS", "x": 8, "status": "done", "y": 47.0, "cost_s": 300.0,
             "cost": "measured", "top_over_uniform": 1.1}]
    fig = scaling_plots.plot_scaling(lamanas + lnas)
    accuracy, phi, search = fig.axes[:3]
    assert [t.get_text() for t in phi.get_legend().get_texts()] == ["baseline (10-23 min each)", "lstm (11 min each)"]
    assert [t.get_text() for t in accuracy.get_legend().get_texts()] == ["target (60%)"]  # its series: phi's legend
    assert not accuracy.texts and not phi.texts  # no cost labels above shared-panel points
    assert [t.get_text() for t in search.texts] == ["5m"]  # one series: its cost above the point
    plt.close(fig)


def test_cost_labels_of_close_points_alternate_rows():
    assert scaling_plots.staggered([50, 200, 468, 1248, 2340]) == [0, 1, 0, 0, 0]  # 150 < 8% of 2,290; 268 is not
    assert scaling_plots.staggered([0, 1, 2, 100]) == [0, 1, 0, 0]  # a run of close points alternates
    assert scaling_plots.staggered([]) == [] and scaling_plots.staggered([5.0]) == [0]
