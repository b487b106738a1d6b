"""Time the library's default path against a reference-equivalent eager baseline, case by case.

Cases (issue 9): the DARTS CIFAR supernet's search step at the small profile's size (called cpu when the issue was filed) and the paper's, the
few-shot (MetaNAS) supernet's search step at both sizes, a derived-network training step, an evaluation
pass, and one whole LAMANAS meta-test task (adaptation on its support set). For each case both paths
start from the same seeded weights and run interleaved (one repetition of each per round, so a machine
that gets busier slows both alike); the medians and their ratio ``ours / baseline`` are reported.

* ours: the library as a run uses it: pruned and 'none' ops skipped, max-pool in channels_last, channels_last where
  :mod:`lib.training.layout` allows it ("auto"), :func:`lib.training.search.search_step`,
  :func:`lib.training.evaluate.accuracy` (inference_mode, batch 64), a reused :class:`TaskWorkspace`.
* baseline: what the MetaNAS and DARTS code do: every op computed ('none' as ``x * 0``), NCHW (max-pool
  included, see :class:`lib.darts.ops.MaxPool`), the alpha
  step as a full ``backward()``, a deep copy of the model and new optimizers per task, evaluation under
  ``no_grad`` at batch 256.

Usage::

    python benchmarks/benchmark.py [--threads 1 2] [--quick] [--device cpu|cuda] [--cases NAME ...]

Rows are merged into ``benchmarks/results.json`` by (case, threads, device): a later run replaces its
own rows and keeps the others.
"""

import argparse
import copy
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.darts.genotype import Genotype  # noqa: E402
from lib.darts.network import DiscreteNetwork  # noqa: E402
from lib.darts.ops import MaxPool  # noqa: E402
from lib.darts.search import SearchNetwork, SearchSpec  # noqa: E402
from lib.data.synthetic import SyntheticFewShotTasks  # noqa: E402
from lib.experiments.lamanas_config import LamanasConfig  # noqa: E402
from lib.meta.losses import CrossEntropyLoss  # noqa: E402
from lib.meta.task_learner import TaskWorkspace, adapt  # noqa: E402
from lib.pipeline.atomic import write_json  # noqa: E402
from lib.pipeline.provenance import git_state, software  # noqa: E402
from lib.training.evaluate import accuracy, eval_batch  # noqa: E402
from lib.training.layout import memory_format  # noqa: E402
from lib.training.search import SearchSettings, SearchStepper, search_step  # noqa: E402
from lib.training.train import TrainSettings, train_step  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.json"
TARGETS = {"search": 0.5, "train": 0.5, "eval": 0.35, "task": 0.5}
# DARTS V2 (quark0), the genotype of the derived-network cases.
DARTS_V2 = Genotype.from_string(
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
Batch = tuple[Tensor, Tensor]
Step = Callable[[], None]


@dataclass(frozen=True)
class Case:
    """One timed comparison: ``build(device)`` returns the (ours, baseline) callables."""

    name: str
    kind: str  # search | train | eval | task: which target applies
    paper_size: bool
    build: Callable[[torch.device], tuple[Step, Step]]
    repeats: int = 3


def _batch(n: int, channels: int, side: int, classes: int, device: torch.device) -> Batch:
    return torch.randn(n, channels, side, side, device=device), torch.randint(classes, (n,), device=device)


def reference_search_step(model: SearchNetwork, w_optim: torch.optim.SGD, a_optim: torch.optim.Adam,
                          settings: SearchSettings, train: Batch, val: Batch) -> None:
    """quark0/darts' first-order step: ``backward()`` of the validation loss into every parameter, Adam on the
    alphas; then forward, ``backward()``, clipping and SGD on the weights."""
    a_optim.zero_grad()
    F.cross_entropy(model(val[0]), val[1]).backward()
    a_optim.step()
    w_optim.zero_grad()
    F.cross_entropy(model(train[0]), train[1]).backward()
    nn.utils.clip_grad_norm_(model.weights(), settings.grad_clip)
    w_optim.step()


def reference_layout(model: nn.Module) -> nn.Module:
    """The references' max-pool: NCHW throughout (undo :class:`lib.darts.ops.MaxPool`'s channels_last pass)."""
    for module in model.modules():
        if isinstance(module, MaxPool):
            module.__class__ = nn.MaxPool2d
    return model


def search_case(spec: SearchSpec, batch: int, side: int) -> Callable[[torch.device], tuple[Step, Step]]:
    """Search-step comparison on a supernet of ``spec`` with batches of ``batch`` images ``side`` x ``side``."""
    def build(device: torch.device) -> tuple[Step, Step]:
        torch.manual_seed(0)
        ours = SearchNetwork(spec)
        baseline = reference_layout(copy.deepcopy(ours).compute_every_op()).to(device)
        ours = ours.to(device, memory_format=memory_format("auto", ours, [batch], device))
        settings = SearchSettings(epochs=1)
        train, val = (_batch(batch, spec.in_channels, side, spec.n_classes, device) for _ in range(2))
        stepper = SearchStepper.build(ours, settings)
        reference = SearchStepper.build(baseline, settings)
        return (lambda: search_step(stepper, train, val),
                lambda: reference_search_step(baseline, reference.w_optim, reference.a_optim, settings, train, val))
    return build


def _discrete(C: int, cells: int) -> DiscreteNetwork:
    torch.manual_seed(0)
    return DiscreteNetwork(DARTS_V2, C=C, n_classes=10, n_cells=cells)


def train_case(C: int, cells: int, batch: int) -> Callable[[torch.device], tuple[Step, Step]]:
    """Derived-network training step (SGD, clipping): the library's default layout vs NCHW."""
    def build(device: torch.device) -> tuple[Step, Step]:
        nets = [_discrete(C, cells).to(device), reference_layout(_discrete(C, cells)).to(device)]
        nets[0] = nets[0].to(memory_format=memory_format("auto", nets[0], [batch], device))
        settings = TrainSettings(epochs=1)
        x, y = _batch(batch, 3, 32, 10, device)
        optims = [torch.optim.SGD(n.parameters(), settings.lr, momentum=settings.momentum,
                                  weight_decay=settings.weight_decay) for n in nets]
        return tuple(lambda n=n, o=o: train_step(n, o, x, y, settings) for n, o in zip(nets, optims))
    return build


@torch.no_grad()
def reference_accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 256) -> float:
    """The usual evaluation loop: eval mode, ``no_grad``, batches of 256, float32, NCHW."""
    model.eval()
    correct = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch), y.split(batch)))
    return 100.0 * correct / len(y)


