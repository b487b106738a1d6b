"""Reported-vs-reproduced tables and the reports' own numbers."""

import pandas as pd
import pytest

from lib.report import compare


def test_compare_puts_pairs_side_by_side_with_the_difference():
    theirs = pd.DataFrame({"variant": ["a", "b"], "acc": [70.0, 80.0]})
    ours = pd.DataFrame({"variant": ["b"], "acc": [77.5]})
    table = compare.compare(ours, theirs, on=["variant"], metrics={"accuracy": "acc"})
    assert list(table.columns) == ["variant", "accuracy (report)", "accuracy (ours)", "accuracy Δ"]
    row_b = table.set_index("variant").loc["b"]
    assert row_b["accuracy Δ"] == pytest.approx(-2.5)
    assert table.set_index("variant").loc["a"].isna()["accuracy (ours)"]


def test_compare_names_missing_columns():
    with pytest.raises(KeyError, match="acc"):
        compare.compare(pd.DataFrame({"v": [1]}), pd.DataFrame({"v": [1]}), on=["v"], metrics={"x": "acc"})


def test_reported_lnas_table_has_the_baseline_row():
    table = compare.reported("lnas", "Table 1")
    baseline = table[table["variant"] == "Baseline"].iloc[0]
    assert (baseline["val_acc_epoch10"], baseline["val_acc_epoch20"], baseline["flops_M"]) == (74.04, 78.9, 752.355)
    assert len(table) == 17


def test_unknown_report_or_table_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of"):
        compare.reported("nas")
    with pytest.raises(ValueError, match="has no table"):
        compare.reported("lnas", "Table 9")
    with pytest.raises(ValueError, match="has no figure 'Figure 9'"):
        compare.reported_figure("lamanas", "Figure 9")


def test_the_reports_figure_and_claim_numbers_are_read_from_the_transcription():
    from lib.report import lamanas

    assert "5.2 hours for Variant 2" in compare.reported_claim("lnas", "L11")
    # Figure 3 as printed: colour bar 0-2.8 in the panel at t=1, up to 1.2e7 in the one at t=122
    assert lamanas._reported_colour_bars() == "the paper: 2.8 at t=1, 1.2e+07 at t=122"


def test_lnas_table_in_the_books_names_keeps_every_number():
    from lib.report import lnas

    raw, named = compare.reported("lnas", "Table 1"), lnas.reported_table1()
    assert list(named["variant"].unique()) == ["Baseline", "Variant 1", "Variant 2"]
    assert named["val_acc_mid"].tolist() == raw["val_acc_epoch10"].tolist()
    assert named["val_acc_final"].tolist() == raw["val_acc_epoch20"].tolist()


def _lnas_record(experiment: str, key: str, config: dict, metrics: dict):
    from lib.pipeline.results import Record

    base = {"val_acc_mid": 30.0, "val_acc_final": 40.0, "val_acc_at_final": 39.0, "test_acc_at_best_val": 38.0,
            "macs": 2e6, "train_seconds": 60.0}
    return Record(experiment, key, {"seed": 0, **config}, {**base, **metrics}, {})


def test_a_weight_pruned_row_reports_its_best_epoch_after_pruning_not_its_dense_epochs():
    from lib.report import lnas

    # Variant 1 pruned at the end of epoch 2 of 4: the dense epochs 1-2 peak at 70, the ticket's epochs 3-4 at 55.
    history = [{"val_acc": a} for a in (60.0, 70.0, 50.0, 55.0)]
    pruned = {"train_history": history, "weight_pruning_log": [{"epoch": 2}], "val_acc_after_pruning": 55.0,
              "val_acc_final": 70.0}
    v1 = _lnas_record("lnas", "1", {"variant": "variant1", "sparsity": 0.5}, pruned)
    v2 = _lnas_record("lnas", "2", {"variant": "variant2", "sparsity": 0.5}, {"val_acc_final": 70.0})
    per_run = lnas.rows([v1, v2]).set_index("variant")
    assert per_run.loc["Variant 1", "val_acc_final"] == 55.0  # the report's 0.95 row can only be this (#34)
    assert per_run.loc["Variant 1", "val_acc_all_epochs"] == 70.0  # the caption's reading, kept beside it
    assert per_run.loc["Variant 2", "val_acc_final"] == 70.0  # a search-pruned row trains unpruned weights
    assert lnas.curve_measures(v1)["best_after_pruning"] == per_run.loc["Variant 1", "val_acc_final"]


