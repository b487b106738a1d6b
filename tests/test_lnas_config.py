"""LNAS / DARTS configs: every field checked, cross-field rules, one profile table, one baseline; the sweep's rows."""

import pytest
import torch

from lib.experiments import darts_cifar10, lnas
from lib.experiments.checks import ConfigError
from lib.experiments.cifar_config import DataConfig
from lib.experiments.lnas import LnasConfig
from lib.experiments.lnas_sweep import Sweep, best_and_worst
from lib.pipeline.results import Record, config_key


@pytest.mark.parametrize("overrides, message", [
    ({"sparsity": 1.0}, r"sparsity = 1.0: must be in \(0, 1\)"),
    ({"sparsity": 0}, r"sparsity = 0: must be in \(0, 1\)"),
    ({"variant": "v1"}, r"variant = 'v1': must be one of \['variant1', 'variant2', 'algorithm3'\]"),
    ({"search": {"batch": 65}}, r"search.batch \(65\) <= data.n_search \(64\)"),
    ({"training": {"batch": 129}}, r"training.batch \(129\) <= data.n_train \(128\)"),
    ({"training": {"epochs": 1}}, r"TrainingConfig.epochs = 1: must be in \[2, inf\]"),
    ({"pruning": {"weight_rounds": 2}}, r"weight_rounds \(2\) must be below training.epochs \(2\)"),
    ({"search": {"order": "third"}}, r"order = 'third': must be one of"),
    ({"data": {"n_search": 30000}}, r"must fit in the 50,000 training images"),
    ({"seed": -1}, r"seed = -1: must be in \[0, inf\]"),
    ({"threads": 1.5}, r"threads = 1.5: must be an integer"),
])
def test_a_bad_setting_is_refused_with_the_field_and_the_rule(overrides, message):
    with pytest.raises(ConfigError, match=message):
        LnasConfig.for_profile("smoke", **overrides)


def test_a_group_must_be_its_own_type():
    with pytest.raises(ConfigError, match="data must be a DataConfig"):
        darts_cifar10.DartsCifarConfig(data={"n_val": 3})
    assert darts_cifar10.DartsCifarConfig(data=DataConfig(n_val=3)).data.n_val == 3


def test_one_profile_table_and_one_baseline():
    assert lnas.PROFILES is darts_cifar10.PROFILES
    for profile in ("smoke", "cpu", "paper"):
        lnas_row = LnasConfig.for_profile(profile, seed=2, variant="variant2", sparsity=0.25)
        assert lnas_row.baseline() == darts_cifar10.DartsCifarConfig.for_profile(profile, seed=2)


def test_execution_fields_do_not_change_the_key():
    cfg = LnasConfig.for_profile("cpu")
    same = LnasConfig.for_profile("cpu", device="cuda", threads=2, channels_last=True)
    assert config_key(cfg) == config_key(same) != config_key(LnasConfig.for_profile("cpu", training={"epochs": 4}))


def test_algorithm_3_reuses_the_variant_2_row_of_its_sparsity():
    row = LnasConfig.for_profile("smoke", variant="algorithm3", sparsity=0.25, pruning={"weight_rounds": 1, "path_scope": "edge"})
    assert row.variant2() == LnasConfig.for_profile("smoke", variant="variant2", sparsity=0.25, pruning={"path_scope": "edge"})


def _record(variant: str, sparsity: float, seed: int, final: float) -> Record:
    return Record("lnas", f"{variant}{sparsity}{seed}", {"variant": variant, "sparsity": sparsity, "seed": seed},
                  {"val_acc_final": final}, {})