def eval_case(C: int, cells: int, images: int) -> Callable[[torch.device], tuple[Step, Step]]:
    """An evaluation pass over ``images`` CIFAR-sized images: :func:`accuracy` as the library runs it vs the
    usual loop. Both networks hold the same weights; the accuracies are checked to agree."""
    def build(device: torch.device) -> tuple[Step, Step]:
        ours = _discrete(C, cells).to(device)
        baseline = reference_layout(copy.deepcopy(ours))
        batch = eval_batch(device)
        ours = ours.to(memory_format=memory_format("auto", ours, [batch], device))
        x, y = _batch(images, 3, 32, 10, device)
        batches = list(zip(x.split(batch), y.split(batch)))
        if abs(accuracy(ours, batches, device) - reference_accuracy(baseline, x, y)) > 100.0 / images:
            raise AssertionError("evaluation: the default path and the baseline disagree by more than one image")
        return lambda: accuracy(ours, batches, device), lambda: reference_accuracy(baseline, x, y)
    return build


def task_case(cfg: LamanasConfig, steps: int | None = None) -> Callable[[torch.device], tuple[Step, Step]]:
    """One LAMANAS meta-test task at ``cfg``'s size: ``steps`` (default ``meta_test.steps``) adaptation steps
    and the query pass.

    ours: a reused workspace (in-place copies, optimizers reset) in the default layout; baseline: a deep
    copy of a compute-every-op model and new optimizers per task, NCHW."""
    def build(device: torch.device) -> tuple[Step, Step]:
        torch.manual_seed(0)
        meta = SearchNetwork(cfg.supernet.spec(cfg.data.ways)).to(device)
        reference = reference_layout(copy.deepcopy(meta).compute_every_op())
        loss = CrossEntropyLoss()
        data = cfg.data
        task = SyntheticFewShotTasks(data.ways, data.shots_test, data.queries, (1, 28, 28), seed=0).sample(0)
        settings = replace(cfg.test_task_learner(), steps=steps or cfg.meta_test.steps)
        fmt = memory_format("auto", meta, [cfg.task.batch_size, cfg.meta_test.batch_size], device)
        workspace = TaskWorkspace(meta, loss, fmt)

        def run(model: SearchNetwork, ws: TaskWorkspace | None) -> None:
            adapt(model, loss, task, settings, train_phi=False, proxy=None,
                  generator=torch.Generator().manual_seed(0), workspace=ws)

        return lambda: run(meta, workspace), lambda: run(reference, None)
    return build


