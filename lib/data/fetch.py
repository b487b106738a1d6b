"""``make data``: put CIFAR-10 and Omniglot under the data root, then build their tensor caches.

    python -m lib.data.fetch [--dataset cifar10|omniglot|all] [--root DIR] [--archives DIR] [--source auto|archive|download]

``auto``: a dataset already in place is left alone (its tensor caches are verified against the checksums
recorded when they were built, and rebuilt when damaged or built before checksums were recorded); otherwise the local archives (see shared/data/README.md)
are checked against ``<archives>/SHA256SUMS`` and unpacked; without archives, torchvision downloads the
official files. Layout produced (the torchvision roots the loaders read):

    <root>/cifar10-jpeg/{train,test}/<class>/NNNN.jpg, cifar10-jpeg/cifar10-extras/   (archives)
    <root>/cifar-10-batches-py/                                                     (download)
    <root>/omniglot-py/images_{background,evaluation}/<Alphabet>/characterNN/*.png  (either)

Unpacking goes to a temporary folder that is renamed into place, so an interrupted run leaves nothing
half-written behind; running it again is cheap and changes nothing.
"""

import argparse
import hashlib
import pickle
import shutil
import tarfile
import time
import zipfile
import zlib
from pathlib import Path

import torch

from torchvision.datasets import CIFAR10, Omniglot
from tqdm import tqdm

from lib.data.cifar10 import JPEG_DIR, OFFICIAL_DIR, cache_path, load_cifar10
from lib.data.omniglot import CACHE as OMNIGLOT_CACHE
from lib.data.omniglot import FOLDER as OMNIGLOT_DIR
from lib.data.omniglot import SETS as OMNIGLOT_SETS
from lib.data.omniglot import load_omniglot
from lib.data.source import data_root
from lib.pipeline.atomic import DamagedFileError

DATASETS = ("cifar10", "omniglot")
DEFAULT_ARCHIVES = Path(__file__).resolve().parents[3] / "shared" / "data"
CIFAR10_ARCHIVE = "cifar10/cifar10-images-jpeg.tar.gz"
CIFAR10_EXTRAS = "cifar10/cifar10-extras.tar.gz"  # original-order index; unpacked when present
OMNIGLOT_ARCHIVES = {name: f"omniglot/{name}.zip" for name in OMNIGLOT_SETS}


class FetchError(RuntimeError):
    """A dataset could not be put in place (bad checksum, no archives and no download)."""


def in_place(dataset: str, root: Path, source: str = "auto") -> bool:
    """Whether ``dataset`` is under ``root`` in the form ``source`` produces (``auto``: any form the loaders read)."""
    if dataset == "omniglot":
        return all((root / OMNIGLOT_DIR / name).is_dir() for name in OMNIGLOT_SETS)
    official = (root / OFFICIAL_DIR).is_dir()
    jpeg = all((root / JPEG_DIR / split).is_dir() for split in ("train", "test"))
    return {"auto": official or jpeg, "archive": jpeg, "download": official}[source]


def archive_names(dataset: str, archives: Path) -> list[str]:
    """The archives of ``dataset`` to unpack, relative to ``archives``; empty when a required one is missing."""
    required = [CIFAR10_ARCHIVE] if dataset == "cifar10" else list(OMNIGLOT_ARCHIVES.values())
    if not all((archives / name).is_file() for name in required):
        return []
    optional = [CIFAR10_EXTRAS] if dataset == "cifar10" and (archives / CIFAR10_EXTRAS).is_file() else []
    return required + optional


def verify(archives: Path, names: list[str]) -> None:
    """Check each archive's sha256 against ``archives/SHA256SUMS``; raise ``FetchError`` on any mismatch."""
    sums_file = archives / "SHA256SUMS"
    if not sums_file.is_file():
        raise FetchError(f"{sums_file} is missing, so the archives cannot be verified")
    lines = [line.split() for line in sums_file.read_text().splitlines() if line.strip()]
    expected = {name.lstrip("*"): digest for digest, name in lines}
    for name in names:
        if name not in expected:
            raise FetchError(f"{name} is not listed in {sums_file}")
        if sha256_file(archives / name) != expected[name]:
            raise FetchError(f"sha256 of {archives / name} does not match {sums_file}: the archive is damaged or different")