def test_sweep_rows_and_extra_seed_picks():
    sweep = Sweep.for_profile("smoke", ["baseline", "variant2", "variant1"], seeds=[0], extra_seeds=[0, 1])
    assert sweep.sparsities == (0.5, 0.95) and sweep.processes == 1 and sweep.extra_seeds == (1,)
    jobs = sweep.jobs(["baseline", "variant1"], [0])
    assert [(c.experiment, getattr(c, "variant", None), getattr(c, "sparsity", None)) for c, _ in jobs] == [
        ("darts_cifar10", None, None), ("lnas", "variant1", 0.5), ("lnas", "variant1", 0.95)]
    records = [_record("variant1", 0.5, 0, 40.0), _record("variant1", 0.5, 1, 50.0), _record("variant2", 0.95, 0, 46.0),
               _record("variant2", 0.5, 0, 44.0)]
    assert best_and_worst(records) == [("variant2", 0.95), ("variant2", 0.5)]  # variant1 0.5: mean 45
    with pytest.raises(ValueError, match="unknown row"):
        Sweep.for_profile("smoke", ["v1"])


def test_rows_read_only_from_the_cache_are_not_run_at_their_extra_seeds_either(monkeypatch, tmp_path):
    from lib.experiments import lnas_sweep
    from lib.pipeline import results

    rows = ["baseline", "variant2", "variant1"]
    sweep = Sweep.for_profile("smoke", rows, seeds=[0], extra_seeds=[1], sparsities=[0.5])
    cached = [_record("variant1", 0.5, 0, 40.0), _record("variant2", 0.5, 0, 44.0)]
    monkeypatch.setattr(results, "stored", lambda cfg: next((r for r in cached if r.config["seed"] == cfg.seed and
                                                             getattr(cfg, "variant", None) == r.config["variant"]), None))
    started = []
    monkeypatch.setattr(lnas_sweep, "run_all", lambda jobs, *args, **kwargs: started.extend(jobs) or [])
    assert sorted(r.key for r in sweep.run(only_stored=rows)) == sorted(r.key for r in cached)  # seed 1: missing, left out
    assert started == []  # nothing ran: a book built from the cache never computes a run (RUN_MISSING=1 does)


def test_extra_seeds_rank_rows_by_the_tables_final_column_and_need_a_pruned_row():
    dense_best = Record("lnas", "v1", {"variant": "variant1", "sparsity": 0.95, "seed": 0},
                        {"val_acc_final": 70.0, "weight_pruning_log": [{"epoch": 2}], "val_acc_after_pruning": 40.0}, {})
    assert best_and_worst([dense_best, _record("variant2", 0.5, 0, 60.0)]) == [("variant2", 0.5), ("variant1", 0.95)]
    assert best_and_worst([]) == []  # an empty cache: no row to add seeds to, not an error


def test_the_rewind_only_control_is_variant_1_pruning_nothing_and_rewinding_to_theta_0():
    from torch import nn

    from lib.experiments import lnas_sweep
    from lib.pruning.lottery import LotteryTicketPruning

    sweep = Sweep.for_profile("smoke", ["baseline", lnas_sweep.REWIND], seeds=[0, 1])
    rewind = [cfg for cfg, _ in sweep.jobs(sweep.rows, sweep.seeds) if lnas_sweep.row_of(cfg) == lnas_sweep.REWIND]
    assert [(c.variant, c.sparsity, c.seed) for c in rewind] == [("variant1", lnas_sweep.REWIND_ONLY, s) for s in (0, 1)]
    assert lnas_sweep.row_of(sweep.config("variant1", 0.5)) == "variant1"  # a pruned Variant 1 row stays itself
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 36, 4))  # 216 + 8 + 1152 + 4 weights
    theta_0 = {name: value.clone() for name, value in model.state_dict().items()}
    ticket = LotteryTicketPruning.one_shot(model, lnas_sweep.REWIND_ONLY, prune_epoch=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    nn.functional.cross_entropy(model(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 2, 3])).backward()
    optimizer.step()
    ticket.on_epoch_end(1, model, optimizer)
    assert ticket.mask.sparsity == 0.0 and all(bool(keep.all()) for keep in ticket.mask.values())
    assert all(torch.equal(model.state_dict()[name], theta_0[name]) for name in ticket.mask)  # every weight rewound