CPU_LAMANAS = LamanasConfig.for_profile("small")  # the "_cpu" cases keep the sizes issue 9 named cpu
PAPER_LAMANAS = LamanasConfig.for_profile("paper")


def cases() -> list[Case]:
    """Every case of the issue; the "_cpu" sizes are the small profiles' (called cpu when issue 9 was filed), the
    paper sizes the reports'."""
    fewshot = {name: cfg.supernet.spec(cfg.data.ways) for name, cfg in (("cpu", CPU_LAMANAS), ("paper", PAPER_LAMANAS))}
    return [
        Case("darts_search_cpu", "search", False, search_case(SearchSpec("darts", C=8, n_classes=10, n_cells=5), 32, 32)),
        Case("darts_search_paper", "search", True, search_case(SearchSpec("darts", C=16, n_classes=10, n_cells=8), 64, 32),
             repeats=2),
        Case("fewshot_search_cpu", "search", False, search_case(fewshot["cpu"], 20, 28)),
        Case("fewshot_search_paper", "search", True, search_case(fewshot["paper"], 20, 28)),
        Case("train_step", "train", True, train_case(16, 8, 64)),
        Case("eval_pass", "eval", True, eval_case(16, 8, 1024)),
        Case("lamanas_task_cpu", "task", False, task_case(CPU_LAMANAS), repeats=3),
        # the paper's task (C=28) with 10 of its 50 steps: every step costs the same, so the ratio is the task's
        Case("lamanas_task_paper", "task", True, task_case(PAPER_LAMANAS, steps=10), repeats=3),
    ]


def _timed(step: Step, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_case(case: Case, device: torch.device, repeats: int) -> dict[str, object]:
    """One warm-up of each path, then ``repeats`` interleaved rounds; medians and their ratio."""
    ours, baseline = case.build(device)
    _timed(ours, device), _timed(baseline, device)
    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    for _ in range(repeats):
        times["ours"].append(_timed(ours, device))
        times["baseline"].append(_timed(baseline, device))
    ours_s, baseline_s = statistics.median(times["ours"]), statistics.median(times["baseline"])
    return {"case": case.name, "threads": torch.get_num_threads(), "device": device.type,
            "ours_s": ours_s, "baseline_s": baseline_s, "ratio": ours_s / baseline_s,
            "target": TARGETS[case.kind], "holds": ours_s / baseline_s <= TARGETS[case.kind],
            "repeats": repeats, "ours_all_s": times["ours"], "baseline_all_s": times["baseline"],
            "load_average": os.getloadavg()[0]}


def merge(rows: list[dict[str, object]], path: Path, meta: dict[str, object]) -> dict[str, object]:
    """Replace the rows of ``path`` with the same (case, threads, device) and write it atomically."""
    old = json.loads(path.read_text()) if path.exists() else {"runs": [], "results": []}
    keys = {(r["case"], r["threads"], r["device"]) for r in rows}
    kept = [r for r in old["results"] if (r["case"], r["threads"], r["device"]) not in keys]
    order = {c.name: i for i, c in enumerate(cases())}
    results = sorted(kept + rows, key=lambda r: (r["device"], r["threads"], order.get(r["case"], 99)))
    record = {"runs": old["runs"] + [meta], "results": results}
    write_json(path, record)
    return record


def table(results: Sequence[dict[str, object]]) -> str:
    """The rows as a Markdown table."""
    lines = ["| case | device | threads | ours s | baseline s | ratio | target | holds |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    lines += [f"| {r['case']} | {r['device']} | {r['threads']} | {r['ours_s']:.3f} | {r['baseline_s']:.3f} | "
              f"{r['ratio']:.2f} | <= {r['target']} | {'yes' if r['holds'] else 'no'} |" for r in results]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="intra-op thread counts to run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="skip the paper-size cases; 2 repetitions")
    parser.add_argument("--cases", nargs="+", help="only these cases (names as in results.json)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    chosen = [c for c in cases() if (not args.cases or c.name in args.cases) and not (args.quick and c.paper_size)]
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for case in chosen:
            row = time_case(case, device, 2 if args.quick else case.repeats)
            rows.append({**row, "quick": args.quick})
            print(f"{case.name:<22} {threads} thread(s) ours {row['ours_s']:.3f} s  baseline {row['baseline_s']:.3f} s"
                  f"  ratio {row['ratio']:.2f}", flush=True)
    meta = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "argv": sys.argv[1:],
            "cpu_count": os.cpu_count(), "git": git_state(), "software": software(),
            "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None}
    record = merge(rows, args.json, meta)
    print(table(record["results"]))


if __name__ == "__main__":
    main()
