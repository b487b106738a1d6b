"""LNAS Sec. 5.3: what one search step costs (time, peak memory) as path pruning removes candidate ops.

Each measurement runs in a fresh one-thread process, one after another, so the peak memory of one
sparsity is not hidden by another's and the timings share one quiet machine. The supernet is the
profile's search network with ``round(p * paths)`` paths masked (which paths does not change the cost,
only how many), and the step is :func:`lib.training.search.search_step`, the step the search runs. Two
ways to run a pruned supernet are measured at each sparsity:

* ``skip``: pruned ops are not computed (this library, STYLE pitfall 7);
* ``compute``: pruned paths are masked in the softmax (weight 0) but every op is still computed, 'none'
  as ``x * 0``: what an implementation without skipping costs. At sparsity 0 this is plain DARTS as
  the reference code runs it.
"""

import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from lib.pipeline.checkpoint import Checkpoint
from lib.darts.search import SearchNetwork, SearchSpec
from lib.pipeline.device import resolve_device
from lib.experiments.cifar_config import CifarConfig
from lib.experiments.checks import ConfigError, Rule, at_least, between, one_of
from lib.experiments.darts_cifar10 import PROFILES
from lib.experiments.profiles import for_profile
from lib.experiments.stages import search_settings
from lib.pruning.paths import path_sparsity, prune_paths_to_sparsity
from lib.pipeline.results import RunOutput
from lib.training.layout import memory_format
from lib.training.search import SearchStepper, search_step

MODES = ("skip", "compute")


@dataclass(frozen=True)
class SearchCostConfig(CifarConfig):
    """The profile's search network and batch, at one path sparsity, timed over ``steps`` steps per mode."""

    experiment: str = "lnas_search_cost"
    sparsity: float = 0.0
    steps: int = 10
    warmup: int = 2
    modes: tuple[str, ...] = MODES

    RULES: ClassVar[dict[str, Rule]] = {**CifarConfig.RULES, "experiment": one_of("lnas_search_cost"),
                                        "sparsity": between(0, 1, high_open=True), "steps": at_least(1), "warmup": at_least(0)}

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "SearchCostConfig":
        return for_profile(cls, PROFILES, profile, **overrides)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", tuple(self.modes))
        super().__post_init__()
        if set(self.modes) - set(MODES) or "skip" not in self.modes:
            raise ConfigError(f"SearchCostConfig.modes = {self.modes}: must include 'skip' and be drawn from {MODES}")


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(cfg: SearchCostConfig, mode: str) -> dict[str, Any]:
    """Time ``cfg.steps`` search steps (after ``cfg.warmup``) of the pruned supernet run in ``mode``."""
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    search = cfg.search
    spec = SearchSpec(space=search.space, C=search.C, n_classes=10, n_cells=search.cells, n_nodes=search.n_nodes)
    net = SearchNetwork(spec).compute_every_op(mode == "compute")
    net = net.to(device, memory_format=memory_format(cfg.channels_last, net, [search.batch], device))
    masks, shortfall = prune_paths_to_sparsity(net, cfg.sparsity)
    for cell_type, mask in masks.items():
        net.set_path_mask(cell_type, mask.to(device))
    batches = [(torch.randn(search.batch, 3, cfg.data.image_size, cfg.data.image_size, device=device),
                torch.randint(0, 10, (search.batch,), device=device)) for _ in range(2)]
    stepper = SearchStepper.build(net, search_settings(cfg))
    before = _rss_mb()
    seconds = []
    for step in range(cfg.warmup + cfg.steps):
        start = time.perf_counter()
        search_step(stepper, *batches)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= cfg.warmup:
            seconds.append(time.perf_counter() - start)
    return {"path_sparsity": path_sparsity(net), "shortfall": shortfall, "seconds_per_step": statistics.median(seconds),
            "seconds_all": seconds, "peak_rss_mb": _rss_mb(), "rss_before_steps_mb": before,
            "active_paths": int(sum(int(m.sum()) for m in masks.values()))}


def run(cfg: SearchCostConfig, checkpoint: Checkpoint) -> RunOutput:
    """Measure each mode in its own fresh spawned process (its own peak memory); ``checkpoint`` is unused.

    The metrics are those of ``skip`` at the top level and those of ``compute`` under ``"compute"``.
    """
    context = multiprocessing.get_context("spawn")
    measured = {}
    for mode in cfg.modes:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            measured[mode] = pool.submit(_measure, cfg, mode).result()
    metrics = measured.pop("skip")
    metrics.update({mode: {k: m[k] for k in ("seconds_per_step", "seconds_all", "peak_rss_mb", "rss_before_steps_mb")}
                    for mode, m in measured.items()})
    source = {"name": "random tensors", "kind": "synthetic", "checksum": None, "note": "timing only"}
    return RunOutput(metrics=metrics, data_source=source, device=resolve_device(cfg.device))
