"""The collapse diagnostic (lib/report/collapse.py): phi_0 rebuilt as the run builds it, the far slope against
the loss itself, the Cauchy-Schwarz bound at its worst case, and the table's prediction and outcome."""

import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from lib.experiments import lamanas
from lib.experiments.lamanas_config import LamanasConfig
from lib.experiments.lamanas_sweep import shared_view
from lib.meta.losses import FNNLoss, LSTMLoss
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import Record, result_fields
from lib.report import collapse


def _config(loss: str = "fnn", seed: int = 3, residual: bool = True) -> LamanasConfig:
    return LamanasConfig.for_profile("smoke", loss=loss, residual=residual, proxy="mse", seed=seed)


@pytest.mark.parametrize("loss", ["fnn", "lstm"])
def test_initial_loss_network_is_the_runs_phi_0(loss, tmp_path):
    cfg = _config(loss)
    run = lamanas.initial_meta_parameters(cfg, torch.device("cpu"), Checkpoint(tmp_path / "run.ckpt.pt"))
    rebuilt = collapse.initial_loss_network(result_fields(cfg))
    assert torch.equal(lamanas.phi_vector(rebuilt), run.phi_0)


@pytest.mark.parametrize("make", [lambda: FNNLoss(5, residual=True), lambda: LSTMLoss(5, residual=True)])
def test_far_slope_is_the_loss_rate_in_the_cross_entropy(make):
    torch.manual_seed(0)
    net = make()
    with torch.no_grad():  # fc1 constant and large: ELU is linear, and h + CE moves only with the CE
        net.fc1.weight.zero_()
        net.fc1.bias.fill_(10.0)
    labels = torch.tensor([0, 1, 2])
    wrong = F.one_hot((labels + 1) % 5, 5).float()
    low, high = wrong * 2.0, wrong * 6.0
    rate = (net(high, labels) - net(low, labels)) / (F.cross_entropy(high, labels) - F.cross_entropy(low, labels))
    assert float(rate.detach()) == pytest.approx(collapse.far_slope(net), rel=1e-5)


def test_slope_change_bound_is_reached_by_a_move_along_ones():
    torch.manual_seed(0)
    net = FNNLoss(5, residual=True)
    before, moved = collapse.far_slope(net), 0.3
    with torch.no_grad():  # the move of L2 norm `moved` that changes sum(fc2) the most
        net.fc2.weight.add_(moved / math.sqrt(net.fc2.weight.numel()))
    assert collapse.far_slope(net) - before == pytest.approx(collapse.slope_change_bound(net, moved))


BEFORE, AFTER = "2026-11-26T08:00:00+00:00", "2026-11-26T08:20:00+00:00"  # around the rule's commit (08:10:56)


def _record(cfg: LamanasConfig, accuracy: float, moved: float, finished: str = BEFORE,
            tasks: list[float] | None = None) -> Record:
    """A finished run; its meta-test tasks all at ``accuracy`` unless ``tasks`` is given (then its mean)."""
    tasks = tasks or [accuracy] * 4
    metrics = {"test_acc": sum(tasks) / len(tasks), "test_accuracies": tasks, "phi_change_total": moved,
               "test_learned_loss": -5.0, "test_query_ce": 9.0}
    return Record("lamanas", "k", result_fields(cfg), metrics, {"date": finished})


def test_table_predicts_from_the_sign_and_skips_non_residual_runs():
    seeds = {s: collapse.far_slope(collapse.initial_loss_network(result_fields(_config(seed=s)))) for s in range(8)}
    negative = next(s for s, v in seeds.items() if v < 0)
    positive = next(s for s, v in seeds.items() if v > 0)
    records = [_record(_config(seed=negative), 2.0, 0.0), _record(_config(seed=positive), 2.0, 100.0, AFTER),
               _record(_config(residual=False), 2.0, 0.0)]
    view = shared_view(_record(_config(seed=negative), 2.0, 0.0), "inner_product")  # the same run again
    frame = collapse.table(records + [view], [result_fields(_config(loss="lstm", seed=negative))], chance=20.0)
    assert list(frame["sign says"]) == ["below", "above", "below"]
    assert list(frame["outcome"]) == ["below", "below", "pending"]
    assert list(frame["sign kept"][:2]) == ["yes", "no"]  # phi moved 100: the bound exceeds any |sum|
    assert list(frame["new"][:2]) == ["no", "yes"]
    text = collapse.summary(frame)
    assert text.startswith("In 1 of 2 finished") and "(2 below chance)" in text
    assert (f"commit a4ead7e): 0 of 1 runs predicted; 0 of the 1 initial loss networks not seen when the rule was "
            f"written (FNN seed {positive})") in text
    other_proxy = LamanasConfig.for_profile("smoke", loss="fnn", residual=True, proxy="inner_product", seed=negative)
    twins = collapse.table([records[0], _record(other_proxy, 2.0, 0.0)], [], chance=20.0)
    assert collapse.draws(twins) == 1  # the same seed and loss network with another proxy: the same phi_0


