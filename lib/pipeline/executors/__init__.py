"""Backends of :func:`lib.pipeline.runner.run_all`: ``local`` (a process pool) and ``ray`` (a Ray cluster).

Each exposes ``execute(todo, force, processes, progress) -> {index: Record | RowFailure}`` over the rows
``(index, config, run)`` the cache does not hold yet.
"""
