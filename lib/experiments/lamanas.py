"""LAMANAS Algorithm 2 (MetaNAS with a learned task loss, meta-learned by Reptile): one Table-1 row.

:func:`algorithm2` is the whole algorithm as named stages; each resumes from the checkpoint where an
interrupted run stopped, and skips itself when its output exists (open_lth's ``lottery/runner.py`` style):

1. ``initial_meta_parameters``: theta_0, alpha_0 (the supernet, ``LamanasConfig.supernet``) and phi_0 (the
   loss network of the row), seeded by ``seed`` only, so every row of a seed starts from the same supernet;
2. ``meta_train``: ``reptile.meta_epochs`` meta-epochs (Algorithm 2's outer loop; its caption read as swapped,
   #1). A meta-epoch (``lib/meta/reptile.py:meta_train_epoch``) draws ``reptile.meta_batch_size`` tasks
   (20-way, 15 support images per class, #12) from the task stream, adapts each with the K-step task learner
   (``lib/meta/task_learner.py:adapt``: alpha and theta steps with the task loss, then phi's proxy step), and
   moves theta, alpha and phi towards the MEAN of the adapted values (#3; phi never, with ``authors_code``,
   #22). After each meta-epoch: its metrics and the movement of phi and alpha (:func:`movement`) are
   recorded, the loss network's state is kept at ``snapshot_epochs`` (Figure 3), and the state is
   checkpointed. ``reptile.meta_epochs = 0`` skips the stage: the no-meta-training control;
3. ``meta_test``: ``meta_test.tasks`` tasks of unseen characters (20-way 5-shot, 1 query per class), each
   adapted from the meta-parameters with phi frozen (#19) for ``meta_test.steps`` steps, and once more
   with ``task.steps`` steps to show what the step count alone does to accuracy (#8). Task i and its
   support batches depend only on (seed, i): the same for every row. A checkpoint follows every task;
4. ``summarize``: the row's metrics.

Seeds are paired (issue 14): for a seed s every row starts from the same theta_0 and alpha_0, sees the
same meta-training task sequence with the same support batches and drop-path masks (``reptile.adapt_paired``)
and the same meta-test tasks.

Metrics (accuracies in %): ``test_acc`` (mean over test tasks, with ``test_acc_std``) and the per-task
``test_accuracies`` (for task-level intervals), ``train_acc`` as the authors defined their "Train" column
(running mean over all meta-epochs of the query accuracy after ``task.steps`` steps, #8/#27; None without
meta-training) and the per-epoch values in ``history``, ``mean_params`` (#9: weights of the adapted
supernet without the ops whose weight is below 0.01 after adaptation, the code's ``alpha_prune_threshold``,
averaged over test tasks), phi's and alpha's movement, the meta-model's genotype, and ``loss_snapshots``.
"""

import time
from dataclasses import dataclass, replace
from statistics import fmean, pstdev
from typing import Any

import torch
from torch import Tensor, nn

from lib.darts.search import SearchNetwork
from lib.data.omniglot import FewShotTasks
from lib.data.synthetic import SyntheticFewShotTasks
from lib.pipeline.divergence import Diverged, check_finite
from lib.experiments.lamanas_config import DataSettings, LamanasConfig
from lib.meta.losses import build_loss
from lib.meta.reptile import MetaOptimizers, TaskSampler, flat, make_meta_optimizers, meta_test, meta_train_epoch
from lib.meta.task_learner import TaskWorkspace
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.device import resolve_device
from lib.training.layout import memory_format
from lib.pipeline.results import RunOutput


def algorithm2(cfg: LamanasConfig, checkpoint: Checkpoint) -> RunOutput:
    """Meta-train, then meta-test one row (module docstring); resumes from ``checkpoint`` after an interruption."""
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    train_tasks, test_tasks, source = task_samplers(cfg.data)
    state = initial_meta_parameters(cfg, device, checkpoint)
    meta_train(cfg, state, train_tasks, checkpoint)
    meta_test_tasks(cfg, state, test_tasks, checkpoint)
    return RunOutput(metrics=summarize(state), data_source=source, device=device)