def test_rows_follow_a_reused_search_and_mark_searches_near_uniform():
    import dataclasses

    from lib.report import lnas

    uniform = {"normal": [[0.25] * 4] * 2, "reduce": [[0.25] * 4] * 2}
    peaked = {"normal": [[0.7, 0.1, 0.1, 0.1]] * 2, "reduce": [[0.7, 0.1, 0.1, 0.1]] * 2}
    base = _lnas_record("darts_cifar10", "b", {}, {"alphas": uniform, "search_seconds": 120.0})
    v1 = _lnas_record("lnas", "1", {"variant": "variant1", "sparsity": 0.5}, {"searched_by": "darts_cifar10/b"})
    v2 = _lnas_record("lnas", "2", {"variant": "variant2", "sparsity": 0.5}, {"alphas": peaked, "search_seconds": 60.0})
    per_run = lnas.rows([base, v1, v2])
    assert per_run["variant"].tolist() == ["Baseline", "Variant 1", "Variant 2"]
    assert per_run["search_top_over_uniform"].tolist() == pytest.approx([1.0, 1.0, 2.8])
    table = lnas.table1([base, v1, v2]).comparison.set_index(["variant", "sparsity"])
    assert table.loc[("Variant 1", 0.5), "search"] == "near uniform" and table.loc[("Variant 2", 0.5), "search"] == ""
    times = lnas.search_times(per_run)
    assert times["V2 / baseline"].tolist() == [0.5] and times.index.tolist() == [0]
    without_baseline = lnas.search_times(per_run[per_run["variant"] != "Baseline"])
    assert without_baseline["V2 search_min"].tolist() == [1.0] and without_baseline["V2 / baseline"].isna().all()
    on_a_gpu = per_run.assign(made_on=["CPU", "CPU", "NVIDIA H200"])
    across = lnas.search_times(on_a_gpu)  # a GPU search over a CPU one measures the devices: no ratio
    assert across[["V2 made on", "baseline made on"]].values.tolist() == [["NVIDIA H200", "CPU"]]
    assert across["V2 / baseline"].isna().all() and across["V2 search_min"].tolist() == [1.0]
    assert times["V2 record"].tolist() == [""]  # a trusted run; a stale one says so beside its time
    stale = lnas.rows([base, v1, dataclasses.replace(v2, mark="stale: computed with code a, now b")])
    assert lnas.search_times(stale)["V2 record"].tolist() == ["stale"]
    assert lnas.search_diagnostics([base, v1, v2])["per-epoch record"].tolist() == ["not recorded"] * 2


def test_a_path_pruned_edge_left_one_op_is_summarised_by_how_far_its_alphas_moved():
    """The masked softmax of an edge left one op is 1, so ``k x max`` is 1 whatever the search did; the
    derivation weights (softmax over all ops, pruned ones 0) still say it. Oracle: torch.softmax by hand."""
    import torch

    from lib.report import lnas

    alpha = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])  # edge 0 moved, edge 1 did not
    mask = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])  # both left one op
    weights = (torch.softmax(alpha, dim=-1) * mask).tolist()
    masked = {"normal": mask.tolist(), "reduce": mask.tolist()}  # what the masked softmax stores: 1 per edge
    old = _lnas_record("lnas", "o", {"variant": "variant2", "sparsity": 0.95}, {"alphas": masked})
    new = _lnas_record("lnas", "n", {"variant": "variant2", "sparsity": 0.95},
                       {"alphas": masked, "derivation_weights": {"normal": weights, "reduce": weights}})
    expected = (4 * torch.softmax(alpha[0], -1)[0].item() + 4 * 0.25) / 2  # (4 x e^2/(e^2+3) + 1) / 2
    assert lnas.search_summary(old) == 1.0
    assert lnas.search_summary(new) == pytest.approx(expected) and expected > 1.5


