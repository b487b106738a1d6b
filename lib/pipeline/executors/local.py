"""The local backend: rows in this process, or in a pool of fresh one-thread spawned processes."""

import concurrent.futures as futures
import multiprocessing
from dataclasses import replace
from typing import Any, Callable, Sequence

import torch

from lib.pipeline import results
from lib.pipeline.results import Record
from lib.pipeline.runner import Progress, RowFailure, describe_row, failure_reason

Todo = Sequence[tuple[int, Any, Callable]]


def _run_one(config: Any, run: Callable, force: bool) -> Record:
    torch.set_num_threads(config.threads or 1)
    return results.cached(config, run, force=force)


def _failure(config: Any, error: BaseException) -> RowFailure:
    remote = getattr(error.__cause__, "tb", None)  # concurrent.futures keeps the child's traceback as text
    return RowFailure(describe_row(config), failure_reason(error, remote))


def execute(todo: Todo, force: bool, processes: int, progress: Progress) -> dict[int, Record | RowFailure]:
    """Run each row; ``processes == 1`` runs here with the config's threads, else one thread per process."""
    out: dict[int, Record | RowFailure] = {}
    if processes == 1:
        for i, config, run in todo:
            progress.running(1)
            try:
                out[i] = results.cached(config, run, force=force)
            except Exception as error:  # the row is reported; the sweep goes on
                out[i] = _failure(config, error)
            progress.finished(isinstance(out[i], Record))
        return out
    context = multiprocessing.get_context("spawn")
    with futures.ProcessPoolExecutor(processes, mp_context=context, max_tasks_per_child=1) as pool:
        pending = {pool.submit(_run_one, replace(config, threads=1), run, force): (i, config) for i, config, run in todo}
        progress.running(min(processes, len(pending)))
        for done in futures.as_completed(pending):
            i, config = pending[done]
            try:
                out[i] = done.result()
            except Exception as error:
                out[i] = _failure(config, error)
            progress.finished(isinstance(out[i], Record))
            progress.running(min(processes, len(pending) - len(out)))
    return out
