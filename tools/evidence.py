"""Work through the evidence queue of a profile, or say where it stands (``make evidence``, ``make evidence-status``).

    python tools/evidence.py start  --profile cpu [--processes 2] [--limit-hours 3] [--max-run-hours 2] [--device auto] [--only TEXT ...]
    python tools/evidence.py status --profile cpu

``start`` runs the queue of :mod:`lib.experiments.evidence` in ``--processes`` worker processes (default:
one per core, one thread each; one process on a GPU machine), each claiming the next run, running it
(resuming from its checkpoint), and committing its record to git as soon as it lands. Kill it at any
moment (Ctrl-C, ``kill``, a closed session): the next ``start``, here or on a fresh clone, skips what is
committed and resumes what has a checkpoint. With ``--limit-hours`` a worker starts no run that its
estimate says would end after the limit. On a CPU a worker starts no run with more than ``--max-run-hours``
(default ``worklist.LONGEST_RUN_HOURS``, 2: issue 15's bound) of its threads left (the estimate less what the
run's checkpoint holds: ``worklist.Row.left_s``): a checkpoint lives in the working tree only,
so on a fresh clone a run that outlived its session starts over; ``status`` lists those runs, for a lent GPU
(``benchmarks/gpu_evidence.sh``, where there is no bound) or a longer-lived machine. ``status`` prints done / running / left per group and the
estimated core-hours left; a run that reads another's record (Algorithm 3 reuses Variant 2's search) is listed
"after" it while that one has not landed, and ``start`` says when ``--only`` leaves such a run out (its worker
would idle until another makes it). ``--only lnas_ "LNAS "`` keeps the runs whose name contains one of the texts (e.g.
to run one report's share while the other's code is still changing). Run it in the background, e.g. ``nohup make evidence > evidence.log 2>&1 &``.
"""

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lib.experiments import costs, evidence  # noqa: E402
from lib.pipeline import worklist  # noqa: E402

STATES = (worklist.DONE, worklist.STALE, worklist.RUNNING_STATE, worklist.DEAD, worklist.FAILED, worklist.LEFT)


def items(profile: str, seeds: list[int], measure: bool, device: str) -> list[worklist.Item]:
    return evidence.with_settings(evidence.queue(profile, seeds, measure, on_gpu(device)), device=device)


def matching(queue: list[worklist.Item], only: list[str] | None) -> list[worklist.Item]:
    """The runs of ``queue`` whose name contains one of the texts of ``only`` (all of them when it is empty)."""
    return [i for i in queue if not only or any(text in i.name for text in only)]


def waits_for(item: worklist.Item, named: dict[str, str]) -> list[str]:
    """The names (``named``: ident -> name, over the whole queue) of the runs ``item`` reads that have not landed."""
    return [named.get(need.ident, f"a {need.config.experiment} run") for need in worklist.unmet_needs(item)]


def outside_needs(args: argparse.Namespace) -> list[str]:
    """The runs that ``--only``'s runs wait for but that ``--only`` leaves out: until another worker (or a later
    start) makes them, a worker started with it idles on those runs."""
    whole = items(args.profile, args.seeds, not args.no_measure, args.device)
    named = {i.ident: i.name for i in whole}
    kept = matching(whole, args.only)
    return sorted({name for i in kept for name in waits_for(i, named)} - {i.name for i in kept})


def on_gpu(device: str) -> bool:
    return device != "cpu" and torch.cuda.is_available()


