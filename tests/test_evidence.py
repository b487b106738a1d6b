"""The evidence queue and its work list: order, skipping, status, estimates, committing workers, killed workers."""

import argparse
import dataclasses
import json
import multiprocessing
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from lib.experiments import costs, evidence, lnas_sweep
from lib.pipeline import results, worklist
from lib.pipeline.results import RunOutput


@dataclass(frozen=True)
class FakeConfig:
    experiment: str = "fake_runs"
    seed: int = 0
    size: int = 1
    sleep_s: float = 0.0
    threads: int = 0


def fake_run(cfg: FakeConfig, checkpoint) -> RunOutput:
    time.sleep(cfg.sleep_s)
    return RunOutput({"value": cfg.size * 10 + cfg.seed}, {"source": "none"}, torch.device("cpu"))


def model(cfg: dict) -> float:
    return 100.0 * cfg["size"]


def fake_items(sleep_s: float = 0.0, n: int = 4) -> list[worklist.Item]:
    configs = [FakeConfig(seed=s, size=1 + s % 2, sleep_s=sleep_s) for s in range(n)]
    return [worklist.Item(f"fake seed {c.seed}", "g", c, fake_run, (), model(dataclasses.asdict(c))) for c in configs]


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data" / "results"
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(root))
    return root


def _seal(path: Path, **provenance) -> None:
    data = json.loads(path.read_text())
    data["provenance"].update(provenance)
    data["checksum"] = results.content_checksum(data)
    path.write_text(json.dumps(data))


def test_queue_order_groups_rows_seeds_and_dependencies():
    items = evidence.queue("smoke")
    groups = [evidence.GROUPS.index(i.group) for i in items]
    assert groups == sorted(groups) and len({i.ident for i in items}) == len(items)
    rows = [i.name.rsplit(" seed ", 1)[0] for i in items]
    blocks = [row for n, row in enumerate(rows) if n == 0 or rows[n - 1] != row]
    assert len(blocks) == len(set(blocks))  # row-major: every seed of a row together
    for row in set(rows):
        seeds = [i.config.seed for i, r in zip(items, rows) if r == row]
        assert seeds == sorted(seeds)
    for group in evidence.GROUPS:  # LAMANAS rows before LNAS rows within a group
        names = [i.name.split()[0] for i in items if i.group == group and i.name.split()[0] in ("LAMANAS", "LNAS")]
        assert names == sorted(names)
    assert {i.name for i in items if i.group == "baselines" and "LAMANAS" in i.name} == {
        f"LAMANAS {row} seed {s}" for row in ("baseline", "no-meta-training") for s in evidence.SEEDS}
    position = {i.ident: n for n, i in enumerate(items)}
    needing = [i for i in items if i.needs]
    assert needing and all(position[dataclasses.replace(i, config=n).ident] < position[i.ident] for i in needing for n in i.needs)
    measured = [i.model_s for i in items if i.group == "measure"]
    assert measured and measured == sorted(measured)
    sweep = lnas_sweep.Sweep.for_profile("smoke", lnas_sweep.ROWS, seeds=evidence.SEEDS)
    assert {results.config_key(c) for c, _ in sweep.jobs(lnas_sweep.ROWS, evidence.SEEDS)} <= {
        results.config_key(i.config) for i in items}


def test_the_meta_learning_control_gets_five_paired_seeds_last():
    items = evidence.queue("small", measure=False)
    decide = [(i.name, i.group) for i in items if i.group == "decide"]
    assert decide == [(f"LAMANAS {row} seed {s}", "decide") for row in ("baseline", "no-meta-training") for s in (3, 4)]
    assert items[-len(decide):] == [i for i in items if i.group == "decide"]  # after every other run
    seeds_of = lambda row: sorted(i.config.seed for i in items if i.name.startswith(f"LAMANAS {row} seed"))
    assert seeds_of("baseline") == seeds_of("no-meta-training") == [0, 1, 2, 3, 4]
    assert [i.group for i in evidence.queue("smoke", measure=False)].count("decide") == 0  # smoke: seed 0 only


