"""Omniglot few-shot tasks: 28x28 characters, a fixed class split, rotations as extra classes.

Data: the torchvision layout ``<root>/omniglot-py/images_{background,evaluation}/<Alphabet>/characterNN/*.png``
(1,623 characters x 20 drawings, 105x105 binary). All images are decoded once, resized to 28x28 exactly
as the authors' code did (torchmeta ``Resize(28)``: PIL bilinear with antialiasing) and cached as uint8
in ``omniglot-py/omniglot28.pt``; delete that file to rebuild it. Pixel values follow torchmeta's
``ToTensor`` convention: float in [0, 1], background white (1.0), strokes dark (0.0); no inversion.

Class splits (``class_split``):

* ``"background"`` (default; what the authors' code used, INCONSISTENCIES #13): meta_train = the 964
  characters of images_background, meta_test = the 659 of images_evaluation, no meta_val.
* ``"vinyals"`` (the report's stated intent): Vinyals-sized, not the exact Vinyals list. All characters
  of both sets are sorted by (alphabet name, character folder name) in Python string order and cut into
  consecutive blocks of 1028 / 172 / 423 characters (meta_train / meta_val / meta_test); alphabets stay
  together except at the two cut points. (With fewer than 1,623 characters the cut keeps these proportions.)

With ``rotations=True`` each character at 0/90/180/270 degrees is a separate class inside the same split
(x4 classes), as torchmeta's ``Rotation([90, 180, 270])`` class augmentation.
"""

from dataclasses import replace
from pathlib import Path
from typing import Literal

import torch
from PIL import Image
from torch import Tensor
from torchvision.transforms import v2
from tqdm import tqdm

from lib.data.source import DataSource, DatasetMissingError, data_root, tensor_cache
from lib.data.tasks import Task, as_generator, task_from_images

SplitName = Literal["meta_train", "meta_val", "meta_test"]
ClassSplit = Literal["background", "vinyals"]

FOLDER = "omniglot-py"
SETS = ("images_background", "images_evaluation")
IMAGE_SIZE = 28
VINYALS_SIZES = (1028, 172, 423)
CACHE = "omniglot28.pt"


def load_omniglot(root: str | Path | None = None) -> tuple[Tensor, list[str], DataSource]:
    """All characters: images uint8 (1623, 20, 1, 28, 28), names ``"<set>/<Alphabet>/characterNN"``, provenance.

    Background characters come first (sorted by alphabet, character), then evaluation ones. Raises
    ``DatasetMissingError`` naming ``make data`` when the unpacked folders are missing.
    """
    folder = data_root(root) / FOLDER
    if not all((folder / name).is_dir() for name in SETS):
        raise DatasetMissingError("omniglot", [folder / name for name in SETS], data_root(root))
    data, checksum = tensor_cache(folder / CACHE, lambda: decode_omniglot(folder), ("images",))
    note = f"original Omniglot PNGs, resized to {IMAGE_SIZE}x{IMAGE_SIZE} as torchmeta does; background 1, strokes 0"
    source = DataSource("omniglot", "png-image-folder", str(folder), checksum, note)
    return data["images"], data["characters"], source


def decode_omniglot(folder: Path) -> dict[str, Tensor | list[str]]:
    """Decode and resize every PNG under ``folder`` (``omniglot-py``).

    Returns ``{"images": uint8 (characters, drawings, 1, 28, 28), "characters": ["<set>/<Alphabet>/characterNN", ...]}``
    with characters and drawings in sorted path order. (torchvision's ``Omniglot`` is not used for reading:
    it lists folders in ``os.listdir`` order, which depends on the file system, so class ids would not be
    reproducible across machines.)
    """
    found = [path for name in SETS for path in (folder / name).glob("*/*") if path.is_dir()]
    characters = sorted(path.relative_to(folder).as_posix() for path in found)
    images = [
        torch.stack([_read_resized(path) for path in sorted((folder / character).glob("*.png"))])
        for character in tqdm(characters, desc="decoding Omniglot", unit="char")
    ]
    if len({len(drawings) for drawings in images}) != 1:
        raise ValueError(f"characters under {folder} have different numbers of drawings")
    return {"images": torch.stack(images), "characters": characters}


