"""One LAMANAS Table-1 row: Reptile meta-training of a DARTS supernet with a task loss, then meta-testing.

A row is a task loss (``loss``: cross-entropy, the MetaNAS baseline; or a learned FNN / LSTM loss network,
with or without the cross-entropy residual, trained through the MSE or the inner-product proxy) and
``authors_code`` (reproduce the authors' detached proxy logits, #21, and their missing phi meta-update,
#22). The run:

1. meta-trains for ``meta_epochs`` Reptile updates of ``meta_batch_size`` tasks each (Algorithm 2 with
   its caption read as swapped, #1; mean over tasks, #3): 20-way tasks with 15 support images per class
   (#12), ``task_steps`` adaptation steps with Adam task optimizers whose states are fresh per task
   (a departure: the code kept them across tasks), softmax temperature annealed 1.0 -> 0.05, drop-path
   0.2, ops and input pairs below ``op_prune_threshold`` skipped (#15). After every meta-epoch the state
   is checkpointed, and at ``snapshot_epochs`` the loss network's state is stored (Figure 3);
2. meta-tests on ``test_tasks`` tasks of unseen characters (20-way 5-shot, 1 query per class):
   ``test_steps`` adaptation steps with phi frozen (#19), once more with ``task_steps`` steps on the same
   tasks to show what the step count alone does to accuracy (#8). A checkpoint follows every task.

Metrics (accuracies in %): ``test_acc`` (mean over test tasks, with ``test_acc_std``), ``train_acc`` as the
authors defined their "Train" column (running mean over all meta-epochs of the query accuracy after
``task_steps`` steps, #8/#27) and the per-epoch values in ``history``, ``mean_params`` (#9: weights of the
adapted supernet without the ops whose weight is below 0.01 after adaptation, the code's
``alpha_prune_threshold``, averaged over test tasks), phi's change per epoch and in total, the meta-model's
genotype, and ``loss_snapshots``.
"""

import time
from dataclasses import dataclass, replace
from statistics import fmean, pstdev
from typing import Any

import torch
from torch import nn

from lib.pipeline.checkpoint import Checkpoint
from lib.darts.search import SearchNetwork, SearchSpec
from lib.data.omniglot import FewShotTasks
from lib.data.synthetic import SyntheticFewShotTasks
from lib.pipeline.device import resolve_device
from lib.experiments.profiles import for_profile
from lib.meta.losses import build_loss
from lib.meta.reptile import (MetaOptimizers, ReptileSettings, TaskSampler, make_meta_optimizers, meta_test,
                              meta_train_epoch)
from lib.meta.task_learner import TaskLearnerSettings, TaskWorkspace
from lib.training.layout import memory_format
from lib.pipeline.results import RunOutput

LOSSES = ("ce", "fnn", "lstm")
PROXIES = ("mse", "inner_product")


