"""The run cache: keyed by config, atomic, resumable, with provenance."""

import json
from dataclasses import dataclass

import pytest
import torch

from lib.pipeline import results
from lib.pipeline.results import RunOutput


@dataclass(frozen=True)
class ToyConfig:
    experiment: str = "toy"
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    steps: int = 3


def _toy_run(calls: list):
    def run(cfg: ToyConfig, checkpoint) -> RunOutput:
        calls.append(cfg)
        return RunOutput(metrics={"value": cfg.seed * 10 + cfg.steps}, data_source={"name": "toy", "checksum": "0"},
                         device=torch.device("cpu"))
    return run


def test_second_call_reuses_the_record_and_force_recomputes(tmp_path):
    calls: list = []
    first = results.cached(ToyConfig(), _toy_run(calls), root=tmp_path)
    again = results.cached(ToyConfig(), _toy_run(calls), root=tmp_path)
    assert len(calls) == 1 and again == first
    results.cached(ToyConfig(), _toy_run(calls), force=True, root=tmp_path)
    assert len(calls) == 2


def test_key_depends_on_results_not_on_execution_fields():
    base = results.config_key(ToyConfig())
    assert results.config_key(ToyConfig(device="cuda", threads=1)) == base
    assert results.config_key(ToyConfig(seed=1)) != base
    assert results.config_key(ToyConfig(steps=4)) != base


def test_record_carries_config_metrics_and_provenance(tmp_path):
    record = results.cached(ToyConfig(seed=2), _toy_run([]), root=tmp_path)
    stored = json.loads(results.record_path(ToyConfig(seed=2), tmp_path).read_text())
    assert stored["metrics"] == {"value": 23} and stored["config"]["seed"] == 2
    prov = record.provenance
    assert set(prov) >= {"git", "software", "hardware", "data", "wall_time_s", "date", "resumed_from_checkpoint"}
    assert prov["software"]["torch"] == torch.__version__
    assert prov["hardware"]["device"] == "cpu" and prov["data"]["name"] == "toy"


def test_interrupted_run_resumes_from_its_checkpoint_and_leaves_no_partial_record(tmp_path):
    def run(cfg, checkpoint):
        state = checkpoint.load() or {"done": 0}
        for step in range(state["done"], cfg.steps):
            if step == 1 and not state.get("resumed"):
                checkpoint.save({"done": step, "resumed": True})
                raise KeyboardInterrupt
            state["done"] = step + 1
        return RunOutput(metrics={"started_at": state.get("resumed", False)}, data_source={}, device=torch.device("cpu"))

    with pytest.raises(KeyboardInterrupt):
        results.cached(ToyConfig(), run, root=tmp_path)
    path = results.record_path(ToyConfig(), tmp_path)
    assert not path.exists() and path.with_suffix(".ckpt.pt").exists()
    record = results.cached(ToyConfig(), run, root=tmp_path)
    assert record.metrics == {"started_at": True} and record.provenance["resumed_from_checkpoint"]
    assert not path.with_suffix(".ckpt.pt").exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]
