"""Where a dataset lives and what exactly it is: the data root, the provenance record, the missing-data error."""

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

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

    def __init__(self, name: str, looked: Path | list[Path]):
        places = looked if isinstance(looked, list) else [looked]
        listed = ", ".join(str(p) for p in places)
        super().__init__(
            f"{name} not found (looked for {listed}). Fetch it with `{FETCH_COMMAND}` from the repository root "
            f"(or `python -m lib.data.fetch --dataset {name} --root {places[0].parent}`); "
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