def test_scorecard_finding_counts_the_cached_runs():
    from lib.report.scorecard.build import _collapse_finding
    assert "pending" in _collapse_finding([])
    negative = next(s for s in range(8) if collapse.far_slope(collapse.initial_loss_network(result_fields(_config(seed=s)))) < 0)
    other_proxy = LamanasConfig.for_profile("smoke", loss="fnn", residual=True, proxy="inner_product", seed=negative)
    text = _collapse_finding([_record(_config(seed=negative), 2.0, 0.0, AFTER), _record(other_proxy, 2.0, 0.0, AFTER)])
    assert text.endswith("2 of 2 cached residual runs fell below chance (their interval over meta-test tasks entirely "
                         "below it), and the sign predicted 2 of the 2 outcomes (2 of the 2 runs made after the rule was "
                         f"written down; 1 of the 1 initial loss networks not seen when the rule was written (FNN seed "
                         f"{negative}), the independent tests (runs differing only in the proxy share one)).")


def test_prediction_states_the_side_of_the_slope():
    for s in range(4):
        fields = result_fields(_config(seed=s))
        slope = collapse.far_slope(collapse.initial_loss_network(fields))
        assert collapse.prediction(fields) == f"{'below' if slope < 0 else 'above'} chance (sum fc2 at initialisation {slope:+.2f})"


def test_scorecard_comparison_counts_the_runs_below_chance():
    from lib.report import lamanas as report
    from lib.report.scorecard import lamanas as card

    def run(loss: str, seed: int, accuracy: float) -> Record:
        cfg = LamanasConfig.for_profile("smoke", seed=seed, **({} if loss == "ce" else
                                                               {"loss": loss, "residual": True, "proxy": "inner_product"}))
        return Record("lamanas", "k", result_fields(cfg), {"test_acc": accuracy, "train_acc": accuracy,
                                                           "test_accuracies": [accuracy] * 4}, {})

    chance = 100 / LamanasConfig.for_profile("smoke").data.ways
    runs = report.run_rows([run("lstm", 0, chance / 2), run("lstm", 1, 60.0), run("ce", 0, 50.0), run("ce", 1, 55.0)])
    verdict = card.CLAIMS["A11"](runs, "smoke", None)
    assert verdict.ours.endswith("LSTM / Yes / Inner product: 1 of 2 runs below chance (its initial loss slope)")
    assert "Baseline" not in verdict.ours.split("; ")[-1]
    label = card.collapsed_label(runs)  # and the Table 1 accuracy cells of that row say it beside our value
    lstm, accuracy, size = pd.Series(dict(zip(report.KEYS, ("LSTM", "Yes", "Inner product")))), *card.COLUMNS[::2]
    assert label(lstm, accuracy) == "1 of 2 runs below chance (its initial loss slope)"
    assert label(lstm, size) == ""  # a parameter count is not what collapsed
    assert label(pd.Series(dict(zip(report.KEYS, ("Baseline", "No", "N/A")))), accuracy) == ""


def test_only_a_residual_rows_runs_below_chance_are_put_down_to_the_initial_slope():
    from lib.report import lamanas as report
    from lib.report.scorecard import lamanas as card

    def run(residual: bool, seed: int, tasks: list[float]) -> Record:
        cfg = LamanasConfig.for_profile("smoke", seed=seed, loss="lstm", residual=residual, proxy="inner_product")
        return Record("lamanas", "k", result_fields(cfg), {"test_acc": sum(tasks) / len(tasks), "train_acc": 1.0,
                                                           "test_accuracies": tasks}, {})

    chance = 100 / LamanasConfig.for_profile("smoke").data.ways  # 20% (5 ways)
    # [1, 3]: mean 2, s = sqrt(2), 2 +- 1.96 (entirely below 20); [10, 26]: mean 18, s = 8 sqrt(2), 18 +- 15.7 (reaches 20)
    assert chance == 20.0
    runs = report.run_rows([run(True, 0, [1.0, 3.0]), run(True, 1, [60.0, 62.0]), run(False, 0, [1.0, 3.0]),
                            run(False, 1, [10.0, 26.0])])
    pair = [(("LSTM", "Yes", "Inner product"), ("LSTM", "No", "Inner product"))]
    shown = card._compare(runs, "smoke", None, pair).ours.split("; ")[1:]
    assert shown == ["LSTM / Yes / Inner product: 1 of 2 runs below chance (its initial loss slope)",
                     "LSTM / No / Inner product: 1 of 2 runs below chance"]  # 18% reaching chance: not counted