def test_every_lnas_table_of_a_row_says_which_of_its_runs_are_marked_stale():
    import dataclasses

    from lib.report import genotype_agreement, lnas, seeds

    genotype = "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2], " \
               "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])"
    history = [{"val_acc": 30.0}, {"val_acc": 40.0}]
    v2 = [_lnas_record("lnas", f"v{s}", {"seed": s, "variant": "variant2", "sparsity": 0.5},
                       {"val_acc_final": 40.0 + s, "train_history": history, "genotype": genotype,
                        "alphas": {"normal": [[0.25] * 4] * 2, "reduce": [[0.25] * 4] * 2}}) for s in range(3)]
    v2[1] = dataclasses.replace(v2[1], mark="stale: computed with code a, now b")
    v2[2] = dataclasses.replace(v2[2], mark="stale: computed with code a, now b")
    per_run = lnas.rows(v2)
    assert seeds.marks_text(v2) == "[2 run(s) stale]" and seeds.marks_text(v2[:1]) == ""
    ours, ours_data = lnas.our_columns(per_run)
    assert ours["seeds"].tolist() == ["0;1;2 [2 run(s) stale]"] and ours_data["seeds"].tolist() == ["0;1;2"]
    assert ours_data["marked runs"].tolist() == ["[2 run(s) stale]"]
    curves, _ = lnas.curve_claims(per_run)
    assert curves["seeds"].tolist() == ["0;1;2 [2 run(s) stale]"]
    generalized, _ = lnas.generalized_comparison(per_run)
    assert generalized["val @ final: Variant 2"].iloc[0].endswith("(n=3) [2 run(s) stale]")
    assert lnas.search_diagnostics(v2)["record"].tolist() == ["", "stale", "stale"]
    agreement = genotype_agreement.table(per_run, lnas.KEYS, lambda record: ("darts", 1))
    assert agreement["marked runs"].tolist() == ["[2 run(s) stale]"]


def test_the_algorithm_3_table_gives_its_paired_difference_to_each_variant():
    import math

    from lib.report import lnas

    finals = {"variant1": [60.0, 62.0, 61.0], "variant2": [70.0, 71.0, 75.0], "algorithm3": [65.0, 67.0, 66.0]}
    records = [_lnas_record("lnas", f"{v}{s}", {"seed": s, "variant": v, "sparsity": 0.5}, {"val_acc_final": f})
               for v, values in finals.items() for s, f in enumerate(values)]
    shown, data = lnas.generalized_comparison(lnas.rows(records))
    # A3 - V2 per seed: -5, -4, -9 -> mean -6, sd 2.646, half-width t(0.975, 2) 4.303 x 2.646 / sqrt(3) = 6.57
    half = 4.302653 * math.sqrt(7) / math.sqrt(3)
    assert shown.loc[0, "A3 - V2 (pp)"] == f"-6.00 [{-6 - half:.2f}, {-6 + half:.2f}] (n=3)"
    assert shown.loc[0, "A3 - V1 (pp)"] == "5.00 [5.00, 5.00] (n=3)"  # +5 at every seed
    a3 = data.set_index("variant").loc["Algorithm 3"]
    assert a3["minus_variant2"] == -6.0 and a3["minus_variant2_high"] == pytest.approx(-6 + half)


