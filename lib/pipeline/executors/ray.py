"""The Ray backend: each row is a Ray task; workers return records and the driver writes them.

- ``RAY_ADDRESS`` set: join that cluster. The repository travels to the workers as Ray's ``working_dir``
  (``.gitignore`` respected, cached records left out) and the driver's cached records go along as one
  object, so a row that reuses another row's search (LNAS Variant 1, Algorithm 3) finds it without a
  shared file system. Workers keep checkpoints in their own ``results_dir()`` (set
  ``COMPANION_RESULTS_DIR`` to shared storage on the nodes and a retried row resumes on any node).
- ``RAY_ADDRESS`` unset: ``ray.init`` starts a local cluster on this machine; workers use the driver's
  results directory for checkpoints (a retried row resumes from its checkpoint).

Resources per row: ``threads`` CPUs (1 if unset), and one GPU when the config's device is ``cuda`` or
``auto`` on a cluster that has GPUs. A worker that dies (killed, preempted, out of memory) is retried
``MAX_RETRIES`` times; a Python exception is not retried (a seeded row fails the same way again) and is
reported with the row and the reason.
"""

import dataclasses
import logging
import os
import socket
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from tqdm import TqdmWarning

# Ray announces itself at import and start (an ipywidgets hint, tqdm's IProgress warning inside a kernel,
# a token-authentication notice, a note on packaging the working directory); each would land in every
# notebook executed with EXECUTOR=ray.
for _name in ("ray.widgets.util", "ray._private.authentication.authentication_token_setup",
              "ray._private.runtime_env.working_dir"):
    logging.getLogger(_name).setLevel(logging.ERROR)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)
    import ray

from lib.pipeline import provenance, results
from lib.pipeline.atomic import write_json
from lib.pipeline.results import Record
from lib.pipeline.runner import Progress, RowFailure, describe_row, failure_reason

MAX_RETRIES = 2
WORKER_DEATHS = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError)
Todo = Sequence[tuple[int, Any, Callable]]


def joined_cluster() -> bool:
    """Whether rows run on a cluster named by ``RAY_ADDRESS`` (else on a local one this process starts)."""
    return bool(os.environ.get("RAY_ADDRESS"))


def connect() -> None:
    """Join ``$RAY_ADDRESS`` or start a local cluster, once per process (a running session is reused)."""
    if ray.is_initialized():
        return
    options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    if not joined_cluster():
        ray.init(address="local", **options)
        return
    env = {"COMPANION_GIT_COMMIT": provenance.git_state()["commit"], "TQDM_DISABLE": "1"}
    ray.init(runtime_env={"working_dir": str(provenance.REPO_ROOT), "excludes": ["/data/results/", "/book/"],
                          "env_vars": env}, **options)


def resources(config: Any) -> dict[str, float]:
    """The Ray resources of one row: its threads as CPUs, and a GPU when its device is (or resolves to) CUDA."""
    device = str(getattr(config, "device", "cpu"))
    gpu = device.startswith("cuda") or (device == "auto" and ray.cluster_resources().get("GPU", 0) > 0)
    return {"num_cpus": getattr(config, "threads", 0) or 1, "num_gpus": 1 if gpu else 0}


def _seed_cache(snapshot: dict[str, Any]) -> None:
    """Write the driver's records this worker's cache lacks (the searches other rows reuse)."""
    root = results.results_dir()
    for relative, record in snapshot.items():
        if not (root / relative).exists():
            write_json(root / relative, record)


def _forced_marker(config: Any, sweep: str) -> Path:
    """A file next to the checkpoint saying this sweep already started the row afresh (ignored by git)."""
    path = results.checkpoint_of(config).path
    return path.with_name(path.name.replace(".ckpt.pt", f".forced-{sweep}.ckpt.pt"))


def _fresh_start(config: Any, sweep: str) -> None:
    """``force``: drop the row's old checkpoint on its first attempt only (a retry resumes this sweep's)."""
    marker = _forced_marker(config, sweep)
    if not marker.exists():
        results.checkpoint_of(config).clear()
        write_json(marker, {"sweep": sweep})


def _row(config: Any, run: Callable, sweep: str | None, root: str | None, snapshot: dict[str, Any]) -> dict:
    """A Ray task: compute one row (resuming from a checkpoint this node can see) and return its record."""
    if root:
        os.environ["COMPANION_RESULTS_DIR"] = root  # a local cluster: the driver's cache, checkpoints included
    _seed_cache(snapshot)
    threads = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)) or 1
    torch.set_num_threads(threads)
    if sweep:
        _fresh_start(config, sweep)
    executor = {"backend": "ray", "node": socket.gethostname(), "node_id": ray.get_runtime_context().get_node_id()}
    record = results.compute(dataclasses.replace(config, threads=threads), run, executor=executor)
    results.checkpoint_of(config).clear()
    if sweep:
        _forced_marker(config, sweep).unlink(missing_ok=True)
    return dataclasses.asdict(record)


_task = ray.remote(_row)


def _snapshot() -> dict[str, Any]:
    """The driver's cached records, ``experiment/key.json -> record``, for workers without shared storage."""
    root = results.results_dir()
    return {str(p.relative_to(root)): dataclasses.asdict(Record.load(p)) for p in sorted(root.glob("*/*.json"))}


def _failure(config: Any, error: Exception) -> RowFailure:
    if isinstance(error, ray.exceptions.RayTaskError):
        cause = error.cause if isinstance(error.cause, BaseException) else error
        return RowFailure(describe_row(config), failure_reason(cause, str(error)))  # str: the worker's traceback
    if isinstance(error, WORKER_DEATHS):
        died = f"the worker died on each of {MAX_RETRIES + 1} attempts (killed, preempted or out of memory)"
        return RowFailure(describe_row(config), f"{type(error).__name__}: {died}")
    return RowFailure(describe_row(config), failure_reason(error))


def _slots(todo: Todo) -> int:
    """How many rows the cluster can run at once (its CPUs, or GPUs for GPU rows, over one row's share)."""
    need = resources(todo[0][1])
    have = ray.cluster_resources()
    if need["num_gpus"]:
        return int(have.get("GPU", 0) // need["num_gpus"])
    return int(have.get("CPU", 1) // need["num_cpus"])


def execute(todo: Todo, force: bool, processes: int, progress: Progress) -> dict[int, Record | RowFailure]:
    """Submit every row as a task, then store each record as it returns; ``processes`` is Ray's to decide."""
    connect()
    remote = joined_cluster()
    root = None if remote else str(results.results_dir())
    snapshot = ray.put(_snapshot() if remote else {})
    sweep = os.urandom(4).hex() if force else None
    pending = {_task.options(**resources(config), max_retries=MAX_RETRIES, retry_exceptions=False,
                             name=describe_row(config)[:100]).remote(config, run, sweep, root, snapshot): (i, config)
               for i, config, run in todo}
    slots = max(1, _slots(todo))
    out: dict[int, Record | RowFailure] = {}
    while pending:
        progress.running(min(slots, len(pending)))
        ready, _ = ray.wait(list(pending), num_returns=1)
        i, config = pending.pop(ready[0])
        try:
            out[i] = Record(**ray.get(ready[0]))
            results.store(out[i])
        except Exception as error:  # the row is reported; the sweep goes on
            out[i] = _failure(config, error)
        progress.finished(isinstance(out[i], Record))
    return out