def task_samplers(data: DataSettings) -> tuple[TaskSampler, TaskSampler, dict[str, Any]]:
    """Meta-train tasks (``shots_train`` shots), meta-test tasks of unseen classes, and the data provenance."""
    if data.dataset == "synthetic":
        shape = (1, data.image_size, data.image_size)
        train: Any = SyntheticFewShotTasks(data.ways, data.shots_train, data.queries, shape, split_name="meta_train")
        test: Any = SyntheticFewShotTasks(data.ways, data.shots_test, data.queries, shape, split_name="meta_test")
    else:
        common = dict(class_split=data.class_split, rotations=data.rotations)
        train = FewShotTasks("meta_train", data.ways, data.shots_train, data.queries, **common)
        test = FewShotTasks("meta_test", data.ways, data.shots_test, data.queries, **common)
    return train, test, {**train.source.as_dict(), "meta_test": test.source.as_dict()}


@dataclass
class MetaState:
    """What meta-training carries from epoch to epoch (and through a checkpoint).

    ``stream`` draws the meta-training tasks and their seeds; ``phi_0`` and ``alpha_0`` are the initial
    values (flat, CPU) the movement diagnostics are measured from.
    """

    model: SearchNetwork
    loss_net: nn.Module
    optimizers: MetaOptimizers
    stream: torch.Generator
    phi_0: Tensor
    alpha_0: Tensor
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
            "stream": self.stream.get_state(), "phi_0": self.phi_0, "alpha_0": self.alpha_0,
            "history": self.history, "snapshots": self.snapshots, "tests": self.tests,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.loss_net.load_state_dict(state["loss_net"])
        for name, optimizer_state in state["optimizers"].items():
            getattr(self.optimizers, name).load_state_dict(optimizer_state)
        self.stream.set_state(state["stream"])
        self.phi_0, self.alpha_0 = state["phi_0"], state["alpha_0"]
        self.history, self.snapshots, self.tests = state["history"], state["snapshots"], state["tests"]