def test_an_algorithm_3_difference_whose_pairs_cross_devices_is_widened_and_the_devices_are_named():
    import dataclasses

    from lib.report import lnas

    on = lambda record, device: dataclasses.replace(record, provenance={"hardware": {"device": device}})
    gpu = lambda record: dataclasses.replace(record, provenance={"hardware": {"device": "cuda", "accelerator": "NVIDIA H200"}})
    # the device offset bound: Variant 1 (p=0.5) on the GPU against the CPU baseline before pruning at seeds 0 and 1
    base = [on(_lnas_record("darts_cifar10", f"b{s}", {"seed": s}, {"val_acc_mid": 30.0}), "cpu") for s in range(3)]
    v1 = [gpu(_lnas_record("lnas", f"v1{s}", {"seed": s, "variant": "variant1", "sparsity": 0.5},
                           {"val_acc_mid": 30.0 + 2 * s + 1, "val_acc_final": 60.0})) for s in range(2)]
    v2 = [on(_lnas_record("lnas", f"v2{s}", {"seed": s, "variant": "variant2", "sparsity": 0.5},
                          {"val_acc_final": 70.0 + s}), "cpu") for s in range(3)]
    a3 = [on(_lnas_record("lnas", f"a3{s}", {"seed": s, "variant": "algorithm3", "sparsity": 0.5},
                          {"val_acc_final": 72.0 + s + (s == 2)}), "cpu") for s in range(3)]
    v2[1] = gpu(v2[1])  # one of the three A3 - V2 pairs crosses devices
    per_run = lnas.rows(base + v1 + v2 + a3)
    # Variant 1 minus the baseline at the middle epoch: 1, 3 -> 2 +- t(0.975, 1) 12.706 x sqrt(2) / sqrt(2)
    bound = 2 + 12.706205
    assert lnas.device_offset_bound(per_run) == pytest.approx(bound)
    shown, _ = lnas.generalized_comparison(per_run)
    row = shown.set_index("sparsity").loc[0.5]
    # A3 - V2 per seed 2, 2, 3 -> 7/3 +- t(0.975, 2) 4.302653 x sqrt(1/3) / sqrt(3), widened by the bound x 1/3
    mean, half = 7 / 3, 4.302653 / 3
    low, high = mean - half - bound / 3, mean + half + bound / 3
    assert row["A3 - V2 (pp)"] == (f"{mean:.2f} [{mean - half:.2f}, {mean + half:.2f}] (n=3); "
                                   f"widened for devices [{low:.2f}, {high:.2f}]")
    # A3 - V1 per seed 12, 13 -> 12.5 +- 12.706 x sqrt(1/2) / sqrt(2); both pairs cross: widened by the whole bound
    assert row["A3 - V1 (pp)"].endswith(f"widened for devices [{12.5 - 6.353103 - bound:.2f}, {12.5 + 6.353103 + bound:.2f}]")
    one_device, _ = lnas.generalized_comparison(lnas.rows(base + v1 + v2[::2] + a3))  # A3 - V2 pairs on the CPU
    assert "widened" not in one_device.loc[0, "A3 - V2 (pp)"]
    assert row["made on"] == "CPU, NVIDIA H200"


def test_searched_minus_random_is_judged_on_its_interval_widened_for_devices():
    import dataclasses

    from lib.report import lnas

    on = lambda record, device: dataclasses.replace(record, provenance={"hardware": {"device": device}})
    gpu = lambda record: dataclasses.replace(record, provenance={"hardware": {"device": "cuda", "accelerator": "NVIDIA H200"}})
    base = [on(_lnas_record("darts_cifar10", f"b{s}", {"seed": s}, {"val_acc_mid": 30.0, "val_acc_final": 60.0 + s}), "cpu")
            for s in range(3)]
    v1 = [gpu(_lnas_record("lnas", f"v1{s}", {"seed": s, "variant": "variant1", "sparsity": 0.5},
                           {"val_acc_mid": 30.0 + 2 * s + 1})) for s in range(2)]  # the device offset bound 2 + 12.706
    random = [on(_lnas_record("random_architecture", f"r{s}", {"seed": s, "sample": 0}, {"val_acc_final": 50.0 + s}), "cpu")
              for s in range(3)]
    bound = 2 + 12.706205
    alone = lnas.searched_vs_random(lnas.rows(base + v1 + random)).set_index("metric").loc["val @ final"]
    assert alone["searched - random"] == "10.00 [10.00, 10.00] (n=3)" and alone["widened for devices"] == ""
    assert alone["status"] == "held" and alone["made on"] == "CPU"
    random[2] = gpu(random[2])  # one of three pairs crosses devices: widened by a third of the bound on each side
    crossed = lnas.searched_vs_random(lnas.rows(base + v1 + random)).set_index("metric").loc["val @ final"]
    assert crossed["widened for devices"] == f"10.00 [{10 - bound / 3:.2f}, {10 + bound / 3:.2f}] (n=3)"
    assert crossed["status"] == "held" and crossed["made on"] == "CPU, NVIDIA H200"  # 10 - 4.9 > 0 still
    assert crossed["searched_minus_random_widened_low"] == pytest.approx(10 - bound / 3)


