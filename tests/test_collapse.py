"""The collapse diagnostic (lib/report/collapse.py): phi_0 rebuilt as the run builds it, the far slope against
the loss itself, the Cauchy-Schwarz bound at its worst case, and the table's prediction and outcome."""

import math

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


def _record(cfg: LamanasConfig, accuracy: float, moved: float, finished: str = BEFORE) -> Record:
    metrics = {"test_acc": accuracy, "phi_change_total": moved, "test_learned_loss": -5.0, "test_query_ce": 9.0}
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
    assert text.startswith("In 1 of 2 finished") and "commit a4ead7e): 0 of 1 predicted, from 1 distinct" in text
    other_proxy = LamanasConfig.for_profile("smoke", loss="fnn", residual=True, proxy="inner_product", seed=negative)
    twins = collapse.table([records[0], _record(other_proxy, 2.0, 0.0)], [], chance=20.0)
    assert collapse.draws(twins) == 1  # the same seed and loss network with another proxy: the same phi_0


def test_scorecard_finding_counts_the_cached_runs():
    from lib.report.scorecard.build import _collapse_finding
    assert "pending" in _collapse_finding([])
    negative = next(s for s in range(8) if collapse.far_slope(collapse.initial_loss_network(result_fields(_config(seed=s)))) < 0)
    text = _collapse_finding([_record(_config(seed=negative), 2.0, 0.0, AFTER)])
    assert text.endswith("1 of 1 cached residual runs fell below chance, and the sign predicted 1 of the 1 outcomes "
                         "(1 of the 1 made after the rule was written down; they start from 1 distinct initial loss "
                         "network, since runs differing only in the proxy share one).")


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
        return Record("lamanas", "k", result_fields(cfg), {"test_acc": accuracy, "train_acc": accuracy}, {})

    chance = 100 / LamanasConfig.for_profile("smoke").data.ways
    runs = report.run_rows([run("lstm", 0, chance / 2), run("lstm", 1, 60.0), run("ce", 0, 50.0), run("ce", 1, 55.0)])
    verdict = card.CLAIMS["A11"](runs, "smoke")
    assert verdict.ours.endswith("LSTM / Yes / Inner product: 1 of 2 runs below chance (its initial loss slope)")
    assert "Baseline" not in verdict.ours.split("; ")[-1]


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
    assert "different devices" not in card.CLAIMS["A11"](report.run_rows(on_cpu), "smoke").basis
    mixed = report.run_rows(on_cpu[:3] + [run("ce", 1, 55.0, gpu)])
    assert "at 1 of 2 seeds the compared runs were made on different devices (CPU and NVIDIA H200)" in card.CLAIMS["A11"](mixed, "smoke").basis
    one_device_per_seed = report.run_rows([on_cpu[0], on_cpu[2], run("lstm", 1, 62.0, gpu), run("ce", 1, 55.0, gpu)])
    assert "different devices" not in card.CLAIMS["A11"](one_device_per_seed, "smoke").basis
    shown, data = report.our_runs(mixed)
    assert sorted(shown["made on"]) == ["CPU", "CPU, NVIDIA H200"] and list(data["made_on"]) == list(shown["made on"])