def test_a_lamanas_baseline_run_made_on_a_gpu_is_repeated_on_the_cpu(store):
    from lib.experiments import lamanas_sweep
    from lib.experiments.lamanas_repeat import DeviceRepeatConfig
    from lib.experiments.checks import ConfigError
    from lib.experiments.lamanas_sweep import Sweep

    sweep = Sweep.for_profile("smoke", rows=("baseline",), seeds=(0, 1), authors_code=False)
    for seed in (0, 1):
        results.cached(sweep.config("baseline", seed),
                       lambda c, k: RunOutput({"test_acc": 50.0}, {"source": "none"}, torch.device("cpu")))
    _seal(results.record_path(sweep.config("baseline", 0)), hardware={"device": "cuda", "accelerator": "NVIDIA H200"})
    repeats = [i for i in evidence.queue("smoke", measure=False) if i.group == "devices"]
    assert [i.name for i in repeats] == ["LAMANAS baseline repeated on the CPU (made on NVIDIA H200) seed 0"]
    repeat = repeats[0].config
    assert repeat.original == sweep.config("baseline", 0) and repeat.to_run() == sweep.config("baseline", 0)
    assert dataclasses.replace(repeat, device="cpu", threads=1).to_run() == dataclasses.replace(
        sweep.config("baseline", 0), device="cpu", threads=1)
    # its own record, beside the original's, whatever device either ran on
    assert results.record_path(repeat).parent.name == "lamanas_device_repeat"
    assert results.config_key(dataclasses.replace(repeat, device="cpu")) == results.config_key(repeat)
    assert costs.model_seconds(dataclasses.asdict(repeat)) == costs.model_seconds(dataclasses.asdict(repeat.original))
    assert lamanas_sweep.repeat_configs("smoke", [0])[0] == repeat
    with pytest.raises(ConfigError, match="device 'auto'"):  # the key holds the original whole
        DeviceRepeatConfig(dataclasses.replace(repeat.original, device="cpu"))
    assert not [i for i in evidence.queue("smoke", measure=False, on_gpu=True) if i.group == "devices"]  # GPU with GPU


def test_status_counts_skip_and_estimates(store):
    items = fake_items()
    for item in items[:2]:
        worklist.run_item(item, threads=1)
    _seal(results.record_path(items[0].config), wall_time_s=50.0)
    _seal(results.record_path(items[1].config), wall_time_s=400.0, code={"fingerprint": "old"})  # stale
    marker_dir = worklist.running_dir()
    marker_dir.mkdir(parents=True, exist_ok=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    (marker_dir / f"{items[2].ident}.json").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename,
                                                                   "process_start": worklist._process_start(os.getpid())}))
    (marker_dir / f"{items[3].ident}.json").write_text(json.dumps({"pid": gone.pid, "host": os.uname().nodename}))
    rows = worklist.state(items, model)
    assert [r.status for r in rows] == [worklist.DONE, worklist.STALE, worklist.RUNNING_STATE, worklist.DEAD]
    # seed 2 is of seed 0's kind (size 1): its measured time; seed 3 (size 2) of seed 1's kind: 400 s
    assert rows[2].estimate_s == 50.0 and rows[2].how == "measured" and rows[3].estimate_s == 400.0
    other = dataclasses.replace(items[0], config=FakeConfig(size=3))
    ratio = (50 / 100 + 400 / 200) / 2
    assert worklist.state([other], model)[0].estimate_s == pytest.approx(300 * ratio)
    # the claim skips the done and the live-claimed item, cleans the dead marker and takes the stale one first
    assert worklist.claim(items, None, {}).ident == items[1].ident
    assert worklist.claim(items, None, {}).ident == items[3].ident
    assert worklist.claim(items, None, {}) is None


def test_a_run_estimated_longer_than_the_bound_is_not_started_and_status_lists_it(store, capsys):
    items = fake_items(n=2)  # model: size 1 -> 100 s, size 2 -> 200 s
    estimates = {r.item.ident: r.estimate_s for r in worklist.state(items, model)}
    assert worklist.claim(items[1:], None, estimates, longest_s=150.0) is None
    assert worklist.work(items[1:], model, threads=1, longest_s=150.0) == 0  # returns, nothing else to wait for
    assert worklist.work(items[1:], model, threads=1, longest_s=250.0) == 1

    from tools import evidence as tool
    tool.status(argparse.Namespace(
        profile="smoke", seeds=[0], no_measure=False, device="cpu", only=None, processes=1, threads=1,
        max_run_hours=1e-9, next=8))
    printed = capsys.readouterr().out.split("Longer than --max-run-hours", 1)[1]
    left = [r for r in worklist.state(tool.items("smoke", [0], True, "cpu"), costs.model_seconds) if r.status != worklist.DONE]
    assert left and all(f"  {r.item.name} (~" in printed for r in left) and "Next:" not in printed


