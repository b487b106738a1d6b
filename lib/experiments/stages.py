"""The stages a CIFAR-10 experiment is made of (search, retrain, evaluate), shared by the DARTS baseline
and the LNAS variants, with one resumable checkpoint per run."""

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from lib.pipeline.checkpoint import Checkpoint
from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.darts.search import SearchNetwork, SearchSpec
from lib.data.cifar10 import TensorBatches, load_cifar10, split_indices
from lib.data.synthetic import synthetic_images
from lib.pipeline.device import resolve_device
from lib.darts.flops import count_macs, count_params
from lib.training.evaluate import EVAL_BATCH, accuracy
from lib.training.layout import memory_format
from lib.training.search import SearchResult, SearchSettings, search
from lib.training.train import TrainHooks, TrainResult, TrainSettings, train_network

Split = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Splits:
    """uint8 images (N, 3, H, W) and int64 labels (N,) per role, plus the data's provenance."""

    search_weights: Split
    search_alphas: Split
    train: Split
    val: Split
    test: Split
    source: dict[str, Any]


def load_splits(cfg: Any) -> Splits:
    """Cut the training set into validation / search halves / retraining subsets and take the test subset.

    Validation and the two search halves are disjoint; retraining uses images outside the validation
    split (so it overlaps the search halves, as DARTS retrains on the whole training set).
    """
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
    candidates = torch.nonzero(rest).squeeze(1)
    order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(cfg.seed))
    train = candidates[order[: cfg.n_train]]
    test = torch.arange(min(cfg.n_test, len(yt)))
    return Splits((x[search_w], y[search_w]), (x[search_a], y[search_a]), (x[train], y[train]), (x[val], y[val]),
                  (xt[test], yt[test]), source.as_dict())


def batches(split: Split, batch_size: int, seed: int, shuffle: bool, augment: bool = False) -> TensorBatches:
    """Training batches drop the last partial batch (even batch sizes); evaluation batches keep everything."""
    return TensorBatches(*split, batch_size=batch_size, shuffle=shuffle, seed=seed, augment=augment, drop_last=shuffle)


@dataclass
class RunContext:
    """What every stage of one run shares: config, device, data, and the checkpoint sections saved so far."""

    cfg: Any
    device: torch.device
    splits: Splits
    checkpoint: Checkpoint
    saved: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, cfg: Any, checkpoint: Checkpoint) -> "RunContext":
        """Set threads and the seed, load the data, and pick up a checkpoint left by an interrupted run."""
        device = resolve_device(cfg.device)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        return cls(cfg, device, load_splits(cfg), checkpoint, checkpoint.load() or {})

    def saver(self, section: str, extra: Callable[[], dict[str, Any]] = dict) -> Callable[[dict[str, Any]], None]:
        """A ``save`` callback for one stage: stores its state (plus ``extra()``) next to earlier sections."""
        def save(state: dict[str, Any]) -> None:
            self.saved[section] = {**state, **extra()}
            self.checkpoint.save(dict(self.saved))
        return save



def search_settings(cfg: Any) -> SearchSettings:
    """The search optimisers of a CIFAR-10 config (the run's search and the Sec. 5.3 cost measurement)."""
    return SearchSettings(epochs=cfg.search_epochs, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                          order=cfg.order)


def search_stage(ctx: RunContext, on_epoch_end: Callable[[int, SearchNetwork], None] | None = None) -> tuple[SearchNetwork, SearchResult]:
    """DARTS search on the two training halves; ``on_epoch_end`` can prune paths (LNAS Variant 2)."""
    cfg = ctx.cfg
    spec = SearchSpec(space=cfg.space, C=cfg.search_C, n_classes=10, n_cells=cfg.search_cells, n_nodes=cfg.n_nodes)
    supernet = SearchNetwork(spec)
    supernet = supernet.to(ctx.device, memory_format=memory_format(cfg.channels_last, supernet, [cfg.search_batch],
                                                                   ctx.device))
    searched = search(supernet, batches(ctx.splits.search_weights, cfg.search_batch, cfg.seed, True),
                      batches(ctx.splits.search_alphas, cfg.search_batch, cfg.seed + 1, True), search_settings(cfg),
                      ctx.device,
                      on_epoch_end=on_epoch_end, resume=ctx.saved.get("search"), save=ctx.saver("search"))
    return supernet, searched


