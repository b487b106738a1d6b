"""One short check on a lent GPU: the CUDA tests, then one step of each paper-size experiment, timed.

Run from the repository root on the GPU machine (no network, no Ray needed)::

    python benchmarks/gpu_check.py [--json PATH] [--budget-s 240] [--quick]

What it times, on synthetic data of the real shapes (the library's own loops, so per-step host work such
as moving batches to the device and reading losses back is included):

* ``darts_search_step``: one first-order DARTS search step (architecture step + weight step) of the
  ``paper`` LNAS supernet (``search.C``, ``search.cells``, batch ``search.batch``), via ``lib.training.search``
  (whose loop runs :func:`lib.training.search.search_step`).
* ``derived_train_step``: one training step of the derived network at the ``paper`` ``training.C``,
  ``training.cells``, batch ``training.batch``, via ``lib.training.train`` (:func:`~lib.training.train.train_step`).
* ``lamanas_task_adaptation`` (per row kind): one meta-training task (``task.steps`` adaptation steps of the
  C=28, 4-cell supernet at batch 20, with the loss-network update of a learned-loss row), via
  ``meta_train_epoch`` with the run's reused task workspace; and ``lamanas_meta_test_task``: one meta-test
  task of ``meta_test.steps`` (50) steps.

A per-step time is the difference between two runs of the loop with different step counts divided by the
difference in steps (set-up and evaluation cancel out), after one warm-up run (cuDNN autotuning). The
per-row estimates multiply by the step counts of the ``paper`` configs and leave out evaluation passes.
The JSON goes to ``--json``, else ``$OUT/gpu_check.json`` when ``OUT`` is set, else stdout only.
``--quick`` shrinks every network so the script can be checked on a CPU in about a minute.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.darts.network import DiscreteNetwork  # noqa: E402
from lib.darts.search import SearchNetwork, SearchSpec  # noqa: E402
from lib.data.cifar10 import TensorBatches  # noqa: E402
from lib.experiments import lamanas, lnas  # noqa: E402
from lib.experiments.lamanas_config import LamanasConfig  # noqa: E402
from lib.experiments.profiles import flat  # noqa: E402
from lib.experiments.stages import search_settings  # noqa: E402
from lib.meta.reptile import meta_test, meta_train_epoch  # noqa: E402
from lib.pipeline.checkpoint import Checkpoint  # noqa: E402
from lib.pipeline.device import resolve_device  # noqa: E402
from lib.pipeline.provenance import git_state  # noqa: E402
from lib.training.search import search  # noqa: E402
from lib.training.train import TrainSettings, train_network  # noqa: E402

LAMANAS_ROWS = {"baseline": dict(loss="ce"), "fnn-res-ip": dict(loss="fnn", residual=True, proxy="inner_product"),
                "lstm-res-ip": dict(loss="lstm", residual=True, proxy="inner_product")}
QUICK_LNAS = {"search": dict(C=4, cells=2, batch=8), "training": dict(C=4, cells=2, batch=8)}
QUICK_LAMANAS = {"supernet": dict(C=4, n_cells=2, reduction_cells=(1,)), "data": dict(ways=5, shots_train=3, shots_test=2),
                 "task": dict(batch_size=10), "meta_test": dict(batch_size=5, steps=5)}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds(fn: Callable[[], Any], device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def per_step(run: Callable[[int], Any], device: torch.device, few: int, many: int, unit: str = "step") -> dict[str, Any]:
    """Seconds per ``unit`` of ``run(n)``: (t(many) - t(few)) / (many - few), after one warm-up ``run(few)``."""
    run(few)
    t_few, t_many = seconds(lambda: run(few), device), seconds(lambda: run(many), device)
    return {f"s_per_{unit}": (t_many - t_few) / (many - few), "t_few": t_few, "t_many": t_many, "few": few,
            "many": many}


def cifar_like(n: int, batch: int, seed: int) -> TensorBatches:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    return TensorBatches(images, torch.randint(0, 10, (n,), generator=g), batch_size=batch, shuffle=True, seed=seed,
                         drop_last=True)


def time_lnas(cfg: lnas.LnasConfig, device: torch.device) -> dict[str, Any]:
    """One search step and one derived-network training step at ``cfg``'s sizes."""
    found, trained = cfg.search, cfg.training
    spec = SearchSpec(space=found.space, C=found.C, n_classes=10, n_cells=found.cells, n_nodes=found.n_nodes)

    def run_search(steps: int) -> None:
        model = SearchNetwork(spec).to(device)
        search(model, cifar_like(steps * found.batch, found.batch, 0), cifar_like(steps * found.batch, found.batch, 1),
               replace(search_settings(cfg), epochs=1), device)

    torch.manual_seed(0)
    genotype = SearchNetwork(spec).genotype()
    val = cifar_like(256, 256, 2)

    def run_train(steps: int) -> None:
        net = DiscreteNetwork(genotype, C=trained.C, n_classes=10, n_cells=trained.cells).to(device)
        train_network(net, cifar_like(steps * trained.batch, trained.batch, 3), val, TrainSettings(epochs=1), device)

    return {"darts_search_step": per_step(run_search, device, 2, 7),
            "derived_train_step": per_step(run_train, device, 2, 12), "genotype": genotype.to_string()}


