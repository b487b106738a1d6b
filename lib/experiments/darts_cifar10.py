"""The LNAS baseline row: DARTS search on CIFAR-10, derive the genotype, retrain the discrete network.

Splits (INCONSISTENCIES #39/#40): the 50k training images are cut into a held-out validation split
(model selection), and the rest into two halves for the search (weights / alphas); the derived network
retrains on everything but the validation split. The 10k test split is touched only once, at the end.
"""

from dataclasses import dataclass
from typing import Any

import torch

from lib.checkpoint import Checkpoint
from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.darts.search import SearchNetwork, SearchSpec
from lib.data.cifar10 import TensorBatches, load_cifar10, split_indices
from lib.data.synthetic import synthetic_images
from lib.device import resolve_device
from lib.experiments.profiles import for_profile
from lib.flops import count_macs, count_params
from lib.results import RunOutput
from lib.training.evaluate import accuracy
from lib.training.search import SearchSettings, search
from lib.training.train import TrainSettings, train_network


@dataclass(frozen=True)
class DartsCifarConfig:
    """Every setting of one baseline run. ``paper`` values are the LNAS report's (Sec. 5.1) or nni/DARTS defaults (#40)."""

    experiment: str = "darts_cifar10"
    profile: str = "paper"
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    data: str = "cifar10"
    image_size: int = 32
    n_val: int = 5000
    n_search: int = 22500
    n_train: int = 45000
    n_test: int = 10000
    space: str = "darts"
    n_nodes: int = 4
    search_C: int = 16
    search_cells: int = 8
    search_epochs: int = 10
    search_batch: int = 64
    order: str = "first"
    train_C: int = 16
    train_cells: int = 8
    train_epochs: int = 20
    train_batch: int = 64
    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4
    augment: bool = False
    channels_last: bool = False

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "DartsCifarConfig":
        return for_profile(cls, PROFILES, profile, **overrides)

    def __post_init__(self) -> None:
        if self.data not in ("cifar10", "synthetic"):
            raise ValueError(f"data must be 'cifar10' or 'synthetic', got {self.data!r}")
        if self.n_search * 2 + self.n_val > 50000 or self.n_train + self.n_val > 50000:
            raise ValueError("n_val + 2*n_search and n_val + n_train must fit in the 50,000 training images")


PROFILES: dict[str, dict[str, Any]] = {
    "paper": {},
    "cpu": dict(n_val=2000, n_search=1600, n_train=5000, n_test=10000, search_C=8, search_cells=5,
                search_epochs=2, search_batch=32, train_C=8, train_cells=5, train_epochs=10, train_batch=64),
    "smoke": dict(data="synthetic", image_size=16, n_val=64, n_search=64, n_train=128, n_test=64, n_nodes=2,
                  search_C=4, search_cells=2, search_epochs=2, search_batch=16, train_C=4, train_cells=2,
                  train_epochs=2, train_batch=32),
}


@dataclass(frozen=True)
class Splits:
    """uint8 images (N, 3, H, W) and int64 labels (N,) per role, plus the data's provenance."""

    search_weights: tuple[torch.Tensor, torch.Tensor]
    search_alphas: tuple[torch.Tensor, torch.Tensor]
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    source: dict[str, Any]


def load_splits(cfg: DartsCifarConfig) -> Splits:
    """Cut the training set into validation / search halves / retraining subsets and take the test subset."""
    if cfg.data == "synthetic":
        shape = (3, cfg.image_size, cfg.image_size)
        n_train = cfg.n_val + max(2 * cfg.n_search, cfg.n_train)
        pool, labels, source = synthetic_images(n_train + cfg.n_test, shape=shape, seed=cfg.seed)
        x, y, xt, yt = pool[:n_train], labels[:n_train], pool[n_train:], labels[n_train:]
    else:
        x, y, source = load_cifar10("train")
        xt, yt, _ = load_cifar10("test")
    val, search_w, search_a = split_indices(len(y), [cfg.n_val, cfg.n_search, cfg.n_search], seed=cfg.seed)
    rest = torch.ones(len(y), dtype=torch.bool)
    rest[val] = False
    train = torch.nonzero(rest).squeeze(1)[torch.randperm(int(rest.sum()), generator=torch.Generator().manual_seed(cfg.seed))[: cfg.n_train]]
    test = torch.arange(min(cfg.n_test, len(yt)))
    pick = lambda idx: (x[idx], y[idx])
    return Splits(pick(search_w), pick(search_a), pick(train), pick(val), (xt[test], yt[test]), source.as_dict())