def sha256_file(path: Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


UNREADABLE_ARCHIVE = (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error)


def damaged_archive(archive: Path, error: Exception) -> FetchError:
    """The error for an archive that matches its checksum but cannot be unpacked."""
    return FetchError(f"{archive} cannot be unpacked ({error}) although its sha256 matches SHA256SUMS: the archive "
                      "(and its listed checksum) are damaged. Replace both with intact copies (shared/data/README.md) "
                      "and run `make data` again, or download instead: python -m lib.data.fetch --source download")


def unpack_cifar10(archives: Path, names: list[str], root: Path) -> None:
    """Extract the CIFAR-10 tar.gz archives together into ``root/cifar10-jpeg``."""
    partial = _fresh(root / f".{JPEG_DIR}.partial")
    for name in names:
        try:
            with tarfile.open(archives / name) as tar:
                tar.extractall(partial, members=tqdm(tar, desc=f"unpacking {name}", unit="file"), filter="data")
        except UNREADABLE_ARCHIVE as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise damaged_archive(archives / name, error) from error
    shutil.rmtree(root / JPEG_DIR, ignore_errors=True)
    partial.rename(root / JPEG_DIR)


def unpack_omniglot(archives: Path, root: Path) -> None:
    """Extract each missing Omniglot set's zip into ``root/omniglot-py/<set>``."""
    folder = root / OMNIGLOT_DIR
    for name, archive in OMNIGLOT_ARCHIVES.items():
        if (folder / name).is_dir():
            continue
        partial = _fresh(folder / f".{name}.partial")
        try:
            with zipfile.ZipFile(archives / archive) as bundle:
                for member in tqdm(bundle.namelist(), desc=f"unpacking {archive}", unit="file"):
                    bundle.extract(member, partial)
        except UNREADABLE_ARCHIVE as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise damaged_archive(archives / archive, error) from error
        (partial / name).rename(folder / name)
        shutil.rmtree(partial)


def _fresh(path: Path) -> Path:
    """An empty folder at ``path`` (left-overs of an interrupted run are removed)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def download(dataset: str, root: Path) -> None:
    """Download the official files with torchvision (md5-checked by it) into the torchvision root."""
    try:
        if dataset == "cifar10":
            CIFAR10(str(root), train=True, download=True)
        else:
            for background in (True, False):
                Omniglot(str(root), background=background, download=True)
    except (OSError, RuntimeError) as error:  # URLError is an OSError
        raise FetchError(f"downloading {dataset} with torchvision failed: {error}") from error


def fetch(dataset: str, root: Path, archives: Path, source: str = "auto") -> str:
    """Put ``dataset`` in place under ``root``; returns what was done, in words."""
    if in_place(dataset, root, source):
        return f"already in place under {root}"
    names = archive_names(dataset, archives)
    if source == "archive" and not names:
        raise FetchError(f"no {dataset} archives under {archives} (pass --archives DIR)")
    root.mkdir(parents=True, exist_ok=True)
    if names and source != "download":
        verify(archives, names)
        if dataset == "cifar10":
            unpack_cifar10(archives, names, root)
        else:
            unpack_omniglot(archives, root)
        return f"unpacked {', '.join(names)} from {archives} (sha256 verified)"
    try:
        download(dataset, root)
    except FetchError as error:
        hint = f"; and no local archives under {archives} (pass --archives DIR)" if source == "auto" else ""
        raise FetchError(f"{error}{hint}") from error
    return "downloaded with torchvision"


def tensor_caches(dataset: str, root: Path) -> list[Path]:
    """The tensor cache files the loaders of ``dataset`` read under ``root`` (none for the official CIFAR-10 batches)."""
    if dataset == "omniglot":
        return [root / OMNIGLOT_DIR / OMNIGLOT_CACHE]
    if (root / OFFICIAL_DIR).is_dir():
        return []
    return [cache_path(root / JPEG_DIR, split) for split in ("train", "test")]


def unverifiable(path: Path) -> bool:
    """Whether a tensor cache has no recorded checksum (built before they were recorded) or cannot be read."""
    try:
        return "checksum" not in torch.load(path, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError):  # unreadable: rebuild it
        return True


def build_cache(dataset: str, root: Path) -> str:
    """Load ``dataset`` once so its tensor caches exist and are verified (a damaged one is rebuilt); returns
    the checksum(s) of what the loaders return and what was rebuilt."""
    rebuilt = [p for p in tensor_caches(dataset, root) if p.exists() and unverifiable(p)]
    for path in rebuilt:
        path.unlink()
    try:
        checksums = _load_all(dataset, root)
    except DamagedFileError as error:  # verified against its recorded checksum and found damaged
        error.path.unlink()
        rebuilt.append(error.path)
        checksums = _load_all(dataset, root)
    return checksums + "".join(f"; rebuilt {p.name} (damaged or without a recorded checksum)" for p in rebuilt)


def _load_all(dataset: str, root: Path) -> str:
    if dataset == "cifar10":
        return ", ".join(f"{split} {load_cifar10(split, root)[2].checksum[:16]}" for split in ("train", "test"))
    return f"all {load_omniglot(root)[2].checksum[:16]}"


def main(argv: list[str] | None = None) -> None:
    """The command line: fetch each dataset asked for, then build its cache, printing one status line per step."""
    parser = argparse.ArgumentParser(prog="python -m lib.data.fetch", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--root", type=Path, help="data root (default: $DATA_DIR, else data/ in the repository)")
    parser.add_argument("--archives", type=Path, default=DEFAULT_ARCHIVES, help=f"default: {DEFAULT_ARCHIVES}")
    parser.add_argument("--source", choices=["auto", "archive", "download"], default="auto")
    args = parser.parse_args(argv)
    root = data_root(args.root)
    for dataset in DATASETS if args.dataset == "all" else [args.dataset]:
        start = time.perf_counter()
        try:
            done = fetch(dataset, root, args.archives, args.source)
        except FetchError as error:
            raise SystemExit(f"{dataset}: error: {error}") from error
        print(f"{dataset}: {done} ({time.perf_counter() - start:.1f} s)", flush=True)
        start = time.perf_counter()
        checksums = build_cache(dataset, root)
        print(f"{dataset}: ready, tensors cached ({time.perf_counter() - start:.1f} s); sha256 {checksums}", flush=True)


if __name__ == "__main__":
    main()