@dataclass(frozen=True)
class LamanasConfig:
    """Every setting of one row. Defaults (= ``paper``) are the authors' code values (lamanas_setup.json)."""

    experiment: str = "lamanas"
    profile: str = "paper"
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    channels_last: bool | str = "auto"  # execution setting: "auto" = where safe (lib.training.layout)
    # the row
    loss: str = "ce"
    residual: bool = False
    proxy: str = "none"
    authors_code: bool = False
    label_encoding: str = "index"  # the code's class-index column (#17a); "one_hot" is the alternative
    # data (#12, #13)
    data: str = "omniglot"
    class_split: str = "background"
    rotations: bool = True
    image_size: int = 28
    ways: int = 20
    shots_train: int = 15
    shots_test: int = 5
    queries: int = 1
    # supernet (#14, #15)
    C: int = 28
    n_cells: int = 4
    n_nodes: int = 3
    reduction_cells: tuple[int, ...] = (1, 3)
    pairwise_inputs: bool = True
    op_prune_threshold: float = 0.01
    # task learner (#16)
    task_steps: int = 5
    test_steps: int = 50
    batch_size: int = 20
    batch_size_test: int = 10
    w_lr: float = 0.005
    alpha_lr: float = 0.005
    alpha_weight_decay: float = 1e-3
    phi_lr: float = 0.01
    t_max: float = 1.0
    t_min: float = 0.05
    drop_path_prob: float = 0.2
    proxy_weights: str = "task_lr"
    # meta-learner (#3, #11, #22, #26)
    meta_epochs: int = 200
    meta_batch_size: int = 10
    theta_meta_lr: float = 1.0
    alpha_meta_lr: float = 0.6
    phi_meta_lr: float = 0.001
    # evaluation
    test_tasks: int = 125
    snapshot_epochs: tuple[int, ...] = (0, 1, 15, 20, 122, 200)

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> "LamanasConfig":
        return for_profile(cls, PROFILES, profile, **overrides)

    def __post_init__(self) -> None:
        for name in ("reduction_cells", "snapshot_epochs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _check_row(self)
        _check_choices(self)
        if self.data == "omniglot" and self.image_size != 28:
            raise ValueError(f"Omniglot images are 28x28; image_size={self.image_size} needs data='synthetic'")
        late = [e for e in self.snapshot_epochs if not 0 <= e <= self.meta_epochs]
        if late:
            raise ValueError(f"snapshot_epochs {late} are outside 0..meta_epochs={self.meta_epochs}")


def _check_row(cfg: LamanasConfig) -> None:
    """The loss / proxy / residual / authors_code combination names one row, or the error says why not."""
    if cfg.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {cfg.loss!r}")
    if cfg.loss == "ce":
        if cfg.proxy != "none" or cfg.residual or cfg.authors_code:
            raise ValueError("loss='ce' (the MetaNAS baseline) has no loss network: use proxy='none', "
                             "residual=False, authors_code=False")
    elif cfg.proxy not in PROXIES:
        raise ValueError(f"a learned loss ({cfg.loss!r}) needs proxy in {PROXIES}, got {cfg.proxy!r}")


def _check_choices(cfg: LamanasConfig) -> None:
    """Named options are among their choices and counts are positive."""
    choices = {"data": ("omniglot", "synthetic"), "class_split": ("background", "vinyals"),
               "label_encoding": ("index", "one_hot"), "proxy_weights": ("task_lr", "one")}
    for name, allowed in choices.items():
        if getattr(cfg, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {getattr(cfg, name)!r}")
    for name in ("meta_epochs", "meta_batch_size", "task_steps", "test_steps", "test_tasks"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(cfg, name)}")


PROFILES: dict[str, dict[str, Any]] = {
    "paper": {},
    # Sized so that all LAMANAS cpu rows fit in about two hours as parallel one-thread processes on two
    # cores (see book/lamanas.md for the measured costs behind it).
    "cpu": dict(threads=1, C=8, meta_epochs=8, meta_batch_size=4, test_steps=25, test_tasks=8,
                snapshot_epochs=(0, 1, 4, 8)),
    "smoke": dict(data="synthetic", image_size=14, threads=1, ways=5, shots_train=3, shots_test=2, C=4, n_cells=2,
                  n_nodes=2, reduction_cells=(1,), task_steps=2, test_steps=3, batch_size=10, batch_size_test=5,
                  meta_epochs=2, meta_batch_size=2, test_tasks=2, snapshot_epochs=(0, 1, 2)),
}


def paper_config(**row: Any) -> LamanasConfig:
    """The authors' settings for a row, the reference the reduced profiles are compared with."""
    return LamanasConfig.for_profile("paper", **row)


def search_spec(cfg: LamanasConfig) -> SearchSpec:
    """MetaNAS's supernet (#15): fewshot ops, stem x3, channels not doubled, no running BN statistics."""
    return SearchSpec(space="fewshot", C=cfg.C, n_classes=cfg.ways, n_cells=cfg.n_cells, n_nodes=cfg.n_nodes,
                      in_channels=1, reduction_cells=cfg.reduction_cells, channel_growth=1,
                      track_running_stats=False, op_prune_threshold=cfg.op_prune_threshold,
                      pairwise_inputs=cfg.pairwise_inputs)


def task_settings(cfg: LamanasConfig) -> tuple[TaskLearnerSettings, TaskLearnerSettings]:
    """(meta-train, meta-test) task learners: meta-test has its own steps and batch size and no drop-path."""
    train = TaskLearnerSettings(steps=cfg.task_steps, batch_size=cfg.batch_size, w_lr=cfg.w_lr, alpha_lr=cfg.alpha_lr,
                                alpha_weight_decay=cfg.alpha_weight_decay, phi_lr=cfg.phi_lr, t_max=cfg.t_max,
                                t_min=cfg.t_min, drop_path_prob=cfg.drop_path_prob, proxy_weights=cfg.proxy_weights)
    return train, replace(train, steps=cfg.test_steps, batch_size=cfg.batch_size_test, drop_path_prob=0.0)


def reptile_settings(cfg: LamanasConfig) -> ReptileSettings:
    """Meta-learner settings; phi is trained by the proxy only for a learned loss."""
    return ReptileSettings(meta_batch_size=cfg.meta_batch_size, theta_meta_lr=cfg.theta_meta_lr,
                           alpha_meta_lr=cfg.alpha_meta_lr, phi_meta_lr=cfg.phi_meta_lr,
                           proxy=None if cfg.loss == "ce" else cfg.proxy, authors_code=cfg.authors_code,
                           task=task_settings(cfg)[0])


def task_samplers(cfg: LamanasConfig) -> tuple[TaskSampler, TaskSampler, dict[str, Any]]:
    """Meta-train tasks (``shots_train`` shots), meta-test tasks of unseen classes, and the data provenance."""
    if cfg.data == "synthetic":
        shape = (1, cfg.image_size, cfg.image_size)
        train: Any = SyntheticFewShotTasks(cfg.ways, cfg.shots_train, cfg.queries, shape, split_name="meta_train")
        test: Any = SyntheticFewShotTasks(cfg.ways, cfg.shots_test, cfg.queries, shape, split_name="meta_test")
    else:
        common = dict(class_split=cfg.class_split, rotations=cfg.rotations)
        train = FewShotTasks("meta_train", cfg.ways, cfg.shots_train, cfg.queries, **common)
        test = FewShotTasks("meta_test", cfg.ways, cfg.shots_test, cfg.queries, **common)
    return train, test, {**train.source.as_dict(), "meta_test": test.source.as_dict()}


@dataclass
class MetaState:
    """What meta-training carries from epoch to epoch (and through a checkpoint)."""

    model: SearchNetwork
    loss_net: nn.Module
    optimizers: MetaOptimizers
    generator: torch.Generator
    phi_0: torch.Tensor
    history: list[dict[str, Any]]
    snapshots: dict[str, dict[str, list]]
    tests: list[dict[str, Any]]
    workspace: TaskWorkspace | None = None  # the task learner's working copies (not saved)

    def state_dict(self) -> dict[str, Any]:
        opt = self.optimizers
        return {
            "model": self.model.state_dict(), "loss_net": self.loss_net.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in (("theta", opt.theta), ("alpha", opt.alpha), ("phi", opt.phi))
                           if o is not None},
            "generator": self.generator.get_state(), "rng": torch.get_rng_state(), "phi_0": self.phi_0,
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "history": self.history, "snapshots": self.snapshots, "tests": self.tests,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.loss_net.load_state_dict(state["loss_net"])
        for name, optimizer_state in state["optimizers"].items():
            getattr(self.optimizers, name).load_state_dict(optimizer_state)
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.phi_0, self.history, self.snapshots, self.tests = (state["phi_0"], state["history"], state["snapshots"],
                                                                state["tests"])


def start(cfg: LamanasConfig, device: torch.device, checkpoint: Checkpoint) -> MetaState:
    """Fresh meta-parameters (seeded), or those of an interrupted run."""
    torch.manual_seed(cfg.seed)
    model = SearchNetwork(search_spec(cfg)).to(device)
    loss_net = build_loss(cfg.loss, cfg.ways, cfg.residual, cfg.label_encoding).to(device)
    optimizers = make_meta_optimizers(model, loss_net, reptile_settings(cfg))
    generator = torch.Generator().manual_seed(cfg.seed)
    fmt = memory_format(cfg.channels_last, model, [cfg.batch_size, cfg.batch_size_test], device)
    state = MetaState(model, loss_net, optimizers, generator, phi_vector(loss_net), [], {}, [],
                      TaskWorkspace(model, loss_net, fmt))
    saved = checkpoint.load()
    if saved is not None:
        state.load_state_dict(saved)
    elif 0 in cfg.snapshot_epochs:
        state.snapshots["0"] = loss_state_lists(loss_net)
    return state


def loss_state_lists(loss_net: nn.Module) -> dict[str, list]:
    """The loss network's parameters as nested lists (JSON); empty for cross-entropy."""
    return {name: p.detach().cpu().tolist() for name, p in loss_net.named_parameters()}


def phi_vector(loss_net: nn.Module) -> torch.Tensor:
    """All loss-network parameters flattened into one CPU vector (empty for cross-entropy)."""
    return torch.cat([p.detach().flatten().cpu() for p in loss_net.parameters()] or [torch.zeros(0)])


def meta_train(cfg: LamanasConfig, state: MetaState, train_tasks: TaskSampler, checkpoint: Checkpoint) -> None:
    """Meta-epochs ``len(history) + 1 .. meta_epochs``; checkpoint after each one."""
    settings = reptile_settings(cfg)
    for epoch in range(len(state.history) + 1, cfg.meta_epochs + 1):
        start_time = time.perf_counter()
        m = meta_train_epoch(state.model, state.loss_net, train_tasks, settings, state.optimizers, state.generator,
                             state.workspace)
        accuracies = [h["query_acc"] for h in state.history] + [100 * m.query_accuracy]
        state.history.append({
            "epoch": epoch, "query_acc": 100 * m.query_accuracy, "train_acc_running": fmean(accuracies),
            "query_ce": m.query_ce, "learned_loss": m.learned_loss, "phi_change_norm": m.phi_change_norm,
            "seconds": time.perf_counter() - start_time,
        })
        if epoch in cfg.snapshot_epochs:
            state.snapshots[str(epoch)] = loss_state_lists(state.loss_net)
        checkpoint.save(state.state_dict())


def meta_test_tasks(cfg: LamanasConfig, state: MetaState, test_tasks: TaskSampler, checkpoint: Checkpoint) -> None:
    """Test tasks ``len(tests) .. test_tasks - 1`` (task i is the same for every row and seed); checkpoint each.

    Each task is adapted twice from the meta-parameters: with ``test_steps`` (the reported protocol) and
    with ``task_steps`` (the meta-training protocol). Support batches are seeded by (seed, task index).
    """
    _, test_settings = task_settings(cfg)
    short = replace(test_settings, steps=cfg.task_steps)
    for index in range(len(state.tests), cfg.test_tasks):
        start_time = time.perf_counter()
        task = test_tasks.sample(index)
        full = meta_test(state.model, state.loss_net, [task], test_settings, _test_generator(cfg, index),
                         state.workspace)
        brief = meta_test(state.model, state.loss_net, [task], short, _test_generator(cfg, index), state.workspace)
        state.tests.append({
            "task": index, "acc": 100 * full.accuracy_mean, "acc_task_steps": 100 * brief.accuracy_mean,
            "query_ce": full.query_ce_mean, "learned_loss": full.learned_loss_mean,
            "sparse_params": full.sparse_params_mean, "seconds": time.perf_counter() - start_time,
        })
        checkpoint.save(state.state_dict())


def _test_generator(cfg: LamanasConfig, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(1_000_003 * (cfg.seed + 1) + index)


def summarize(state: MetaState) -> dict[str, Any]:
    """The row's metrics from the finished meta-training history and meta-test results (accuracies in %)."""
    tests, history = state.tests, state.history
    acc = [t["acc"] for t in tests]
    params = [t["sparse_params"] for t in tests]
    phi_total = float(torch.linalg.vector_norm(phi_vector(state.loss_net) - state.phi_0))
    return {
        "test_acc": fmean(acc), "test_acc_std": pstdev(acc), "test_accuracies": acc,
        "test_acc_task_steps": fmean(t["acc_task_steps"] for t in tests),
        "test_query_ce": fmean(t["query_ce"] for t in tests),
        "test_learned_loss": fmean(t["learned_loss"] for t in tests),
        "mean_params": fmean(params), "min_params": min(params), "max_params": max(params),
        "train_acc": history[-1]["train_acc_running"], "train_acc_last_epoch": history[-1]["query_acc"],
        "history": history, "test_tasks_detail": tests,
        "phi_change_total": phi_total, "genotype": state.model.genotype().to_string(),
        "loss_snapshots": state.snapshots,
        "meta_train_seconds": sum(h["seconds"] for h in history),
        "meta_test_seconds": sum(t["seconds"] for t in tests),
    }


def run(cfg: LamanasConfig, checkpoint: Checkpoint) -> RunOutput:
    """Meta-train, then meta-test one row; resumes from ``checkpoint`` after an interruption."""
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    train_tasks, test_tasks, source = task_samplers(cfg)
    state = start(cfg, device, checkpoint)
    meta_train(cfg, state, train_tasks, checkpoint)
    meta_test_tasks(cfg, state, test_tasks, checkpoint)
    return RunOutput(metrics=summarize(state), data_source=source, device=device)
