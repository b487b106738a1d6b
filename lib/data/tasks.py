"""The few-shot task record shared by the Omniglot and synthetic task samplers."""

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Task:
    """One N-way K-shot task; samples are grouped by class (all of label 0 first, then label 1, ...).

    Attributes:
        support_x: float32 (ways * shots, C, H, W).
        support_y: int64 (ways * shots,), values in [0, ways).
        query_x: float32 (ways * queries, C, H, W), other images of the same classes.
        query_y: int64 (ways * queries,), values in [0, ways).
        classes: int64 (ways,), the sampler's class id behind each label (for bookkeeping and tests).
    """

    support_x: Tensor
    support_y: Tensor
    query_x: Tensor
    query_y: Tensor
    classes: Tensor


def task_from_images(images: Tensor, shots: int, classes: Tensor) -> Task:
    """Cut images float (ways, shots + queries, C, H, W), row i of class i, into a support and a query set."""
    ways, per_class = images.shape[:2]
    labels = torch.arange(ways)
    return Task(
        support_x=images[:, :shots].flatten(0, 1),
        support_y=labels.repeat_interleave(shots),
        query_x=images[:, shots:].flatten(0, 1),
        query_y=labels.repeat_interleave(per_class - shots),
        classes=classes,
    )


def as_generator(rng: torch.Generator | int | None, default: torch.Generator) -> torch.Generator:
    """``rng`` itself, a fresh generator seeded with it (an int), or ``default`` (None)."""
    if rng is None:
        return default
    if isinstance(rng, int):
        return torch.Generator().manual_seed(rng)
    return rng