@dataclass
class Trained:
    """A retrained network (final weights), its history, and its test accuracies."""

    net: DiscreteNetwork
    result: TrainResult
    test_acc_last: float
    test_acc_at_best_val: float


def train_stage(ctx: RunContext, genotype: Genotype, make_hooks: Callable[[DiscreteNetwork], TrainHooks] | None = None,
                hook_state: Callable[[], dict[str, Any]] = dict) -> Trained:
    """Train the discrete network of ``genotype``; test it once after the last epoch and once at the val-best epoch.

    ``make_hooks(net)`` builds training hooks from the fresh network (e.g. lottery-ticket pruning, which
    keeps theta_0); ``hook_state()`` adds the hooks' state to each checkpoint.
    """
    cfg = ctx.cfg
    torch.manual_seed(cfg.seed + 1)
    net = DiscreteNetwork(genotype, C=cfg.train_C, n_classes=10, n_cells=cfg.train_cells)
    net = net.to(ctx.device, memory_format=memory_format(cfg.channels_last, net, [cfg.train_batch], ctx.device))
    hooks = make_hooks(net) if make_hooks else None
    settings = TrainSettings(epochs=cfg.train_epochs, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    result = train_network(net, batches(ctx.splits.train, cfg.train_batch, cfg.seed + 2, True, cfg.augment),
                           batches(ctx.splits.val, EVAL_BATCH, cfg.seed, False), settings, ctx.device, hooks=hooks,
                           resume=ctx.saved.get("train"), save=ctx.saver("train", hook_state))
    test = batches(ctx.splits.test, EVAL_BATCH, cfg.seed, False)
    last_state = {k: v.clone() for k, v in net.state_dict().items()}
    test_last = accuracy(net, test, ctx.device)
    net.load_state_dict(result.best_state)
    test_best = accuracy(net, test, ctx.device)
    net.load_state_dict(last_state)
    return Trained(net, result, test_last, test_best)


def running_max(values: list[float], upto: int) -> float:
    """The best of the first ``upto`` values (the report's "highest validation accuracy up to epoch e")."""
    return max(values[:upto])


def training_metrics(ctx: RunContext, trained: Trained, masks: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Accuracies at the middle and last epoch (running max and plain), test accuracies, MACs and parameters.

    With ``masks`` (a weight mask), ``macs`` / ``params`` count only unmasked weights and the dense
    counts are kept as ``dense_macs`` / ``dense_params`` (unstructured sparsity saves no dense FLOPs, #33).
    """
    curve = [h["val_acc"] for h in trained.result.history]
    mid = ctx.cfg.train_epochs // 2
    example = torch.zeros(1, 3, ctx.cfg.image_size, ctx.cfg.image_size, device=ctx.device)
    return {
        "train_history": trained.result.history,
        "mid_epoch": mid,
        "val_acc_best_mid": running_max(curve, mid),
        "val_acc_best_final": running_max(curve, len(curve)),
        "val_acc_last_mid": curve[mid - 1],
        "val_acc_last_final": curve[-1],
        "best_epoch": trained.result.best_epoch,
        "test_acc_at_best_val": trained.test_acc_at_best_val,
        "test_acc_last": trained.test_acc_last,
        "macs": count_macs(trained.net, example, masks=masks),
        "params": count_params(trained.net, masks=masks),
        "dense_macs": count_macs(trained.net, example),
        "dense_params": count_params(trained.net),
        "train_seconds": sum(h["seconds"] for h in trained.result.history),
    }


def search_metrics(supernet: SearchNetwork, searched: SearchResult) -> dict[str, Any]:
    """The genotype, the final op weights per edge, the search history and its time."""
    return {
        "genotype": supernet.genotype().to_string(),
        "alphas": {k: v.detach().cpu().tolist() for k, v in supernet.edge_weights().items()},
        "search_history": searched.history,
        "search_seconds": sum(h["seconds"] for h in searched.history),
    }