def _read_resized(path: Path) -> Tensor:
    """One PNG -> uint8 (1, 28, 28): PIL bilinear resize with antialiasing first, as torchmeta's ``Resize(28)``."""
    with Image.open(path) as image:
        return v2.functional.pil_to_tensor(v2.functional.resize(image.convert("L"), [IMAGE_SIZE, IMAGE_SIZE]))


def class_split_characters(characters: list[str], class_split: ClassSplit) -> dict[str, list[int]]:
    """Indices into ``characters`` for each of meta_train / meta_val / meta_test (see the module docstring)."""
    if class_split == "background":
        return {
            "meta_train": [i for i, name in enumerate(characters) if name.startswith(SETS[0] + "/")],
            "meta_test": [i for i, name in enumerate(characters) if name.startswith(SETS[1] + "/")],
        }
    if class_split == "vinyals":
        order = sorted(range(len(characters)), key=lambda i: characters[i].split("/")[1:])
        n_train = round(len(order) * VINYALS_SIZES[0] / sum(VINYALS_SIZES))
        n_val = round(len(order) * VINYALS_SIZES[1] / sum(VINYALS_SIZES))
        cut = n_train + n_val
        return {"meta_train": order[:n_train], "meta_val": order[n_train:cut], "meta_test": order[cut:]}
    raise ValueError(f"class_split must be 'background' or 'vinyals', got {class_split!r}")


class FewShotTasks:
    """Sampler of ``ways``-way ``shots``-shot Omniglot tasks with ``queries`` query images per class.

    ``sample()`` draws ``ways`` distinct classes of the split and, per class, ``shots + queries`` distinct
    drawings; support and query never share an image. Tasks are float32 (.., 1, 28, 28) in [0, 1].
    """

    def __init__(self, split_name: SplitName, ways: int, shots: int, queries: int, root: str | Path | None = None,
                 class_split: ClassSplit = "background", rotations: bool = True, seed: int = 0):
        images, characters, source = load_omniglot(root)
        splits = class_split_characters(characters, class_split)
        if split_name not in splits:
            raise ValueError(f"class_split={class_split!r} has no {split_name!r} (it has {sorted(splits)})")
        self.images = images[splits[split_name]]  # uint8 (characters, drawings, 1, 28, 28)
        self.rotations = 4 if rotations else 1
        self.n_classes = len(self.images) * self.rotations
        self.ways, self.shots, self.queries = ways, shots, queries
        if ways > self.n_classes or shots + queries > self.images.shape[1]:
            raise ValueError(f"{ways}-way tasks with {shots}+{queries} images per class do not fit in {self.n_classes} "
                             f"classes of {self.images.shape[1]} drawings")
        self._generator = torch.Generator().manual_seed(seed)
        classes = f"{len(self.images)} characters x {self.rotations} rotations = {self.n_classes} classes"
        self.source = replace(source, note=f"{source.note}; class_split={class_split} {split_name}: {classes}")

    def sample(self, rng: torch.Generator | int | None = None) -> Task:
        """One task; ``rng`` is a generator, a seed, or None for the sampler's own stream (seeded at init)."""
        generator = as_generator(rng, self._generator)
        classes = torch.randperm(self.n_classes, generator=generator)[: self.ways]
        per_class = self.shots + self.queries
        drawings = torch.rand(self.ways, self.images.shape[1], generator=generator).argsort(1)[:, :per_class]
        picked = self.images[(classes // self.rotations).unsqueeze(1), drawings]  # (ways, per_class, 1, 28, 28)
        turns = (classes % self.rotations).tolist()
        rotated = torch.stack([torch.rot90(images, k, dims=(-2, -1)) for images, k in zip(picked, turns)])
        return task_from_images(rotated.float() / 255, self.shots, classes)
