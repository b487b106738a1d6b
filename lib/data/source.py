"""Where a dataset lives and what exactly it is: the data root, the provenance record, the missing-data error."""

import hashlib
import os
import pickle
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from lib.pipeline.atomic import DamagedFileError, save_torch

FETCH_COMMAND = "make data"


@dataclass(frozen=True)
class DataSource:
    """Provenance of the data a loader returned, small enough to store in every run record.

    Attributes:
        name: ``"cifar10"``, ``"omniglot"``, ``"synthetic-images"`` or ``"synthetic-tasks"``.
        kind: how the data is stored, e.g. ``"torchvision-official"``, ``"jpeg-image-folder"``,
            ``"png-image-folder"``, ``"synthetic"``.
        root: the folder it was read from (``""`` for generated data).
        checksum: sha256 hex of the exact tensors the loader hands out (see :func:`tensor_checksum`),
            so two runs with the same checksum saw the same pixels and labels in the same order.
        note: what a reader must know, e.g. that the pixels are a lossy JPEG re-encode.
    """

    name: str
    kind: str
    root: str
    checksum: str
    note: str

    def as_dict(self) -> dict[str, str]:
        """The record as a plain dict (JSON-ready)."""
        return asdict(self)


class DatasetMissingError(FileNotFoundError):
    """A dataset is not where the loader looked; the message names the command that fetches it."""

    def __init__(self, name: str, looked: Path | list[Path], root: Path):
        places = looked if isinstance(looked, list) else [looked]
        listed = ", ".join(str(p) for p in places)
        super().__init__(
            f"{name} not found (looked for {listed}). Fetch it with `{FETCH_COMMAND}` from the repository root "
            f"(or `python -m lib.data.fetch --dataset {name} --root {root}`); "
            "set DATA_DIR or pass root= to read it from elsewhere."
        )


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$DATA_DIR``, else ``data/`` in the repository."""
    if root is not None:
        return Path(root)
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"])
    return Path(__file__).resolve().parents[2] / "data"


def tensor_checksum(*tensors: torch.Tensor) -> str:
    """sha256 hex over the raw bytes of each tensor in turn (contiguous, native byte order).

    This is the ``checksum`` of every :class:`DataSource`: for an image dataset, the uint8 images
    (N, C, H, W) followed by the int64 labels (N,).
    """
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.contiguous().numpy())
    return digest.hexdigest()


CACHE_REPAIR = f"rebuild it with `{FETCH_COMMAND}` (or delete it: the next load rebuilds it)"


def tensor_cache(path: Path, build: Callable[[], dict[str, Any]], checked: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """A decoded dataset kept as a ``.pt`` file: built by ``build()`` when missing, verified when read.

    Returns the cached dict and :func:`tensor_checksum` of its ``checked`` tensors. The checksum is
    stored in the file when it is built (``"checksum"``), so a damaged cache (unreadable, or tensors that
    no longer match) raises ``DamagedFileError`` naming the file and ``make data``. A cache built before
    checksums were recorded has none to compare with; ``make data`` rebuilds it.
    """
    if not path.exists():
        data = build()
        save_torch(path, {**data, "checksum": tensor_checksum(*(data[k] for k in checked))})
    try:
        data = torch.load(path, weights_only=True)
        checksum = tensor_checksum(*(data[k] for k in checked))
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, KeyError, TypeError, ValueError) as error:
        raise DamagedFileError(path, f"is damaged ({str(error).splitlines()[0]})", CACHE_REPAIR) from error
    if data.get("checksum", checksum) != checksum:
        raise DamagedFileError(path, "does not match the checksum recorded when it was built", CACHE_REPAIR)
    return data, checksum