def test_lnas_table_1_shows_intervals_pending_rows_and_diverged_runs():
    import dataclasses

    from lib.experiments.lnas_sweep import Sweep
    from lib.report import lnas

    sweep = Sweep.for_profile("smoke", ["baseline", "variant2", "random"], seeds=[0, 1, 2], sparsities=[0.5])
    base = [_lnas_record("darts_cifar10", f"b{s}", {"seed": s}, {"val_acc_final": 40.0 + s}) for s in range(3)]
    v2 = [_lnas_record("lnas", f"v{s}", {"seed": s, "variant": "variant2", "sparsity": 0.5},
                       {"val_acc_final": 42.0 + s + 0.1 * s * s}) for s in range(2)]
    diverged = dataclasses.replace(_lnas_record("lnas", "v2", {"seed": 2, "variant": "variant2", "sparsity": 0.5}, {}),
                                   metrics={"diverged": {"where": "search", "what": "nan"}}, status="diverged")
    pending = [c for c in sweep.pending() if c.experiment == "random_architecture"]
    table = lnas.table1(base + v2 + [diverged], pending)
    shown = table.comparison.set_index(["variant", "sparsity"])
    assert shown.loc[("Baseline", "N/A"), "val @ final (ours)"].startswith("41.00 [") and "(n=3)" in shown.loc[("Baseline", "N/A"), "val @ final (ours)"]
    assert shown.loc[("Variant 2", 0.5), "runs"] == "n=2; 1 diverged"
    assert shown.loc[("Variant 2", 0.5), "Δ final vs baseline (ours)"].endswith("(n=2)")
    assert shown.loc[("Variant 2", 0.25), "val @ final (ours)"] == "not run"  # not requested by this sweep
    assert shown.loc[("Random architecture", "N/A"), "val @ final (ours)"] == "pending"
    assert {"seeds", "val_acc_final_low", "val_acc_final_high"} <= set(table.data.columns)
    assert table.random.loc[0, "status"] == "not testable"


def test_rank_agreement_leaves_out_the_cells_fixed_by_construction():
    from lib.report import lnas

    base = _lnas_record("darts_cifar10", "b", {}, {"val_acc_mid": 50.0, "val_acc_final": 60.0})
    v1 = [_lnas_record("lnas", f"1{p}", {"variant": "variant1", "sparsity": p}, {"val_acc_mid": 50.0, "val_acc_final": f})
          for p, f in ((0.125, 55.0), (0.25, 56.0), (0.375, 57.0))]
    v2 = [_lnas_record("lnas", f"2{p}", {"variant": "variant2", "sparsity": p}, {"val_acc_mid": m, "val_acc_final": 58.0})
          for p, m in ((0.5, 45.0), (0.75, 44.0))]
    agreement = lnas.table1([base, *v1, *v2]).agreement.set_index("column")
    assert agreement.loc["val @ mid", "rows"] == 3  # the baseline and Variant 2; Variant 1's mid is the baseline's run
    assert agreement.loc["val @ final", "rows"] == 6


