"""The Ray backend on a real local Ray cluster (127.0.0.1, 2 CPUs): same records as the local backend,
a killed worker retried, a failing row reported with the row and the reason. One cluster for the module."""

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ray = pytest.importorskip("ray")

from conftest import without_timing
from lib.experiments import lamanas, lnas, lnas_variant2
from lib.pipeline import results
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput
from lib.pipeline.runner import SweepFailed, run_all

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers do not have tests/ on their path


def smoke_rows() -> list:
    """Two rows of LNAS Table 1 (Variant 2) and two of LAMANAS Table 1, at the smoke profile."""
    lnas_rows = [(lnas.LnasConfig.for_profile("smoke", variant="variant2", sparsity=p), lnas_variant2.run)
                 for p in (0.25, 0.5)]
    lamanas_rows = [(lamanas.LamanasConfig.for_profile("smoke", **row), lamanas.algorithm2)
                    for row in ({"loss": "ce"}, {"loss": "fnn", "residual": True, "proxy": "mse"})]
    return lnas_rows + lamanas_rows


@dataclass(frozen=True)
class TinyConfig:
    """A row that takes milliseconds; ``marker`` names a file that tells the run which attempt it is."""

    marker: str
    fail: bool = False
    experiment: str = "ray_test"
    device: str = "cpu"
    threads: int = 0


def die_once_then_finish(cfg: TinyConfig, checkpoint: Checkpoint) -> RunOutput:
    """Save a checkpoint and SIGKILL this worker on the first attempt; resume and finish on the next."""
    state = checkpoint.load()
    if not Path(cfg.marker).exists():
        checkpoint.save({"step": 1})
        Path(cfg.marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return RunOutput({"resumed_step": state and state["step"], "pid": os.getpid()}, {"source": "none"}, torch.device("cpu"))


def finish_or_raise(cfg: TinyConfig, checkpoint: Checkpoint) -> RunOutput:
    if cfg.fail:
        raise ValueError("the loss went to nan at meta-epoch 3")
    return RunOutput({"ok": True}, {"source": "none"}, torch.device("cpu"))


@pytest.fixture(scope="module")
def cluster():
    os.environ.pop("RAY_ADDRESS", None)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING",
             object_store_memory=80 * 2**20, _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def test_ray_gives_the_records_the_local_backend_gives(cluster, cache, monkeypatch):
    jobs = smoke_rows()
    on_ray = run_all(jobs, executor="ray")
    assert on_ray.summary.computed == len(jobs) and not on_ray.summary.failures
    assert [results.stored(config).key for config, _ in jobs] == [r.key for r in on_ray]  # the driver wrote them
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(cache.parent / "local"))
    local = run_all(jobs, executor="local")
    for a, b in zip(on_ray, local):
        assert (a.experiment, a.key) == (b.experiment, b.key)
        assert without_timing(a.metrics) == without_timing(b.metrics)
        assert a.provenance["executor"]["backend"] == "ray" and b.provenance["executor"]["backend"] == "local"
    assert run_all(jobs, executor="ray").summary.cached == len(jobs)  # cached rows never reach the cluster


def test_a_killed_worker_is_retried_and_resumes_from_its_checkpoint(cluster, cache, tmp_path):
    configs = [TinyConfig(marker=str(tmp_path / "killed")), TinyConfig(marker=str(tmp_path / "fine"))]
    Path(configs[1].marker).touch()
    sweep = run_all([(configs[0], die_once_then_finish), (configs[1], die_once_then_finish)], executor="ray")
    killed = sweep[0]
    assert int(Path(configs[0].marker).read_text()) != killed.metrics["pid"]  # a second worker finished it
    assert killed.metrics["resumed_step"] == 1 and killed.provenance["resumed_from_checkpoint"]
    assert not results.checkpoint_of(configs[0]).path.exists()
    assert sweep.summary.computed == 2


def test_a_failing_row_is_reported_with_the_row_and_the_reason(cluster, cache, tmp_path):
    bad, good = TinyConfig(marker="bad", fail=True), TinyConfig(marker="good")
    with pytest.raises(SweepFailed) as failed:
        run_all([(bad, finish_or_raise), (good, finish_or_raise)], executor="ray")
    (failure,) = failed.value.summary.failures
    assert failure.row.startswith(f"ray_test/{results.config_key(bad)}")
    assert failure.reason.startswith("ValueError: the loss went to nan at meta-epoch 3 (at ")
    assert "in finish_or_raise" in failure.reason and "Traceback" not in str(failed.value)
    assert results.stored(good) is not None and results.stored(bad) is None  # the rest of the sweep completed


def test_the_local_backend_reports_a_failing_row_the_same_way(cache):
    bad, good = TinyConfig(marker="bad", fail=True), TinyConfig(marker="good")
    with pytest.raises(SweepFailed) as failed:
        run_all([(bad, finish_or_raise), (good, finish_or_raise)], executor="local")
    (failure,) = failed.value.summary.failures
    assert failure.reason.startswith("ValueError: the loss went to nan") and "finish_or_raise" in failure.reason
    assert results.stored(good) is not None


def test_an_unknown_executor_is_refused(cache):
    with pytest.raises(ValueError, match="unknown executor 'dask'"):
        run_all([(TinyConfig(marker="x"), finish_or_raise)], executor="dask")
