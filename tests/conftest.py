"""Shared test set-up: one intra-op thread.

Tiny CPU tests run fastest with one thread, and two threads beside another busy process ran up to
100x slower here (STYLE pitfall 11).
"""

import torch

torch.set_num_threads(1)


TIMING_KEYS = frozenset({"seconds", "search_seconds", "train_seconds", "meta_train_seconds", "meta_test_seconds"})


def without_timing(value):
    """A run's metrics with every wall-time entry removed (timings differ between identical runs)."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value