def test_an_outcome_whose_interval_reaches_chance_confirms_neither_side():
    negative = next(s for s in range(8) if collapse.far_slope(collapse.initial_loss_network(result_fields(_config(seed=s)))) < 0)
    # tasks [10, 26]: mean 18 below chance 20, but 18 +- 1.96 * 8 sqrt(2) / sqrt(2) = [2.3, 33.7] contains it
    frame = collapse.table([_record(_config(seed=negative), 0.0, 0.0, AFTER, tasks=[10.0, 26.0])], [], chance=20.0)
    assert list(frame["outcome"]) == ["at chance"] and list(frame["sign says"]) == ["below"]
    assert "In 0 of 1 finished" in collapse.summary(frame) and "(1 at chance)" in collapse.summary(frame)


def test_out_of_sample_counts_initial_loss_networks_not_seen_before_the_rule():
    """By hand: FNN s0 (two proxies, both new), LSTM s0 (one run seen before the rule), FNN s1 (new, missed);
    a pending run does not count. Unseen networks: FNN s0 (predicted) and FNN s1 (not): 1 of 2."""
    frame = pd.DataFrame({
        "row": ["FNN, MSE", "FNN, IP", "LSTM, MSE", "LSTM, IP", "FNN, MSE", "LSTM, MSE (authors)"],
        "seed": [0, 0, 0, 0, 1, 2], "sum fc2 at init": [-0.5, -0.5, -1.2, -1.2, 0.6, 0.8],
        "sign says": ["below", "below", "below", "below", "above", "above"],
        "outcome": ["below", "below", "below", "below", "at chance", "pending"],
        "new": ["yes", "yes", "yes", "no", "yes", None]})
    nets = collapse.unseen_networks(frame)
    assert nets.to_dict() == {("FNN", 0, -0.5): True, ("FNN", 1, 0.6): False}
    assert collapse.draws(frame[frame["outcome"] != "pending"]) == 3
    assert collapse.unseen_text(frame).startswith("1 of the 2 initial loss networks not seen when the rule was written "
                                                  "(FNN seed 0; FNN seed 1)")


def test_a_comparison_of_runs_made_on_different_devices_says_so():
    from lib.report import lamanas as report
    from lib.report.scorecard import lamanas as card

    def run(loss: str, seed: int, accuracy: float, hardware: dict) -> Record:
        cfg = LamanasConfig.for_profile("smoke", seed=seed, **({} if loss == "ce" else
                                                               {"loss": loss, "residual": True, "proxy": "inner_product"}))
        return Record("lamanas", "k", result_fields(cfg), {"test_acc": accuracy, "train_acc": accuracy},
                      {"hardware": hardware})

    cpu, gpu = {"device": "cpu"}, {"device": "cuda", "accelerator": "NVIDIA H200"}
    on_cpu = [run("lstm", 0, 60.0, cpu), run("lstm", 1, 62.0, cpu), run("ce", 0, 50.0, cpu), run("ce", 1, 55.0, cpu)]
    assert "different devices" not in card.CLAIMS["A11"](report.run_rows(on_cpu), "smoke", None).basis
    mixed = report.run_rows(on_cpu[:3] + [run("ce", 1, 55.0, gpu)])
    assert "at 1 of 2 seeds the compared runs were made on different devices (CPU and NVIDIA H200)" in card.CLAIMS["A11"](mixed, "smoke", None).basis
    one_device_per_seed = report.run_rows([on_cpu[0], on_cpu[2], run("lstm", 1, 62.0, gpu), run("ce", 1, 55.0, gpu)])
    assert "different devices" not in card.CLAIMS["A11"](one_device_per_seed, "smoke", None).basis
    shown, data = report.our_runs(mixed)
    assert sorted(shown["made on"]) == ["CPU", "CPU, NVIDIA H200"] and list(data["made_on"]) == list(shown["made on"])


def test_the_phi_and_step_tables_give_intervals_over_seeds_clipped_to_what_they_can_be():
    from lib.report import lamanas as report

    def run(seed: int, phi: float, test: float) -> Record:
        metrics = {"test_acc": test, "train_acc": 10.0, "train_acc_last_epoch": 12.0, "test_acc_task_steps": 8.0,
                   "phi_change_total": phi}
        return Record("lamanas", f"k{seed}", result_fields(_config(seed=seed)), metrics, {})

    runs = report.run_rows([run(0, 0.001, 10.0), run(1, 0.05, 30.0)])
    shown, data = report.phi_movement(runs)
    phi = shown.iloc[0]
    assert data.iloc[0]["phi_change_total_low"] == 0.0  # the CSV holds the clipped bound as a number
    # mean 0.0255, sd 0.03465, t(0.975, 1) 12.706 x 0.03465 / sqrt(2) = 0.311: a norm cannot go below 0
    assert phi[report.PHI_MOVED] == "0.0255 [0.0000, 0.3368]" and phi["code"] == "ours"
    steps = report.steps_explain_test_above_train(runs)[0].iloc[0]
    assert steps["test after the test steps (%)"] == "20.0 [0.0, 100.0]"  # 20 +- 127: an accuracy stays in [0, 100]
    assert steps["train, running mean (%)"] == "10.0 [10.0, 10.0]" and steps["seeds"] == "0;1"
