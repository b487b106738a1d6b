"""Intervals drawn over seeds stay inside what the quantity can be, and a mean of two seeds shows both seeds.

The oracle is computed by hand here: at n=2 the 95% t quantile (1 degree of freedom, a Cauchy distribution) is
tan(0.475 pi) = 12.706, the sample standard deviation of [0, 100] is 100 / sqrt(2), and the half-width is
quantile * sd / sqrt(2) = 635.3: the raw interval of [0, 100] is [-585.3, 685.3].
"""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt

from lib.pipeline.results import Record
from lib.report.seeds import NON_NEGATIVE, PERCENT
from lib.plots import bands, lamanas as lamanas_plots, lnas as lnas_plots

T_975_DF1 = math.tan(0.475 * math.pi)  # 12.7062...: Student t with one degree of freedom is the Cauchy
HALF = T_975_DF1 * (100 / math.sqrt(2)) / math.sqrt(2)  # values [0, 100]: sd = 70.71, n = 2
MARGIN = 5.0  # matplotlib's default 5% margin of a 0-100 data range


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _seed_rings(ax) -> list:
    """The seed-value artists of ``ax`` (hollow markers), one per seed."""
    return [line for line in ax.lines if line.get_markerfacecolor() == "none"]


def _two_seeds() -> pd.DataFrame:
    """One collapsed seed (0%) and one working seed (100%) at epoch 1; the same seeds and a third at epoch 2."""
    return pd.DataFrame({"seed": [0, 1, 0, 1, 2], "epoch": [1, 1, 2, 2, 2], "acc": [0.0, 100.0, 40.0, 60.0, 50.0]})


def test_the_oracle_is_the_raw_t_interval():
    assert T_975_DF1 == pytest.approx(12.706, abs=1e-3)
    raw = bands.over_seeds(_two_seeds(), "epoch", "acc").set_index("epoch")
    assert raw.loc[1, ["low", "high"]].tolist() == pytest.approx([50 - HALF, 50 + HALF])
    assert raw.loc[1, "low"] == pytest.approx(-585.3, abs=0.1)


def test_an_accuracy_interval_is_clipped_to_0_100():
    stats = bands.over_seeds(_two_seeds(), "epoch", "acc", PERCENT).set_index("epoch")
    assert stats.loc[1, ["mean", "low", "high", "n"]].tolist() == [50.0, 0.0, 100.0, 2]
    raw = bands.over_seeds(_two_seeds(), "epoch", "acc").set_index("epoch")
    assert stats.loc[2].tolist() == raw.loc[2].tolist()  # 3 seeds, [25.2, 74.8]: inside the range, not clipped


def test_a_narrow_interval_is_left_alone_by_the_clip():
    curves = pd.DataFrame({"seed": [0, 1, 2], "epoch": [1, 1, 1], "acc": [50.0, 52.0, 54.0]})
    clipped, raw = (bands.over_seeds(curves, "epoch", "acc", s) for s in (PERCENT, None))
    pd.testing.assert_frame_equal(clipped, raw)


def test_a_non_negative_quantity_is_clipped_below_only():
    curves = pd.DataFrame({"seed": [0, 1], "epoch": [1, 1], "loss": [0.0, 100.0]})
    stats = bands.over_seeds(curves, "epoch", "loss", NON_NEGATIVE)
    assert stats.loc[0, "low"] == 0.0 and stats.loc[0, "high"] == pytest.approx(50 + HALF)


def test_error_bars_of_an_accuracy_are_clipped_to_0_100():
    mean, low, high = pd.Series([50.0, 70.0]), pd.Series([50 - HALF, np.nan]), pd.Series([50 + HALF, np.nan])
    below, above = bands.error_bars(mean, low, high, PERCENT)
    assert below.tolist() == [50.0, 0.0] and above.tolist() == [50.0, 0.0]
    below, above = bands.error_bars(mean, low, high)
    assert below[0] == pytest.approx(HALF) and above[0] == pytest.approx(HALF)


def test_band_of_an_accuracy_stays_in_0_100_and_draws_both_seeds_where_n_is_2():
    fig, ax = plt.subplots()
    bands.band(ax, _two_seeds(), "epoch", "acc", "row", PERCENT)
    assert ax.lines[0].get_label() == "row (n=2-3)"
    (poly,) = ax.collections
    ys = poly.get_paths()[0].vertices[:, 1]
    assert ys.min() == 0.0 and ys.max() == 100.0
    low, high = ax.get_ylim()
    assert -MARGIN <= low and high <= 100 + MARGIN
    rings = _seed_rings(ax)  # a line per seed, NaN where the mean rests on more seeds
    assert [list(r.get_xdata()) for r in rings] == [[1.0, 2.0], [1.0, 2.0]]
    ys = np.array([r.get_ydata() for r in rings])  # (seeds, epochs)
    assert ys[:, 0].tolist() == [0.0, 100.0] and np.isnan(ys[:, 1]).all()  # epoch 2 rests on 3 seeds: none drawn
    assert "_seed" not in [text.get_text() for text in ax.legend().get_texts()]


def test_one_seed_draws_neither_band_nor_seed_values():
    fig, ax = plt.subplots()
    bands.band(ax, pd.DataFrame({"seed": [0, 0], "epoch": [1, 2], "acc": [10.0, 20.0]}), "epoch", "acc", "row",
               PERCENT)
    assert ax.lines[0].get_label() == "row (n=1)" and not _seed_rings(ax)