def arrangement(processes: int | None, device: str, threads: int | None = None) -> tuple[int, int]:
    """(processes, threads each): one one-thread process per core on a CPU (STYLE pitfall 11), one on a GPU;
    ``threads`` given: that many each (e.g. 1 when other work shares the cores)."""
    cores = os.cpu_count() or 1
    if processes is None:
        processes = 1 if on_gpu(device) else cores
    return processes, threads or max(1, cores // processes)


def longest_s(args: argparse.Namespace, threads: int) -> float | None:
    """What is left of a run (core-seconds) above which a worker of ``threads`` threads starts no run; None on a GPU."""
    return None if on_gpu(args.device) or not args.max_run_hours or args.max_run_hours <= 0 else 3600 * args.max_run_hours * threads


def _worker(profile: str, seeds: list[int], measure: bool, device: str, only: list[str] | None, threads: int,
            deadline: float | None, longest: float | None) -> int:
    return worklist.work(matching(items(profile, seeds, measure, device), only), costs.model_seconds, threads, deadline,
                         longest_s=longest)


def start(args: argparse.Namespace) -> None:
    processes, threads = arrangement(args.processes, args.device, args.threads)
    deadline = time.time() + 3600 * args.limit_hours if args.limit_hours else None
    worklist.clear_failed()
    print(f"evidence {args.profile}: {processes} process(es) x {threads} thread(s)"
          + (f", no run started that would end after {args.limit_hours} h" if deadline else ""), flush=True)
    outside = outside_needs(args) if args.only else []
    if outside:
        print("Some of the chosen runs read runs that --only leaves out; they wait until another worker makes them: "
              + "; ".join(outside), flush=True)
    spec = (args.profile, args.seeds, not args.no_measure, args.device, args.only, threads, deadline,
            longest_s(args, threads))
    if processes == 1:
        _worker(*spec)
    else:
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=_worker, args=spec) for _ in range(processes)]
        for w in workers:
            w.start()
            time.sleep(2)  # the first claims before the second looks
        for w in workers:
            w.join()
    status(args)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def status(args: argparse.Namespace) -> None:
    whole = items(args.profile, args.seeds, not args.no_measure, args.device)
    rows = worklist.state(matching(whole, args.only), costs.model_seconds)
    now = time.time()

    print(f"Evidence queue, profile {args.profile}, seeds {args.seeds}: {len(rows)} runs")
    print(f"{'group':<10}" + "".join(f"{s:>9}" for s in STATES) + f"{'core-h left':>13}")
    for group in evidence.GROUPS + ("total",):
        chosen = [r for r in rows if group in ("total", r.item.group)]
        counts = Counter(r.status for r in chosen)
        print(f"{group:<10}" + "".join(f"{counts[s]:>9}" for s in STATES) + f"{sum(r.left_s for r in chosen) / 3600:>13.1f}")
    processes, threads = arrangement(args.processes, args.device, args.threads)
    total = sum(r.left_s for r in rows) / 3600
    print(f"Estimated core-hours left: {total:.1f} (~{total / processes:.1f} h with {processes} processes). Estimates: "
          "median wall time x threads of records of the same kind, else the cost model of lib/experiments/costs.py "
          "x the median measured/model ratio of the same row at other seeds and sparsities (else of the experiment, else of all "
          "records), less what a run's checkpoint holds and its live worker has run since.")
    for label, state in (("Running", worklist.RUNNING_STATE), ("Dead (process gone; the next start cleans it)",
                                                                worklist.DEAD), ("Failed", worklist.FAILED)):
        chosen = [r for r in rows if r.status == state]
        if chosen:
            print(f"{label}:")
        for r in chosen:
            m = r.marker or {}
            since = (f", started {_minutes(now - m['started'])} ago; {_minutes(r.spent_s)} of ~{_minutes(r.estimate_s)} done, "
                     f"~{_minutes(r.left_s)} left" if "started" in m else "")
            why = f": {m['failed']}" if m.get("failed") else ""
            print(f"  {r.item.name} (pid {m.get('pid', '-')} on {m.get('host')}{since}){why}")
    longest = longest_s(args, threads)
    too_long = [r for r in rows if longest is not None and r.status != worklist.DONE and r.left_s > longest]
    if too_long:
        print(f"Longer than --max-run-hours {args.max_run_hours} at {threads} thread(s), so no worker here starts them "
              "(a lent GPU does: benchmarks/gpu_evidence.sh):")
    for r in too_long:
        print(f"  {r.item.name} (~{_minutes(r.left_s)} of one core left)")
    upcoming = [r for r in rows if r.status in (worklist.LEFT, worklist.STALE) and r not in too_long][: args.next]
    if upcoming:
        print("Next:")
    named = {i.ident: i.name for i in whole}
    for r in upcoming:
        after = waits_for(r.item, named)
        resumes = f", resumes with {_minutes(r.spent_s)} done" if r.spent_s else ""
        print(f"  {r.item.group:<10} {r.item.name} ({r.status}, ~{_minutes(r.left_s)}{resumes}, {r.how}"
              + (f"; after {', '.join(after)}" if after else "") + ")")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "status"))
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(evidence.SEEDS))
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="threads per process (default: cores / processes)")
    parser.add_argument("--limit-hours", type=float, default=None)
    parser.add_argument("--max-run-hours", type=float, default=worklist.LONGEST_RUN_HOURS,
                        help="on a CPU, start no run with more left (per thread; its estimate less its checkpoint); 0 or less: no bound")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-measure", action="store_true", help="leave out the measurement runs")
    parser.add_argument("--only", nargs="+", help="keep the runs whose name contains one of these texts")
    parser.add_argument("--next", type=int, default=8, help="how many upcoming runs status lists")
    args = parser.parse_args(argv)
    {"start": start, "status": status}[args.command](args)


if __name__ == "__main__":
    main()
