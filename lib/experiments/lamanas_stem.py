"""Timing of LAMANAS Sec. 5's ResNet-18 stem against the supernet's own (the cost side of the ablation).

The stem itself is ``lib/meta/resnet_stem.py``; these helpers time a module's forward, or forward and
backward, pass on one batch as the task learner runs it.
"""

import statistics
import time
from typing import Callable

import torch
from torch import Tensor, nn


def median_seconds(fn: Callable[[], None], repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward(module: nn.Module, x: Tensor) -> Callable[[], None]:
    """A call that runs ``module(x)`` without gradients."""
    def call() -> None:
        with torch.no_grad():
            module(x)
    return call


def forward_backward(module: nn.Module, x: Tensor) -> Callable[[], None]:
    """A call that runs ``module(x)`` and backpropagates its sum (one task-learner step's passes)."""
    def call() -> None:
        module.zero_grad(set_to_none=True)
        module(x).sum().backward()
    return call