def test_device_noise_pairs_variant_1_with_its_seeds_baseline_and_averages_within_a_seed():
    import pandas as pd
    from lib.report import lnas

    runs = pd.DataFrame([
        {"variant": "Baseline", "seed": 0, "val_acc_mid": 60.0, "made_on": "CPU"},
        {"variant": "Baseline", "seed": 1, "val_acc_mid": 50.0, "made_on": "CPU"},
        {"variant": "Variant 1", "seed": 0, "val_acc_mid": 60.0, "made_on": "CPU"},  # same device: 0
        {"variant": "Variant 1", "seed": 0, "val_acc_mid": 62.0, "made_on": "GPU"},  # +2
        {"variant": "Variant 1", "seed": 0, "val_acc_mid": 64.0, "made_on": "GPU"},  # +4: seed 0 averages +3
        {"variant": "Variant 1", "seed": 1, "val_acc_mid": 45.0, "made_on": "GPU"},  # -5
    ])
    table = lnas.device_noise(runs).set_index("pairs")
    assert table.loc["same device", lnas.DEVICE_DIFFERENCE] == "0.00 (n=1, no interval)"
    # across devices, per seed: +3 and -5 -> mean -1, sd 5.657, t(0.975, 1) = 12.7062
    half = 12.7062 * 5.656854 / 2 ** 0.5
    assert table.loc["across devices", lnas.DEVICE_DIFFERENCE] == f"-1.00 [{-1 - half:.2f}, {-1 + half:.2f}] (n=2)"
    assert table.loc["across devices", "Variant 1 runs"] == 3 and table.loc["across devices", "largest |difference| (pp)"] == 5.0
    with pytest.raises(ValueError, match="more than one baseline run"):
        lnas.device_noise(pd.concat([runs, runs.iloc[:1]]))


def test_the_rewind_control_separates_variant_1s_rewind_from_its_pruning():
    from lib.experiments import lnas_sweep
    from lib.report import lnas

    def run(experiment: str, variant: str | None, sparsity: float | None, seed: int, final: float):
        config = {"variant": variant, "sparsity": sparsity} if variant else {}
        return _lnas_record(experiment, f"{variant}{sparsity}{seed}", {**config, "seed": seed}, {"val_acc_final": final})

    # per seed: baseline 70, 72; rewind only 64, 65 (-6, -7); Variant 1 at 0.5: 60, 63 (-4, -2 below the control)
    records = [run("darts_cifar10", None, None, 0, 70.0), run("darts_cifar10", None, None, 1, 72.0),
               run("lnas", "variant1", lnas_sweep.REWIND_ONLY, 0, 64.0), run("lnas", "variant1", lnas_sweep.REWIND_ONLY, 1, 65.0),
               run("lnas", "variant1", 0.5, 0, 60.0), run("lnas", "variant1", 0.5, 1, 63.0)]
    table = lnas.rewind_control(lnas.rows(records)).set_index("comparison")
    assert table.loc["nothing pruned (rewind only) - baseline", "difference"] == pytest.approx(-6.5)
    assert table.loc["Variant 1 at p=0.5 - nothing pruned", "difference"] == pytest.approx(-3.0)
    assert table.loc["Variant 1 at p=0.5 - nothing pruned", "seeds"] == "0;1"
    assert table["seeds on different devices"].tolist() == ["", ""]
    per_run = lnas.rows(records)
    on_a_gpu = per_run.assign(made_on=["CPU", "CPU", "CPU", "CPU", "NVIDIA H200", "CPU"])  # V1 p=0.5 seed 0
    mixed = lnas.rewind_control(on_a_gpu).set_index("comparison")["seeds on different devices"]
    assert mixed.tolist() == ["", "1 of 2"]
    # both Variant 1 runs on the GPU, their middle epochs 2 and 4 above the CPU baseline's: the device offset
    # interval 3 ± t(0.975, 1) 12.706 * 1.414 / sqrt(2) reaches 15.71; both seeds cross, so the -3 ± 12.71 of the
    # pruning's own cost widens by 15.71 on each side
    on_the_gpu = per_run.assign(made_on=["CPU"] * 4 + ["NVIDIA H200"] * 2, val_acc_mid=[30.0] * 4 + [32.0, 34.0])
    widened = lnas.rewind_control(on_the_gpu).set_index("comparison")["widened for devices"]
    assert widened.tolist() == ["", "-3.00 [-31.41, 25.41] (n=2)"]
    assert lnas.rewind_control(lnas.rows([]))["difference (pp)"].tolist() == ["pending"]  # an empty cache
    pending = lnas.rewind_control(lnas.rows(records[:2])).set_index("comparison")
    assert pending.loc["nothing pruned (rewind only) - baseline", "difference (pp)"] == "pending"