def _batches(split: tuple[torch.Tensor, torch.Tensor], batch_size: int, seed: int, shuffle: bool, augment: bool = False) -> TensorBatches:
    return TensorBatches(*split, batch_size=batch_size, shuffle=shuffle, seed=seed, augment=augment, drop_last=shuffle)


def search_spec(cfg: DartsCifarConfig) -> SearchSpec:
    return SearchSpec(space=cfg.space, C=cfg.search_C, n_classes=10, n_cells=cfg.search_cells, n_nodes=cfg.n_nodes)


def discrete_network(cfg: DartsCifarConfig, genotype: Genotype) -> DiscreteNetwork:
    return DiscreteNetwork(genotype, C=cfg.train_C, n_classes=10, n_cells=cfg.train_cells)


def running_max(values: list[float], upto: int) -> float:
    """The best of the first ``upto`` values (the report's "highest validation accuracy up to epoch e")."""
    return max(values[:upto])


def run(cfg: DartsCifarConfig, checkpoint: Checkpoint) -> RunOutput:
    """Search, derive, retrain and evaluate one baseline; resumes from ``checkpoint`` after an interruption."""
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    splits = load_splits(cfg)
    state = checkpoint.load() or {}
    memory = torch.channels_last if cfg.channels_last else torch.contiguous_format

    supernet = SearchNetwork(search_spec(cfg)).to(device, memory_format=memory)
    saved: dict[str, Any] = {"search": state.get("search")}

    def save_search(search_state: dict[str, Any]) -> None:
        saved["search"] = search_state
        checkpoint.save({"search": search_state})

    searched = search(
        supernet, _batches(splits.search_weights, cfg.search_batch, cfg.seed, True),
        _batches(splits.search_alphas, cfg.search_batch, cfg.seed + 1, True),
        SearchSettings(epochs=cfg.search_epochs, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, order=cfg.order),
        device, resume=state.get("search"), save=save_search,
    )
    genotype = supernet.genotype()

    torch.manual_seed(cfg.seed + 1)
    net = discrete_network(cfg, genotype).to(device, memory_format=memory)
    trained = train_network(
        net, _batches(splits.train, cfg.train_batch, cfg.seed + 2, True, cfg.augment),
        _batches(splits.val, 256, cfg.seed, False),
        TrainSettings(epochs=cfg.train_epochs, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay),
        device, resume=state.get("train"), save=lambda s: checkpoint.save({"search": saved["search"], "train": s}),
    )
    test_batches = _batches(splits.test, 256, cfg.seed, False)
    test_last = accuracy(net, test_batches, device)
    net.load_state_dict(trained.best_state)
    test_best = accuracy(net, test_batches, device)
    val_curve = [h["val_acc"] for h in trained.history]
    mid = cfg.train_epochs // 2
    example = torch.zeros(1, 3, cfg.image_size, cfg.image_size, device=device)
    metrics = {
        "genotype": genotype.to_string(),
        "alphas": {k: v.detach().cpu().tolist() for k, v in supernet.edge_weights().items()},
        "search_history": searched.history,
        "train_history": trained.history,
        "mid_epoch": mid,
        "val_acc_best_mid": running_max(val_curve, mid),
        "val_acc_best_final": running_max(val_curve, len(val_curve)),
        "val_acc_last_mid": val_curve[mid - 1],
        "val_acc_last_final": val_curve[-1],
        "best_epoch": trained.best_epoch,
        "test_acc_at_best_val": test_best,
        "test_acc_last": test_last,
        "macs": count_macs(net, example),
        "params": count_params(net),
        "search_seconds": sum(h["seconds"] for h in searched.history),
        "train_seconds": sum(h["seconds"] for h in trained.history),
    }
    return RunOutput(metrics=metrics, data_source=splits.source, device=device)


def paper_config() -> DartsCifarConfig:
    """The report's settings, the reference the reduced profiles are compared with."""
    return DartsCifarConfig.for_profile("paper")

