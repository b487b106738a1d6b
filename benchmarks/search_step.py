"""Time one DARTS search step of the two supernets against a plain eager baseline.

A search step mirrors ``lib.training.search._search_epoch``: a first-order architecture step
(``Architect.step``) and an Adam step on the alphas, then an SGD weight step (forward, backward, gradient
clipping, step). Variants, all built from the same seeded weights:

* ``eager``: the textbook supernet (quark0/darts): NCHW, every edge computes every op, 'none' as ``x * 0``,
  and sums ``w_i * op_i(x)``. It is our ``SearchNetwork`` with ``MixedOp.forward`` swapped on the instances.
* ``ours``: ``SearchNetwork`` as is (skips 'none' and masked ops), NCHW.
* ``ours channels_last``: the same in channels_last, only where STYLE pitfall 10 says it is safe.
* ``pruned`` (and ``pruned channels_last``): path masks keep 2 ops per edge (the 2 largest alphas apart
  from 'none'), to show the saving from not computing masked ops.

Before timing, every variant's logits are compared with the eager baseline's on the same weights and batch,
and the channels_last variants' gradients with those of NCHW. Usage::

    python benchmarks/search_step.py [--which darts|fewshot|all] [--threads 2] [--steps 3] [--warmup 1]
                                     [--quick] [--json PATH]
"""

import argparse
import copy
import datetime as dt
import os
import platform
import statistics
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.pipeline.atomic import write_json  # noqa: E402
from lib.darts.architect import Architect  # noqa: E402
from lib.darts.ops import FactorizedReduce, Zero  # noqa: E402
from lib.darts.search import CELL_TYPES, MixedOp, SearchNetwork, SearchSpec  # noqa: E402
from lib.pipeline.provenance import git_state, software  # noqa: E402
from lib.training.search import SearchSettings  # noqa: E402

Batch = tuple[Tensor, Tensor]
Runner = tuple[Callable[[Batch, Batch], None], Batch, Batch]


@dataclass(frozen=True)
class Case:
    """One supernet to time: its spec, batch size and input image size (square)."""

    name: str
    spec: SearchSpec
    batch: int
    image: int


CASES = {
    "darts": Case("darts", SearchSpec(space="darts", C=16, n_classes=10, n_cells=8, n_nodes=4), 64, 32),
    "fewshot": Case("fewshot", SearchSpec(space="fewshot", C=28, n_classes=20, n_cells=4, n_nodes=3, in_channels=1,
                                          reduction_cells=(1, 3), channel_growth=1), 20, 28),
}
# Tiny sizes for --quick: seconds per case; the few-shot one keeps 8-channel FactorizedReduces (unsafe).
QUICK = {"darts": {"C": 8, "n_cells": 3}, "fewshot": {"C": 8}}
QUICK_BATCH, QUICK_IMAGE = 4, 16
# The targets: ratios to the eager baseline unless said otherwise.
TARGETS = {"ours": "<= 0.6x", "ours channels_last": "0.5-0.6x of ours", "pruned channels_last": "down to 0.18x"}
MIN_SAFE_CHANNELS = 16
BUSY_LOAD = 0.5  # 1-minute load average above which the timings are not trustworthy
LOGIT_RTOL, LOGIT_ATOL = 1e-4, 1e-4
# channels_last and NCHW round differently; where a value sits within rounding of a ReLU or max-pool kink the
# two take different branches, which moves these gradients by 1e-3 to 1e-2 in relative norm (measured; with
# smooth activations the difference is ~1e-5). 5e-2 allows that and still flags gradients wrong throughout.
GRAD_RTOL = 5e-2


def eager_mixed_forward(self: MixedOp, x: Tensor, weights: Tensor, active: Sequence[bool],
                        drop_prob: float = 0.0) -> Tensor:
    """The textbook edge: ``sum_i weights[i] * op_i(x)`` over every op, 'none' as ``x * 0``; masks ignored.

    Masked ops still run; their softmax weight is exactly 0, so the result equals the library's.
    """
    return sum(w * _eager_op(op, x, self.stride) for w, op in zip(weights.unbind(), self.ops))


def _eager_op(op: nn.Module, x: Tensor, stride: int) -> Tensor:
    """``op(x)``, with quark0's 'none': ``x[:, :, ::stride, ::stride] * 0``."""
    return x[:, :, ::stride, ::stride] * 0.0 if isinstance(op, Zero) else op(x)


def make_eager(model: SearchNetwork) -> SearchNetwork:
    """Swap every ``MixedOp.forward`` of ``model`` for :func:`eager_mixed_forward`, in place."""
    for module in model.modules():
        if isinstance(module, MixedOp):
            module.forward = types.MethodType(eager_mixed_forward, module)
    return model


def keep_two_ops(model: SearchNetwork) -> SearchNetwork:
    """Mask every edge down to its 2 largest alphas other than 'none', in place."""
    for cell_type in CELL_TYPES:
        alpha = getattr(model, f"alpha_{cell_type}").detach().clone()
        alpha[:, [i for i, name in enumerate(model.ops) if name == "none"]] = float("-inf")
        mask = torch.zeros_like(alpha, dtype=torch.bool)
        mask.scatter_(1, alpha.topk(2, dim=1).indices, True)
        model.set_path_mask(cell_type, mask)
    return model


