"""LNAS Sec. 5.3: what one search step costs (time, peak memory) as path pruning removes candidate ops.

Each measurement runs in a fresh one-thread process, one after another, so the peak memory of one
sparsity is not hidden by another's and the timings share one quiet machine. The supernet is the
profile's search network with ``round(p * paths)`` paths masked (which paths does not change the cost,
only how many; pruned ops are not computed, STYLE pitfall 7).
"""

import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from lib.pipeline.checkpoint import Checkpoint
from lib.darts.architect import Architect
from lib.darts.search import SearchNetwork, SearchSpec
from lib.pipeline.device import resolve_device
from lib.experiments.cifar_config import CifarConfig
from lib.experiments.checks import Rule, at_least, between, one_of
from lib.experiments.darts_cifar10 import PROFILES
from lib.experiments.profiles import for_profile
from lib.pruning.paths import path_sparsity, prune_paths_to_sparsity
from lib.pipeline.results import RunOutput


@dataclass(frozen=True)
class SearchCostConfig(CifarConfig):
    """The profile's search network and batch, at one path sparsity, timed over ``steps`` steps."""

    experiment: str = "lnas_search_cost"
    sparsity: float = 0.0
    steps: int = 10
    warmup: int = 2

    RULES: ClassVar[dict[str, Rule]] = {**CifarConfig.RULES, "experiment": one_of("lnas_search_cost"),
                                        "sparsity": between(0, 1, high_open=True), "steps": at_least(1), "warmup": at_least(0)}

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "SearchCostConfig":
        return for_profile(cls, PROFILES, profile, **overrides)


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(cfg: SearchCostConfig) -> dict[str, Any]:
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    search, sgd = cfg.search, cfg.sgd
    spec = SearchSpec(space=search.space, C=search.C, n_classes=10, n_cells=search.cells, n_nodes=search.n_nodes)
    net = SearchNetwork(spec).to(device)
    masks, shortfall = prune_paths_to_sparsity(net, cfg.sparsity)
    for cell_type, mask in masks.items():
        net.set_path_mask(cell_type, mask.to(device))
    x = torch.randn(search.batch, 3, cfg.data.image_size, cfg.data.image_size, device=device)
    y = torch.randint(0, 10, (search.batch,), device=device)
    architect = Architect(net, lambda m, a, b: nn.functional.cross_entropy(m(a), b))
    optimizer = torch.optim.SGD(net.weights(), sgd.lr, momentum=sgd.momentum)
    before = _rss_mb()
    seconds = []
    for step in range(cfg.warmup + cfg.steps):
        start = time.perf_counter()
        architect.step((x, y), (x, y), lr=sgd.lr, weight_decay=sgd.weight_decay, order=search.order)
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= cfg.warmup:
            seconds.append(time.perf_counter() - start)
    return {"path_sparsity": path_sparsity(net), "shortfall": shortfall, "seconds_per_step": statistics.median(seconds),
            "seconds_all": seconds, "peak_rss_mb": _rss_mb(), "rss_before_steps_mb": before,
            "active_paths": int(sum(int(m.sum()) for m in masks.values()))}


def run(cfg: SearchCostConfig, checkpoint: Checkpoint) -> RunOutput:
    """Measure in a fresh spawned process (its own peak memory); ``checkpoint`` is unused (seconds-long run)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        metrics = pool.submit(_measure, cfg).result()
    source = {"name": "random tensors", "kind": "synthetic", "checksum": None, "note": "timing only"}
    return RunOutput(metrics=metrics, data_source=source, device=resolve_device(cfg.device))
