"""The stages a CIFAR-10 experiment is made of (search, derive, retrain, evaluate), shared by the DARTS
baseline and the LNAS algorithms, with one resumable checkpoint per run: a stage whose section of the
checkpoint is complete does no work again (an interrupted run picks up inside the stage it stopped in)."""

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from lib.darts.flops import count_macs, count_params
from lib.darts.genotype import Genotype
from lib.darts.network import DiscreteNetwork
from lib.darts.search import SearchNetwork, SearchSpec
from lib.data.cifar10 import TensorBatches, load_cifar10, split_indices
from lib.data.synthetic import synthetic_images
from lib.experiments.cifar_config import CifarConfig, DataConfig
from lib.experiments.search_diagnostics import SearchDiagnostics, top_over_uniform
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.device import resolve_device
from lib.training.evaluate import accuracy, eval_batch
from lib.training.layout import memory_format
from lib.training.search import SearchResult, SearchSettings, search
from lib.training.train import TrainHooks, TrainResult, TrainSettings, train_network

Split = tuple[torch.Tensor, torch.Tensor]
EpochCallback = Callable[[int, SearchNetwork], None]


@dataclass(frozen=True)
class Splits:
    """uint8 images (N, 3, H, W) and int64 labels (N,) per role, plus the data's provenance."""

    search_weights: Split
    search_alphas: Split
    train: Split
    val: Split
    test: Split
    source: dict[str, Any]


def load_splits(data: DataConfig, seed: int) -> Splits:
    """Cut the training set into validation / search halves / retraining subsets and take the test subset.

    Validation and the two search halves are disjoint; retraining uses images outside the validation
    split (so it overlaps the search halves, as DARTS retrains on the whole training set).
    """
    if data.dataset == "synthetic":
        shape = (3, data.image_size, data.image_size)
        n_train = data.n_val + max(2 * data.n_search, data.n_train)
        pool, labels, source = synthetic_images(n_train + data.n_test, shape=shape, seed=seed)
        x, y, xt, yt = pool[:n_train], labels[:n_train], pool[n_train:], labels[n_train:]
    else:
        x, y, source = load_cifar10("train")
        xt, yt, _ = load_cifar10("test")
    val, search_w, search_a = split_indices(len(y), [data.n_val, data.n_search, data.n_search], seed=seed)
    rest = torch.ones(len(y), dtype=torch.bool)
    rest[val] = False
    candidates = torch.nonzero(rest).squeeze(1)
    order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed))
    train = candidates[order[: data.n_train]]
    test = torch.arange(min(data.n_test, len(yt)))
    return Splits((x[search_w], y[search_w]), (x[search_a], y[search_a]), (x[train], y[train]), (x[val], y[val]),
                  (xt[test], yt[test]), source.as_dict())


def batches(split: Split, batch_size: int, seed: int, shuffle: bool, augment: bool = False) -> TensorBatches:
    """Training batches drop the last partial batch (even batch sizes); evaluation batches keep everything."""
    return TensorBatches(*split, batch_size=batch_size, shuffle=shuffle, seed=seed, augment=augment, drop_last=shuffle)


@dataclass
class RunContext:
    """What every stage of one run shares: config, device, data, and the checkpoint sections saved so far."""

    cfg: CifarConfig
    device: torch.device
    splits: Splits
    checkpoint: Checkpoint
    saved: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, cfg: CifarConfig, checkpoint: Checkpoint) -> "RunContext":
        """Set threads and the seed, load the data, and pick up a checkpoint left by an interrupted run."""
        device = resolve_device(cfg.device)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        return cls(cfg, device, load_splits(cfg.data, cfg.seed), checkpoint, checkpoint.load() or {})

    def saver(self, section: str, extra: Callable[[], dict[str, Any]] = dict) -> Callable[[dict[str, Any]], None]:
        """A ``save`` callback for one stage: stores its state (plus ``extra()``) next to earlier sections."""
        def save(state: dict[str, Any]) -> None:
            self.saved[section] = {**state, **extra()}
            self.checkpoint.save(dict(self.saved))
        return save

    def to_device(self, model: torch.nn.Module, batch_size: int) -> torch.nn.Module:
        """``model`` on the run's device, in channels_last where ``cfg.channels_last`` allows it (layout guard)."""
        layout = memory_format(self.cfg.channels_last, model, [batch_size], self.device)
        return model.to(self.device, memory_format=layout)


def search_settings(cfg: CifarConfig) -> SearchSettings:
    """The search loop's settings of a CIFAR-10 config (the run's search and the Sec. 5.3 cost measurement)."""
    return SearchSettings(epochs=cfg.search.epochs, lr=cfg.sgd.lr, momentum=cfg.sgd.momentum,
                          weight_decay=cfg.sgd.weight_decay, order=cfg.search.order)


class Chain:
    """Several ``on_epoch_end`` callbacks of the search, called in order."""

    def __init__(self, callbacks: Sequence[EpochCallback]) -> None:
        self.callbacks = list(callbacks)

    def __call__(self, epoch: int, model: SearchNetwork) -> None:
        for callback in self.callbacks:
            callback(epoch, model)


@dataclass
class Searched:
    """A finished search: the supernet (final alphas and masks), its history and the per-epoch diagnostics."""

    supernet: SearchNetwork
    result: SearchResult
    diagnostics: SearchDiagnostics


