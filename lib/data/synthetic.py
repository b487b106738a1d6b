"""Seeded synthetic stand-ins for CIFAR-10 and for Omniglot tasks, for smoke runs and tests.

Only used when asked for by name (the ``smoke`` profile); a missing real dataset is an error, never a
reason to switch to these. Each class is a fixed random low-frequency template (a 4x4 Gaussian grid per
channel, bilinearly upsampled); a sample is its template plus independent per-pixel Gaussian noise,
rounded to uint8. The classes are far apart relative to the noise, so a tiny CNN (or a nearest-centroid
rule) beats chance within a few steps.
"""

import hashlib

import torch
from torch import Tensor

from lib.data.source import DataSource, tensor_checksum
from lib.data.tasks import Task, as_generator, task_from_images

GRID = 4
CONTRAST = 60.0  # template scale, in uint8 grey levels
NOISE = 40.0  # per-pixel noise standard deviation, in uint8 grey levels
NOTE = "synthetic: each class a fixed random low-frequency template + Gaussian pixel noise; not real data"


def _generator(*parts: int | str) -> torch.Generator:
    """A generator seeded from ``parts`` through sha256 (stable across runs, platforms and Python versions)."""
    seed = int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") >> 1
    return torch.Generator().manual_seed(seed)


def class_templates(n_classes: int, shape: tuple[int, int, int], generator: torch.Generator) -> Tensor:
    """Smooth random templates, float32 (n_classes, C, H, W), roughly zero-mean with std below 1."""
    coarse = torch.randn(n_classes, shape[0], GRID, GRID, generator=generator)
    return torch.nn.functional.interpolate(coarse, size=tuple(shape[1:]), mode="bilinear", align_corners=True)


def render(templates: Tensor, generator: torch.Generator) -> Tensor:
    """One noisy sample per template: float (..., C, H, W) -> uint8 (..., C, H, W)."""
    noise = torch.randn(templates.shape, generator=generator)
    return (127.5 + CONTRAST * templates + NOISE * noise).round_().clamp_(0, 255).to(torch.uint8)


def synthetic_images(n: int, n_classes: int = 10, shape: tuple[int, int, int] = (3, 32, 32), seed: int = 0,
                     split: str = "train") -> tuple[Tensor, Tensor, DataSource]:
    """A CIFAR-10 stand-in: images uint8 (n, *shape), balanced labels int64 (n,) in random order, provenance.

    The class templates depend on ``(n_classes, shape, seed)`` only, the samples also on ``split``: call it
    with ``split="test"`` (same seed) for held-out samples of the same classes. Works with
    ``TensorBatches`` and ``normalize``.
    """
    templates = class_templates(n_classes, shape, _generator("templates", seed))
    generator = _generator("images", seed, split)
    labels = (torch.arange(n) % n_classes)[torch.randperm(n, generator=generator)]
    images = render(templates[labels], generator)
    note = f"{NOTE}; seed={seed}, split={split}, {n_classes} classes"
    return images, labels, DataSource("synthetic-images", "synthetic", "", tensor_checksum(images, labels), note)


class SyntheticFewShotTasks:
    """An Omniglot-task stand-in with the same ``sample() -> Task`` interface as ``FewShotTasks``.

    A pool of ``n_classes_pool`` templates per ``split_name`` (disjoint pools for meta_train / meta_val /
    meta_test); every task draws ``ways`` classes of the pool and fresh noisy images, float32 in [0, 1].
    ``source.checksum`` is the sha256 of the templates.
    """

    def __init__(self, ways: int, shots: int, queries: int, image_shape: tuple[int, int, int] = (1, 28, 28),
                 n_classes_pool: int = 64, seed: int = 0, split_name: str = "meta_train"):
        if ways > n_classes_pool:
            raise ValueError(f"{ways}-way tasks need at least {ways} classes, the pool has {n_classes_pool}")
        self.templates = class_templates(n_classes_pool, image_shape, _generator("task-templates", seed, split_name))
        self.ways, self.shots, self.queries = ways, shots, queries
        self._generator = _generator("tasks", seed, split_name)
        note = f"{NOTE}; seed={seed}, {split_name}: pool of {n_classes_pool} classes"
        self.source = DataSource("synthetic-tasks", "synthetic", "", tensor_checksum(self.templates), note)

    def sample(self, rng: torch.Generator | int | None = None) -> Task:
        """One task; ``rng`` is a generator, a seed, or None for the sampler's own stream (seeded at init)."""
        generator = as_generator(rng, self._generator)
        classes = torch.randperm(len(self.templates), generator=generator)[: self.ways]
        per_class = self.templates[classes].unsqueeze(1).expand(-1, self.shots + self.queries, -1, -1, -1)
        return task_from_images(render(per_class, generator).float() / 255, self.shots, classes)