def time_lamanas(cfg: LamanasConfig, device: torch.device) -> dict[str, Any]:
    """One meta-training task (per task of a meta-batch) and one meta-test task of ``meta_test.steps`` steps."""
    train_tasks, test_tasks, _ = lamanas.task_samplers(cfg.data)
    with tempfile.TemporaryDirectory() as tmp:
        state = lamanas.initial_meta_parameters(cfg, device, Checkpoint(Path(tmp) / "unused.ckpt.pt"))
    proxy = cfg.proxy if cfg.trains_phi() else None

    def run_meta(tasks: int) -> None:
        meta_train_epoch(state.model, state.loss_net, train_tasks, replace(cfg.reptile, meta_batch_size=tasks),
                         cfg.task, state.optimizers, state.stream, proxy=proxy, authors_code=cfg.authors_code,
                         workspace=state.workspace)

    test_settings = cfg.test_task_learner()
    task = test_tasks.sample(0)

    def run_test() -> None:
        meta_test(state.model, state.loss_net, [task], test_settings, torch.Generator().manual_seed(1), state.workspace)

    run_test()  # warm-up
    return {"task_adaptation": per_step(run_meta, device, 1, 3, unit="task"), "meta_test_task_s": seconds(run_test, device),
            "task_steps": cfg.task.steps, "test_steps": cfg.meta_test.steps}


def lnas_rows(cfg: lnas.LnasConfig, timing: dict[str, Any]) -> dict[str, float]:
    """Estimated seconds per LNAS row kind from the paper step counts (evaluation passes left out)."""
    search_steps = cfg.search.epochs * (cfg.data.n_search // cfg.search.batch)
    train_steps = cfg.training.epochs * (cfg.data.n_train // cfg.training.batch)
    searched = search_steps * timing["darts_search_step"]["s_per_step"]
    trained = train_steps * timing["derived_train_step"]["s_per_step"]
    return {"search_steps": search_steps, "train_steps": train_steps,
            "baseline_or_variant2_row_s": searched + trained, "variant1_or_algorithm3_row_s": trained}


def lamanas_row(cfg: LamanasConfig, timing: dict[str, Any]) -> dict[str, float]:
    """Estimated seconds per LAMANAS row: meta-training tasks plus meta-test tasks (50 + ``task.steps`` steps each)."""
    tasks = cfg.reptile.meta_epochs * cfg.reptile.meta_batch_size
    train = tasks * timing["task_adaptation"]["s_per_task"]
    test = cfg.meta_test.tasks * timing["meta_test_task_s"] * (cfg.meta_test.steps + cfg.task.steps) / cfg.meta_test.steps
    return {"meta_train_tasks": tasks, "meta_train_s": train, "meta_test_s": test, "row_s": train + test}


def cuda_tests() -> dict[str, Any]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_cuda.py", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True)
    return {"returncode": done.returncode, "seconds": time.perf_counter() - start,
            "tail": (done.stdout + done.stderr)[-2000:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--budget-s", type=float, default=240.0, help="skip what is left after this many seconds")
    parser.add_argument("--quick", action="store_true", help="tiny networks (a CPU check of this script)")
    parser.add_argument("--no-tests", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    device = resolve_device("auto")  # sets cudnn.benchmark on CUDA, as a real run does
    if args.quick and device.type == "cpu":
        torch.set_num_threads(1)  # on a shared CPU more threads than free cores stall each step many-fold
    out: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "git": git_state(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(), "quick": args.quick, "skipped": []}
    if not args.no_tests:
        out["cuda_tests"] = cuda_tests()
        print(f"CUDA tests: rc={out['cuda_tests']['returncode']} in {out['cuda_tests']['seconds']:.0f} s", flush=True)
    cfg = lnas.LnasConfig.for_profile("paper", data={"dataset": "synthetic"}, **(QUICK_LNAS if args.quick else {}))
    timing = time_lnas(cfg, device)
    out["lnas"] = {"config": {k: v for k, v in flat(cfg).items() if k.partition(".")[0] in ("data", "search", "training")},
                   "timing": timing, "per_row": lnas_rows(cfg, timing)}
    print(json.dumps(out["lnas"]["per_row"]), flush=True)
    out["lamanas"] = {}
    for name, row in LAMANAS_ROWS.items():
        if time.perf_counter() - start > args.budget_s:
            out["skipped"].append(f"lamanas {name} (budget)")
            continue
        quick = QUICK_LAMANAS if args.quick else {}
        data = {"dataset": "synthetic", **quick.get("data", {})}
        cfg_l = LamanasConfig.for_profile("paper", **row, **{**quick, "data": data})
        timing_l = time_lamanas(cfg_l, device)
        out["lamanas"][name] = {"timing": timing_l, "per_row": lamanas_row(cfg_l, timing_l)}
        print(name, json.dumps(out["lamanas"][name]["per_row"]), flush=True)
    out["wall_s"] = time.perf_counter() - start
    text = json.dumps(out, indent=1, default=str)
    path = args.json or (Path(os.environ["OUT"]) / "gpu_check.json" if os.environ.get("OUT") else None)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    print(text)
    return 0 if out.get("cuda_tests", {}).get("returncode", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