def test_what_a_checkpoint_holds_is_left_out_of_the_estimate_and_lets_a_long_run_resume(store, monkeypatch):
    items = fake_items(n=2)  # item 1 (size 2): the model's 200 s, above a bound of 150 s
    checkpoint = results.checkpoint_of(items[1].config)
    checkpoint.path.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(checkpoint, "elapsed", lambda: 80.0)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    checkpoint.save({"epoch": 3})
    row = worklist.state(items, model)[1]
    assert (row.status, row.estimate_s, row.spent_s, row.left_s) == (worklist.LEFT, 200.0, 80.0, 120.0)
    estimates = {r.item.ident: r.left_s for r in worklist.state(items, model)}
    assert worklist.claim(items[1:], None, estimates, longest_s=150.0).ident == items[1].ident  # 120 s left fits
    # while a live worker runs it: the checkpoint, plus the time since the later of its claim and that save
    now = time.time()
    os.utime(checkpoint.path, (now - 60.0, now - 60.0))  # saved 60 s ago
    marker = {"alive": True, "started": now - 30.0}  # resumed by a worker 30 s ago: its save counts from then
    assert worklist.spent_s(items[1], marker) == pytest.approx(80.0 + 30.0, abs=2.0)
    assert worklist.spent_s(items[1], {**marker, "started": now - 100.0}) == pytest.approx(80.0 + 60.0, abs=2.0)
    assert worklist.spent_s(items[0], marker) == pytest.approx(30.0, abs=2.0)  # no checkpoint: since the claim
    assert worklist.spent_s(items[1], {**marker, "alive": False}) == 80.0  # a dead worker's time is lost
    assert dataclasses.replace(row, spent_s=500.0).left_s == 0.0 and dataclasses.replace(row, status=worklist.DONE).left_s == 0.0


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.org")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / ".gitignore").write_text("data/results/.running/\n")
    _git(tmp_path, "add", ".gitignore")
    _git(tmp_path, "commit", "-qm", "start")
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path / "data" / "results"))
    return tmp_path


def _work(sleep_s: float, n: int) -> None:
    worklist.work(fake_items(sleep_s, n), model, threads=1, poll_s=0.1)