def test_the_device_offset_bound_is_the_far_end_of_the_across_device_interval():
    from lib.report import devices, lnas

    runs = pd.DataFrame([{"variant": "Baseline", "sparsity": "N/A", "seed": s, "val_acc_mid": 50.0, "made_on": "CPU"}
                         for s in (0, 1, 2)]
                        + [{"variant": "Variant 1", "sparsity": 0.5, "seed": s, "val_acc_mid": 50.0 + d,
                            "made_on": "NVIDIA H200"} for s, d in enumerate((2.0, 4.0, 0.0))]
                        + [{"variant": "Variant 1", "sparsity": 0.75, "seed": 0, "val_acc_mid": 50.0, "made_on": "CPU"}])
    # across devices: 2, 4, 0 (mean 2, sd 2): 2 ± 4.303 * 2 / sqrt(3) = [-2.97, 6.97]; the CPU pair (0) is not counted
    assert lnas.device_offset_bound(runs) == pytest.approx(6.969, abs=1e-3)
    assert lnas.device_offset_bound(runs[runs["made_on"] == "CPU"]) is None  # nothing measured across devices
    pair = runs[(runs["variant"] == "Baseline") | (runs["sparsity"] == 0.5)]
    assert devices.offset_margin(pair, [0, 1], 6.0) == 6.0 and devices.offset_margin(pair, [0], None) == 0.0
    mixed = pd.concat([runs[runs["variant"] == "Baseline"], runs[runs["sparsity"] == 0.75]])
    assert devices.offset_margin(mixed, [0, 1, 2], 6.0) == 0.0  # seed 0's pair shares the CPU; seeds 1-2 have one run


def test_a_device_offset_widens_the_seeds_that_pair_the_cpu_with_a_gpu_only():
    import pandas as pd

    from lib.report import devices

    runs = pd.DataFrame({"seed": [0, 0, 1, 1, 2, 2],
                         "made_on": ["NVIDIA H100 80GB HBM3", "NVIDIA H200", "CPU", "NVIDIA H200", "CPU", "CPU"]})
    assert devices.mixed_seeds(runs) == (2, 3)  # the caveat names both seeds that span devices
    assert devices.mixed_seeds(runs, cpu_and_gpu=True) == (1, 3)
    assert devices.offset_margin(runs, [0, 1, 2], 6.0) == pytest.approx(2.0)  # 6 x 1 of 3 seeds (the CPU-GPU one)
    assert devices.offset_margin(runs, [0], 6.0) == 0.0  # two GPUs: noise, not an offset
    assert "at 2 of 3 seeds" in devices.spans_note(runs)


def test_lnas_tables_widen_by_the_bound_the_scorecard_uses_even_when_another_profile_measured_it():
    import dataclasses

    from lib.report import lnas

    gpu = lambda record: dataclasses.replace(record, provenance={"hardware": {"device": "cuda", "accelerator": "NVIDIA H200"}})
    cpu = lambda record: dataclasses.replace(record, provenance={"hardware": {"device": "cpu"}})
    base = [cpu(_lnas_record("darts_cifar10", f"b{s}", {"seed": s}, {"val_acc_final": 60.0 + s})) for s in range(3)]
    v2 = [(gpu if s == 0 else cpu)(_lnas_record("lnas", f"v{s}", {"seed": s, "variant": "variant2", "sparsity": 0.5},
                                                {"val_acc_final": 62.0 + s + (s == 2)})) for s in range(3)]
    per_run = lnas.rows(base + v2)  # no Variant 1 here: these runs measure no bound themselves
    assert lnas.device_offset_bound(per_run) is None
    table = lnas.table1(base + v2, offset=(6.0, "small"))
    row = table.comparison.set_index(["variant", "sparsity"]).loc[("Variant 2", 0.5)]
    # V2 - baseline per seed 2, 2, 3: 7/3 +- 4.302653 / 3, widened by 6 x 1 of 3 crossing seeds = 2 on each side
    mean, half = 7 / 3, 4.302653 / 3
    assert row["Δ widened for devices"] == f"{mean:.2f} [{mean - half - 2:.2f}, {mean + half + 2:.2f}] (n=3)"
    assert "measured at the `small` profile" in table.note
    assert lnas.table1(base + v2).comparison.set_index(["variant", "sparsity"]).loc[("Variant 2", 0.5), "Δ widened for devices"] == ""