def initial_meta_parameters(cfg: LamanasConfig, device: torch.device, checkpoint: Checkpoint) -> MetaState:
    """Stage 1: theta_0 and alpha_0 from ``seed`` alone (the same for every row), then phi_0; or the checkpoint's."""
    torch.manual_seed(cfg.seed)
    model = SearchNetwork(cfg.supernet.spec(cfg.data.ways)).to(device)
    loss_net = build_loss(cfg.loss, cfg.data.ways, cfg.residual, cfg.label_encoding).to(device)
    optimizers = make_meta_optimizers(model, loss_net, cfg.reptile)
    stream = torch.Generator().manual_seed(cfg.seed)
    fmt = memory_format(cfg.channels_last, model, [cfg.task.batch_size, cfg.meta_test.batch_size], device)
    state = MetaState(model, loss_net, optimizers, stream, phi_vector(loss_net), alpha_vector(model), [], {}, [],
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


def phi_vector(loss_net: nn.Module) -> Tensor:
    """All loss-network parameters flattened into one CPU vector (empty for cross-entropy)."""
    return flat(loss_net.parameters()).cpu()


def alpha_vector(model: SearchNetwork) -> Tensor:
    """All architecture parameters flattened into one CPU vector."""
    return flat(model.alphas()).cpu()


def top_op_ratio(model: SearchNetwork) -> float:
    """Mean over the edges of both cell types of the top op's softmax weight (temperature 1) x the op count.

    1.0 is the uniform mixture the search starts from; the issue's "left uniform" bar is 1.5.
    """
    weights = torch.cat(list(model.edge_weights(1.0).values())).detach()
    return float(weights.max(dim=1).values.mean() * weights.shape[1])


def movement(state: MetaState, phi_before: Tensor, alpha_before: Tensor) -> dict[str, float]:
    """How far phi and alpha moved in this meta-epoch and since initialisation (L2), and alpha's top-op ratio."""
    phi, alpha = phi_vector(state.loss_net), alpha_vector(state.model)
    norm = lambda v: float(torch.linalg.vector_norm(v))
    return {"phi_distance_from_init": norm(phi - state.phi_0), "alpha_change_norm": norm(alpha - alpha_before),
            "alpha_distance_from_init": norm(alpha - state.alpha_0), "alpha_top_op_ratio": top_op_ratio(state.model)}


def meta_train(cfg: LamanasConfig, state: MetaState, train_tasks: TaskSampler, checkpoint: Checkpoint) -> None:
    """Stage 2: meta-epochs ``len(history) + 1 .. reptile.meta_epochs``; record, snapshot and checkpoint each."""
    for epoch in range(len(state.history) + 1, cfg.reptile.meta_epochs + 1):
        start_time = time.perf_counter()
        phi_before, alpha_before = phi_vector(state.loss_net), alpha_vector(state.model)
        try:
            m = meta_train_epoch(state.model, state.loss_net, train_tasks, cfg.reptile, cfg.task, state.optimizers,
                                 state.stream, proxy=cfg.proxy if cfg.trains_phi() else None,
                                 authors_code=cfg.authors_code, workspace=state.workspace)
        except Diverged as diverged:
            raise diverged.within(f"meta-epoch {epoch}") from None
        check_finite("meta-training metrics", vars(m), f"meta-epoch {epoch}")
        accuracies = [h["query_acc"] for h in state.history] + [100 * m.query_accuracy]
        state.history.append({
            "epoch": epoch, "query_acc": 100 * m.query_accuracy, "train_acc_running": fmean(accuracies),
            "query_ce": m.query_ce, "learned_loss": m.learned_loss, "phi_change_norm": m.phi_change_norm,
            **movement(state, phi_before, alpha_before), "seconds": time.perf_counter() - start_time,
        })
        if epoch in cfg.snapshot_epochs:
            state.snapshots[str(epoch)] = loss_state_lists(state.loss_net)
        checkpoint.save(state.state_dict())


def meta_test_tasks(cfg: LamanasConfig, state: MetaState, test_tasks: TaskSampler, checkpoint: Checkpoint) -> None:
    """Stage 3: test tasks ``len(tests) .. meta_test.tasks - 1`` (task i is the same for every row); checkpoint each.

    Each task is adapted twice from the meta-parameters: with ``meta_test.steps`` (the reported protocol) and
    with ``task.steps`` (the meta-training protocol). Support batches are seeded by (seed, task index).
    """
    full_settings = cfg.test_task_learner()
    short_settings = replace(full_settings, steps=cfg.task.steps)
    for index in range(len(state.tests), cfg.meta_test.tasks):
        start_time = time.perf_counter()
        task = test_tasks.sample(index)
        try:
            full = meta_test(state.model, state.loss_net, [task], full_settings, _test_generator(cfg, index),
                             state.workspace)
            brief = meta_test(state.model, state.loss_net, [task], short_settings, _test_generator(cfg, index),
                              state.workspace)
        except Diverged as diverged:
            raise diverged.within(f"meta-test task {index}") from None
        check_finite("meta-test metrics", vars(full), f"meta-test task {index}")
        state.tests.append({
            "task": index, "acc": 100 * full.accuracy_mean, "acc_task_steps": 100 * brief.accuracy_mean,
            "query_ce": full.query_ce_mean, "learned_loss": full.learned_loss_mean,
            "sparse_params": full.sparse_params_mean, "seconds": time.perf_counter() - start_time,
        })
        checkpoint.save(state.state_dict())


def _test_generator(cfg: LamanasConfig, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(1_000_003 * (cfg.seed + 1) + index)


def summarize(state: MetaState) -> dict[str, Any]:
    """Stage 4: the row's metrics from the meta-training history and the meta-test results (accuracies in %)."""
    tests, history = state.tests, state.history
    acc = [t["acc"] for t in tests]
    params = [t["sparse_params"] for t in tests]
    last = history[-1] if history else {}
    return {
        "test_acc": fmean(acc), "test_acc_std": pstdev(acc), "test_accuracies": acc,
        "test_acc_task_steps": fmean(t["acc_task_steps"] for t in tests),
        "test_query_ce": fmean(t["query_ce"] for t in tests),
        "test_learned_loss": fmean(t["learned_loss"] for t in tests),
        "mean_params": fmean(params), "min_params": min(params), "max_params": max(params),
        "train_acc": last.get("train_acc_running"), "train_acc_last_epoch": last.get("query_acc"),
        "history": history, "test_tasks_detail": tests,
        "phi_change_total": float(torch.linalg.vector_norm(phi_vector(state.loss_net) - state.phi_0)),
        "alpha_change_total": float(torch.linalg.vector_norm(alpha_vector(state.model) - state.alpha_0)),
        "alpha_top_op_ratio": top_op_ratio(state.model),
        "genotype": state.model.genotype().to_string(),
        "loss_snapshots": state.snapshots,
        "meta_train_seconds": sum(h["seconds"] for h in history),
        "meta_test_seconds": sum(t["seconds"] for t in tests),
    }