def channels_last_safe(model: nn.Module, batch: int) -> bool:
    """STYLE pitfall 10: every FactorizedReduce sees >= 16 input channels and the batch is even."""
    reduces = [m for m in model.modules() if isinstance(m, FactorizedReduce)]
    return batch % 2 == 0 and all(m.conv_a.in_channels >= MIN_SAFE_CHANNELS for m in reduces)


def variants(base: SearchNetwork, batch: int) -> dict[str, tuple[SearchNetwork, bool] | None]:
    """Variant name -> (model, channels_last), or None where channels_last is unsafe."""
    safe = channels_last_safe(base, batch)
    return {
        "eager": (make_eager(copy.deepcopy(base)), False),
        "ours": (copy.deepcopy(base), False),
        "ours channels_last": (copy.deepcopy(base), True) if safe else None,
        "pruned": (keep_two_ops(copy.deepcopy(base)), False),
        "pruned channels_last": (keep_two_ops(copy.deepcopy(base)), True) if safe else None,
    }


def to_format(model: SearchNetwork, batch: Batch, channels_last: bool) -> Batch:
    """Put ``model`` (in place) and the batch's images in the requested memory format."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt)
    return batch[0].contiguous(memory_format=fmt), batch[1]


def cross_entropy(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """The search loss: ``x`` (B, C, H, W), ``y`` (B,) -> scalar."""
    return nn.functional.cross_entropy(model(x), y)


def make_step(model: SearchNetwork, settings: SearchSettings) -> Callable[[Batch, Batch], None]:
    """One search step as in ``_search_epoch``: architecture step + Adam on alphas, then an SGD weight step."""
    architect = Architect(model, cross_entropy)
    w_optim = torch.optim.SGD(model.weights(), settings.lr, momentum=settings.momentum,
                              weight_decay=settings.weight_decay)
    a_optim = torch.optim.Adam(model.alphas(), settings.alpha_lr, betas=settings.alpha_betas,
                               weight_decay=settings.alpha_weight_decay)

    def step(train: Batch, val: Batch) -> None:
        a_optim.zero_grad(set_to_none=True)
        architect.step(train, val, lr=settings.lr, weight_decay=settings.weight_decay, order="first",
                       weight_optimizer=w_optim)
        a_optim.step()
        w_optim.zero_grad(set_to_none=True)
        cross_entropy(model, *train).backward()
        nn.utils.clip_grad_norm_(model.weights(), settings.grad_clip)
        w_optim.step()

    return step


def time_interleaved(label: str, runners: dict[str, Runner], warmup: int, steps: int) -> dict[str, list[float]]:
    """Seconds per timed step of each runner, after ``warmup`` untimed ones.

    Rounds alternate the variants (one step each), so a machine that gets busier hits all of them alike.
    """
    times: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(warmup + steps):
        phase = "warm-up" if round_ < warmup else f"step {round_ - warmup + 1}/{steps}"
        for name, (step, train, val) in runners.items():
            start = time.perf_counter()
            step(train, val)
            elapsed = time.perf_counter() - start
            print(f"[{label}] {name:<21} {phase}: {elapsed:.3f} s", flush=True)
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def parameter_grads(model: SearchNetwork, batch: Batch) -> list[Tensor]:
    """Gradients of the train-mode cross-entropy on ``batch`` w.r.t. all parameters (zeros where unused)."""
    model.train().zero_grad(set_to_none=True)
    cross_entropy(model, *batch).backward()
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    return grads


def relative_error(grads: list[Tensor], reference: list[Tensor]) -> float:
    """``||grads - reference|| / ||reference||`` over all tensors flattened together."""
    diff = torch.cat([(g - r).flatten() for g, r in zip(grads, reference)])
    return float(diff.norm() / torch.cat([r.flatten() for r in reference]).norm())


def check(model: SearchNetwork, batch: Batch, eager_logits: Tensor,
          nchw_grads: list[Tensor] | None) -> dict[str, object]:
    """Compare the logits with the eager baseline's and, given ``nchw_grads``, the gradients with NCHW's.

    Returns the largest logit difference, the gradients' relative error (None without ``nchw_grads``) and a
    mismatch message ('' when both are within tolerance).
    """
    with torch.no_grad():
        logits = model.train()(batch[0])
    logit_diff = float((logits - eager_logits).abs().max())
    grad_err = None if nchw_grads is None else relative_error(parameter_grads(model, batch), nchw_grads)
    problems = []
    if not torch.allclose(logits, eager_logits, rtol=LOGIT_RTOL, atol=LOGIT_ATOL):
        problems.append(f"logits differ from eager by {logit_diff:.1e}")
    if grad_err is not None and grad_err > GRAD_RTOL:
        problems.append(f"channels_last gradients differ from NCHW by {grad_err:.1e} (relative norm)")
    return {"logit_max_abs_diff": logit_diff, "grad_rel_err": grad_err, "mismatch": "; ".join(problems)}


def describe(result: dict[str, object]) -> str:
    """One line on a :func:`check` result."""
    text = f"logits vs eager max |diff| {result['logit_max_abs_diff']:.1e}"
    if result["grad_rel_err"] is not None:
        text += f", gradients vs NCHW {result['grad_rel_err']:.1e} (relative norm)"
    return f"CORRECTNESS MISMATCH: {result['mismatch']}" if result["mismatch"] else text


def random_batch(case: Case, generator: torch.Generator) -> Batch:
    """A seeded batch: images (B, in_channels, H, W) and labels (B,)."""
    x = torch.randn(case.batch, case.spec.in_channels, case.image, case.image, generator=generator)
    y = torch.randint(case.spec.n_classes, (case.batch,), generator=generator)
    return x, y


def references(built: dict[str, tuple[SearchNetwork, bool] | None],
               train: Batch) -> dict[str, tuple[Tensor, list[Tensor]]]:
    """Per family ("ours", "pruned"): the eager baseline's logits with the family's weights and masks, and
    the family's NCHW gradients (for the channels_last check)."""
    out = {}
    for family in ("ours", "pruned"):
        model = built[family][0]
        with torch.no_grad():
            logits = make_eager(copy.deepcopy(model)).train()(train[0])
        out[family] = (logits, parameter_grads(model, train))
    return out