def search_stage(ctx: RunContext, on_epoch_end: EpochCallback | None = None) -> Searched:
    """DARTS search on the two training halves; ``on_epoch_end`` can prune paths (LNAS Variant 2).

    After each epoch the softmax weights' distance from uniform is recorded first (before any pruning).
    """
    cfg, settings = ctx.cfg, ctx.cfg.search
    spec = SearchSpec(space=settings.space, C=settings.C, n_classes=10, n_cells=settings.cells, n_nodes=settings.n_nodes)
    supernet = ctx.to_device(SearchNetwork(spec), settings.batch)
    diagnostics = SearchDiagnostics(ctx.saved.get("search", {}).get("diagnostics", ()))
    callbacks = Chain([diagnostics] + ([on_epoch_end] if on_epoch_end else []))
    result = search(supernet, batches(ctx.splits.search_weights, settings.batch, cfg.seed, True),
                    batches(ctx.splits.search_alphas, settings.batch, cfg.seed + 1, True), search_settings(cfg),
                    ctx.device,
                    on_epoch_end=callbacks, resume=ctx.saved.get("search"), save=ctx.saver("search", diagnostics.state))
    return Searched(supernet, result, diagnostics)


@dataclass
class Trained:
    """A retrained network (final weights), its history, and its test accuracies."""

    net: DiscreteNetwork
    result: TrainResult
    test_acc_last: float
    test_acc_at_best_val: float


def derived_network(ctx: RunContext, genotype: Genotype) -> DiscreteNetwork:
    """The discrete network of ``genotype`` at the training size, freshly initialised (seed + 1)."""
    torch.manual_seed(ctx.cfg.seed + 1)
    net = DiscreteNetwork(genotype, C=ctx.cfg.training.C, n_classes=10, n_cells=ctx.cfg.training.cells)
    return ctx.to_device(net, ctx.cfg.training.batch)


def train_stage(ctx: RunContext, net: DiscreteNetwork, hooks: TrainHooks | None = None,
                hook_state: Callable[[], dict[str, Any]] = dict) -> Trained:
    """Train ``net``; test it once after the last epoch and once at the val-best epoch.

    ``hooks`` change training (e.g. lottery-ticket pruning, built from the fresh ``net`` to keep theta_0);
    ``hook_state()`` adds their state to each checkpoint.
    """
    cfg, settings = ctx.cfg, ctx.cfg.training
    loop = TrainSettings(epochs=settings.epochs, lr=cfg.sgd.lr, momentum=cfg.sgd.momentum, weight_decay=cfg.sgd.weight_decay)
    result = train_network(net, batches(ctx.splits.train, settings.batch, cfg.seed + 2, True, settings.augment),
                           batches(ctx.splits.val, eval_batch(ctx.device), cfg.seed, False), loop, ctx.device, hooks=hooks,
                           resume=ctx.saved.get("train"), save=ctx.saver("train", hook_state))
    test = batches(ctx.splits.test, eval_batch(ctx.device), cfg.seed, False)
    last_state = {k: v.clone() for k, v in net.state_dict().items()}
    test_last = accuracy(net, test, ctx.device)
    net.load_state_dict(result.best_state)
    test_best = accuracy(net, test, ctx.device)
    net.load_state_dict(last_state)
    return Trained(net, result, test_last, test_best)


def training_metrics(ctx: RunContext, trained: Trained, masks: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Accuracies at the middle and last epoch (best so far, and at that epoch), test accuracies, MACs, parameters.

    ``val_acc_mid`` / ``val_acc_final`` are the report's columns: the best validation accuracy up to the
    middle / last epoch (its "epoch 10" / "epoch 20"). With ``masks`` (a weight mask), ``macs`` / ``params``
    count only unmasked weights and the dense counts are kept as ``dense_macs`` / ``dense_params``
    (unstructured sparsity saves no dense FLOPs, #33).
    """
    curve = [h["val_acc"] for h in trained.result.history]
    mid = ctx.cfg.training.epochs // 2
    example = torch.zeros(1, 3, ctx.cfg.data.image_size, ctx.cfg.data.image_size, device=ctx.device)
    return {
        "train_history": trained.result.history,
        "mid_epoch": mid,
        "val_acc_mid": max(curve[:mid]),
        "val_acc_final": max(curve),
        "val_acc_at_mid": curve[mid - 1],
        "val_acc_at_final": curve[-1],
        "best_epoch": trained.result.best_epoch,
        "test_acc_at_best_val": trained.test_acc_at_best_val,
        "test_acc_last": trained.test_acc_last,
        "macs": count_macs(trained.net, example, masks=masks),
        "params": count_params(trained.net, masks=masks),
        "dense_macs": count_macs(trained.net, example),
        "dense_params": count_params(trained.net),
        "train_seconds": sum(h["seconds"] for h in trained.result.history),
    }


def search_metrics(searched: Searched) -> dict[str, Any]:
    """The genotype, the final op weights per edge (as the search used them, and as the derivation ranked them)
    and their distance from uniform, the search history and time."""
    alphas = {k: v.detach().cpu().tolist() for k, v in searched.supernet.edge_weights().items()}
    return {
        "genotype": searched.supernet.genotype().to_string(),
        "alphas": alphas,
        "derivation_weights": {k: v.cpu().tolist() for k, v in searched.supernet.derivation_weights().items()},
        "alpha_top_over_uniform": top_over_uniform(alphas),
        "search_diagnostics": searched.diagnostics.epochs,
        "search_history": searched.result.history,
        "search_seconds": sum(h["seconds"] for h in searched.result.history),
    }