def _lnas_run(variant: str, sparsity, seed: int, curve: list[float]) -> dict:
    history = [{"epoch": e + 1, "val_acc": v} for e, v in enumerate(curve)]
    return {"variant": variant, "sparsity": sparsity, "seed": seed, "val_acc_final": max(curve),
            "record": Record("lnas", f"{variant}{sparsity}{seed}", {}, {"train_history": history}, {})}


def test_lnas_curves_of_a_collapsed_and_a_working_seed_keep_the_axis_on_accuracies():
    per_run = pd.DataFrame([_lnas_run("Variant 1", 0.5, 0, [10.0, 2.0, 1.0]),
                            _lnas_run("Variant 1", 0.5, 1, [30.0, 60.0, 90.0]),
                            _lnas_run("Baseline", "N/A", 0, [31.0, 33.0, 35.0])])
    fig = lnas_plots.plot_curves(per_run)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert -MARGIN <= low and high <= 100 + MARGIN
    assert all(0.0 <= y <= 100.0 for c in ax.collections for p in c.get_paths() for y in p.vertices[:, 1])
    assert [list(r.get_ydata()) for r in _seed_rings(ax)] == [[10.0, 2.0, 1.0], [30.0, 60.0, 90.0]]
    assert [line.get_label() for line in ax.lines if line not in _seed_rings(ax)] == \
        ["p=0.5 (n=2)", "baseline (unpruned) (n=1)"]
    assert bands.SEED_BAND == fig._suptitle.get_text() and "clipped to the possible range" in bands.SEED_BAND


def test_lnas_generalized_clips_bars_and_shows_the_seeds_of_a_two_seed_point():
    per_run = pd.DataFrame([{"variant": "Variant 1", "sparsity": 0.5, "seed": s, "val_acc_final": v}
                            for s, v in ((0, 0.0), (1, 100.0))]
                           + [{"variant": "Baseline", "sparsity": "N/A", "seed": s, "val_acc_final": v}
                              for s, v in ((0, 0.0), (1, 100.0))])
    data = pd.DataFrame([{"variant": v, "sparsity": p, "val_acc_final": 50.0, "val_acc_final_low": 50 - HALF,
                          "val_acc_final_high": 50 + HALF} for v, p in (("Variant 1", 0.5), ("Baseline", "N/A"))])
    fig = lnas_plots.plot_generalized(data, per_run)
    ax = fig.axes[0]
    bars = [c for c in ax.collections if hasattr(c, "get_segments") and c.get_segments()]
    assert [s[:, 1].tolist() for s in bars[0].get_segments()] == [[0.0, 100.0]]
    assert [(list(r.get_xdata()), list(r.get_ydata())) for r in _seed_rings(ax)] == [([0.5], [0.0]), ([0.5], [100.0])]
    dotted = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert sorted(line.get_ydata()[0] for line in dotted) == [0.0, 100.0]  # the baseline's two seeds
    low, high = ax.get_ylim()
    assert -MARGIN <= low and high <= 100 + MARGIN
    assert bands.SEED_BARS in ax.get_title(loc="left") and bands.SEED_RINGS in ax.get_title(loc="left")


def test_lamanas_bars_are_clipped_and_show_each_of_two_seeds():
    labels = {"loss_network": "FNN", "residual": "Yes", "loss_proxy": "MSE"}
    data = pd.DataFrame([{**labels, "test_acc (report)": 40.0, "test_acc": 50.0, "test_acc_low": 50 - HALF,
                          "test_acc_high": 50 + HALF, "test_acc_n": 2, "test_acc_authors_code": 28.0,
                          "test_acc_authors_code_low": np.nan, "test_acc_authors_code_high": np.nan}])
    runs = pd.DataFrame([{**labels, "code": "ours", "seed": s, "test_acc": v} for s, v in ((0, 0.0), (1, 100.0))]
                        + [{**labels, "code": "authors", "seed": 0, "test_acc": 28.0}])
    fig = lamanas_plots.plot_test_accuracy(data, ways=20, runs=runs)
    ax = fig.axes[0]
    segments = [c for c in ax.collections if c.get_segments()]
    assert [s[:, 0].tolist() for s in segments[0].get_segments()] == [[0.0, 100.0]]
    rings = _seed_rings(ax)  # at the "ours" bar of row 0 (position 0); the authors' bar rests on one seed: none
    assert [(list(r.get_xdata()), list(r.get_ydata())) for r in rings] == [([0.0], [0.0]), ([100.0], [0.0])]
    assert bands.SEED_BARS in ax.get_xlabel() and bands.SEED_RINGS in ax.get_xlabel()
    assert ax.get_xlim() == (0.0, 100.0)


def test_lamanas_training_curves_of_a_collapsed_and_a_working_seed_stay_in_0_100():
    rows = []
    for seed, curve in ((0, [2.0, 1.0]), (1, [60.0, 95.0])):
        history = [{"epoch": e + 1, "query_acc": v, "train_acc_running": v} for e, v in enumerate(curve)]
        rows.append({"loss_network": "FNN", "residual": "Yes", "loss_proxy": "MSE", "code": "ours", "seed": seed,
                     "record": Record("lamanas", f"k{seed}", {}, {"history": history}, {})})
    fig = lamanas_plots.plot_training(pd.DataFrame(rows))
    for ax in fig.axes:
        low, high = ax.get_ylim()
        assert -MARGIN <= low and high <= 100 + MARGIN
        assert ax.lines[0].get_label() == "FNN, residual, MSE (n=2)" and len(_seed_rings(ax)) == 2