def run_case(case: Case, args: argparse.Namespace) -> dict[str, object]:
    """Check and time every variant of ``case``; returns a record with the timings and any mismatches."""
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    base = SearchNetwork(case.spec)
    train, val = random_batch(case, generator), random_batch(case, generator)
    built = variants(base, case.batch)
    reference = references(built, train)
    rows: dict[str, dict[str, object]] = {}
    runners: dict[str, Runner] = {}
    for name, entry in built.items():
        if entry is None:
            print(f"[{case.name}] {name}: skipped (unsafe)", flush=True)
            rows[name] = {"skipped": "unsafe (STYLE pitfall 10)"}
            continue
        model, channels_last = entry
        train_f, val_f = to_format(model, train, channels_last), to_format(model, val, channels_last)
        eager_logits, nchw_grads = reference["pruned" if name.startswith("pruned") else "ours"]
        rows[name] = {} if name == "eager" else check(model, train_f, eager_logits,
                                                       nchw_grads if channels_last else None)
        if name != "eager":
            print(f"[{case.name}] {name}: {describe(rows[name])}", flush=True)
        runners[name] = (make_step(model, SearchSettings(epochs=1)), train_f, val_f)
    for name, times in time_interleaved(case.name, runners, args.warmup, args.steps).items():
        rows[name].update(median_s=statistics.median(times), times_s=times)
    return {"case": case.name, "spec": repr(case.spec), "batch": case.batch, "image": case.image, "rows": rows}


def table(record: dict[str, object]) -> str:
    """A plain-text table: variant, median s/step, ratio to eager, ratio to ours (NCHW), target."""
    rows = record["rows"]
    eager, ours = rows["eager"]["median_s"], rows["ours"]["median_s"]
    lines = [f"{record['case']} ({record['batch']} x {record['image']}x{record['image']})",
             f"{'variant':<22} {'s/step':>9} {'vs eager':>9} {'vs ours':>8}  target"]
    for name, row in rows.items():
        if "skipped" in row:
            lines.append(f"{name:<22} {'skipped (unsafe)':>28}")
            continue
        s = row["median_s"]
        flag = "  MISMATCH" if row.get("mismatch") else ""
        lines.append(f"{name:<22} {s:>9.3f} {s / eager:>8.2f}x {s / ours:>7.2f}x  {TARGETS.get(name, '')}{flag}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=["darts", "fewshot", "all"], default="all")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (2 or 1 here)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per variant (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per variant (first step is slow)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny supernets: finishes in seconds")
    parser.add_argument("--json", type=Path, help="also write the results here (atomically)")
    return parser.parse_args(argv)


def selected_cases(args: argparse.Namespace) -> list[Case]:
    """The cases asked for, shrunk with --quick."""
    names = list(CASES) if args.which == "all" else [args.which]
    if not args.quick:
        return [CASES[n] for n in names]
    return [replace(CASES[n], spec=replace(CASES[n].spec, **QUICK[n]), batch=QUICK_BATCH, image=QUICK_IMAGE)
            for n in names]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo where there is one, else the platform's word for it."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print one table per case, optionally write JSON."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {args.threads} thread(s), load average {load:.2f} at start", flush=True)
    if load > BUSY_LOAD:
        print("WARNING: the machine is busy; multi-thread timings will be slow and erratic (STYLE pitfall 11)",
              flush=True)
    records = [run_case(case, args) for case in selected_cases(args)]
    print()
    print("\n\n".join(table(r) for r in records))
    if args.json:
        write_json(args.json, {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "load_average_at_start": load},
            "git": git_state(), "software": software(), "results": records,
        })


if __name__ == "__main__":
    main()