def test_two_workers_commit_every_record_once(repo):
    context = multiprocessing.get_context("fork")  # fast: no re-import
    workers = [context.Process(target=_work, args=(0.2, 4)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert all(w.exitcode == 0 for w in workers)
    log = _git(repo, "log", "--format=%s").splitlines()
    assert sum(line.startswith("evidence: fake seed") for line in log) == 4
    assert _git(repo, "status", "--porcelain") == ""
    assert [r.status for r in worklist.state(fake_items(0.2, 4), model)] == [worklist.DONE] * 4
    assert not list(worklist.running_dir().glob("*.json"))


def test_killed_worker_leaves_a_dead_marker_that_the_next_run_cleans(repo):
    context = multiprocessing.get_context("fork")  # fast: no re-import
    worker = context.Process(target=_work, args=(60.0, 1))
    worker.start()
    marker = worklist.running_dir() / f"{fake_items(60.0, 1)[0].ident}.json"
    for _ in range(600):
        if marker.exists():
            break
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    assert worklist.state(fake_items(60.0, 1), model)[0].status == worklist.DEAD
    quick = [dataclasses.replace(fake_items(60.0, 1)[0], run=_quick_run)]  # the same run (same key), made quick
    assert worklist.work(quick, model, threads=1) == 1
    assert not marker.exists() and worklist.state(quick, model)[0].status == worklist.DONE
    assert "evidence: fake seed 0" in _git(repo, "log", "--format=%s")


def _quick_run(cfg: FakeConfig, checkpoint) -> RunOutput:
    return fake_run(dataclasses.replace(cfg, sleep_s=0.0), checkpoint)


def test_uncommitted_record_of_a_killed_worker_is_committed_at_the_next_start(repo):
    item = fake_items()[0]
    worklist.run_item(item, threads=1)  # stored, then "killed" before the commit
    assert worklist.work([item], model, threads=1) == 0
    assert "1 record(s) left uncommitted" in _git(repo, "log", "--format=%s")


def test_estimates_come_from_runs_on_the_same_kind_of_device():
    from lib.pipeline.results import Record
    from lib.pipeline.worklist import Estimator

    @dataclasses.dataclass(frozen=True)
    class Row:
        experiment: str = "toy"
        seed: int = 0
        size: int = 1

    def record(seed: int, wall_s: float, device: str) -> Record:
        return Record("toy", str(seed), dataclasses.asdict(Row(seed=seed)), {},
                      {"wall_time_s": wall_s, "hardware": {"device": device, "torch_threads": 1}})
    runs = [record(0, 600.0, "cpu"), record(1, 800.0, "cpu"), record(2, 60.0, "cuda:0")]
    on_cpu = Estimator.from_records(lambda config: 100.0, runs)
    assert on_cpu.seconds(Row(seed=5)) == (700.0, "measured")  # the median of the two CPU runs, not the GPU's
    assert Estimator.from_records(lambda config: 100.0, runs, "cuda").seconds(Row(seed=5)) == (60.0, "measured")


def test_an_unmeasured_kind_is_scaled_by_the_ratio_of_its_siblings_first():
    """A row the cost model overestimates (it skips work the model counts) must not borrow the ratio of the
    experiment's other rows: a worker's --limit-hours would then start too few runs."""
    from lib.pipeline.results import Record
    from lib.pipeline.worklist import Estimator

    @dataclasses.dataclass(frozen=True)
    class Row:
        experiment: str = "toy"
        variant: str = "a"
        seed: int = 0
        sparsity: float = 0.5

    def record(row: Row, wall_s: float) -> Record:
        return Record(row.experiment, f"{row.variant}{row.sparsity}", dataclasses.asdict(row), {},
                      {"wall_time_s": wall_s, "hardware": {"device": "cpu", "torch_threads": 1}})
    runs = [record(Row(variant="a", sparsity=0.9), 50.0), record(Row(variant="b", sparsity=0.9), 200.0),
            record(Row(variant="b", sparsity=0.1), 300.0), record(Row(experiment="other"), 400.0)]
    est = Estimator.from_records(lambda config: 100.0, runs)
    assert est.seconds(Row(variant="a", seed=1, sparsity=0.1)) == (50.0, "model x 0.50")  # not the toy median 2.00
    assert est.seconds(Row(variant="c")) == (200.0, "model x 2.00")  # no sibling: the experiment's median
    assert est.seconds(Row(experiment="new")) == (250.0, "model x 2.50")  # no experiment: all records


def test_a_device_repeat_is_estimated_from_the_measured_repeats_of_other_seeds():
    from lib.experiments import lamanas_sweep

    first, second = (dataclasses.asdict(c) for c in lamanas_sweep.repeat_configs("smoke", [0, 1]))
    assert worklist.Estimator.kind(first) == worklist.Estimator.kind(second)  # the seed sits in the original
    assert worklist.Estimator.kind(first, ()) != worklist.Estimator.kind(second, ())


def test_a_run_waiting_for_another_says_which_and_only_warns_of_what_the_filter_leaves_out(store, capsys):
    from tools import evidence as tool
    args = lambda *only: argparse.Namespace(profile="smoke", seeds=[0], no_measure=False, device="cpu",
                                            only=list(only) or None, processes=1, threads=1, max_run_hours=0, next=200)
    # Algorithm 3 reuses Variant 2's search at its sparsity and seed; nothing is stored yet
    assert tool.outside_needs(args("Algorithm 3 sparsity 0.5")) == ["LNAS Variant 2 sparsity 0.5 seed 0"]
    assert tool.outside_needs(args("Algorithm 3 sparsity 0.5", "Variant 2 sparsity 0.5")) == []
    tool.status(args())
    printed = capsys.readouterr().out
    assert "LNAS Algorithm 3 sparsity 0.5 seed 0 (left, ~" in printed
    assert printed.split("LNAS Algorithm 3 sparsity 0.5 seed 0 (left, ~", 1)[1].split("\n", 1)[0].endswith(
        "; after LNAS Variant 2 sparsity 0.5 seed 0)")
    assert "LNAS Variant 2 sparsity 0.5 seed 0 (left, ~" in printed
    assert "after" not in printed.split("LNAS Variant 2 sparsity 0.5 seed 0 (left, ~", 1)[1].split("\n", 1)[0]
    tool.status(args("Algorithm 3 sparsity 0.5 seed 0"))  # the run it waits for is left out, but still named
    assert capsys.readouterr().out.rstrip().endswith("; after LNAS Variant 2 sparsity 0.5 seed 0)")
