"""Data loaders, splits, batches, few-shot tasks, synthetic data and `make data`, on tiny fake datasets."""

import hashlib
import tarfile
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from lib.data.cifar10 import CLASSES, TensorBatches, load_cifar10, normalize, random_crop_flip, split_indices
from lib.data.fetch import FetchError, fetch, main
from lib.data.omniglot import VINYALS_SIZES, FewShotTasks, class_split_characters, load_omniglot
from lib.data.source import DatasetMissingError, data_root
from lib.data.synthetic import SyntheticFewShotTasks, synthetic_images

OMNIGLOT_TREE = {"images_background": {"Alpha": 2, "Beta": 2}, "images_evaluation": {"Gamma": 2}}
DRAWINGS = 5


def make_cifar_tree(folder: Path, per_class: int = 2) -> None:
    """``folder/{train,test}/<class>/NNNN.jpg``: flat grey images whose level encodes (class, number)."""
    for split in ("train", "test"):
        for label, name in enumerate(CLASSES):
            (folder / split / name).mkdir(parents=True)
            for number in range(per_class):
                level = 10 * label + 5 * number
                Image.new("RGB", (32, 32), (level, level, level)).save(folder / split / name / f"{number:04d}.jpg")


def make_omniglot_tree(folder: Path) -> None:
    """``folder/<set>/<Alphabet>/characterNN/*.png``: random binary 35x35 drawings, all different."""
    generator = torch.Generator().manual_seed(0)
    for image_set, alphabets in OMNIGLOT_TREE.items():
        for alphabet, n_characters in alphabets.items():
            for character in range(1, n_characters + 1):
                path = folder / image_set / alphabet / f"character{character:02d}"
                path.mkdir(parents=True)
                for drawing in range(1, DRAWINGS + 1):
                    pixels = (torch.rand(35, 35, generator=generator) < 0.5).to(torch.uint8) * 255
                    Image.fromarray(pixels.numpy(), mode="L").save(path / f"{character:04d}_{drawing:02d}.png")


@pytest.fixture
def omniglot_root(tmp_path: Path) -> Path:
    make_omniglot_tree(tmp_path / "omniglot-py")
    return tmp_path


# --- missing data and the data root -------------------------------------------------------------

def test_missing_datasets_name_the_fetch_command(tmp_path: Path) -> None:
    for load in (lambda: load_cifar10("train", tmp_path), lambda: load_omniglot(tmp_path),
                 lambda: FewShotTasks("meta_train", 5, 1, 1, root=tmp_path)):
        with pytest.raises(FileNotFoundError, match="make data") as caught:
            load()
        assert isinstance(caught.value, DatasetMissingError) and str(tmp_path) in str(caught.value)


def test_data_root_prefers_argument_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    assert data_root() == Path(__file__).resolve().parents[1] / "data"
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert data_root() == tmp_path
    assert data_root("elsewhere") == Path("elsewhere")


# --- CIFAR-10 ----------------------------------------------------------------------------------

def test_cifar10_jpeg_folder_is_decoded_once_and_follows_the_order_index(tmp_path: Path) -> None:
    folder = tmp_path / "cifar10-jpeg"
    make_cifar_tree(folder)
    (folder / "cifar10-extras").mkdir()
    rows = [(i, f"train/{CLASSES[i % 10]}/{i // 10:04d}.jpg", i % 10) for i in range(20)]  # interleaved classes
    (folder / "cifar10-extras/train_order.csv").write_text(
        "index,batch_file,index_in_batch,label,class_name,jpeg_path\n"
        + "".join(f"{i},data_batch_1,{i},{label},{CLASSES[label]},{path}\n" for i, path, label in rows))
    images, labels, source = load_cifar10("train", tmp_path)
    assert images.shape == (20, 3, 32, 32) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert labels.tolist() == [i % 10 for i in range(20)]
    levels = images[:, 0, 16, 16].float()
    expected = torch.tensor([10.0 * (i % 10) + 5 * (i // 10) for i in range(20)])
    assert (levels - expected).abs().max() <= 2  # JPEG of a flat image is nearly exact
    assert source.kind == "jpeg-image-folder" and "official order" in source.note and len(source.checksum) == 64
    assert (folder / "tensors-train.pt").exists()
    again = load_cifar10("train", tmp_path)
    assert torch.equal(again[0], images) and again[2].checksum == source.checksum

    test_images, test_labels, test_source = load_cifar10("test", tmp_path)  # no test index: class-grouped
    assert test_labels.tolist() == sorted(test_labels.tolist()) and "class-grouped" in test_source.note


def test_normalize_gives_float_standardised_images() -> None:
    images = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    out = normalize(images)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 4, 4)
    assert torch.allclose(out[0, :, 0, 0], (1 - torch.tensor([0.4914, 0.4822, 0.4465])) / torch.tensor([0.2470, 0.2435, 0.2616]))


def test_split_indices_are_disjoint_sized_and_seeded() -> None:
    parts = split_indices(100, [10, 45, 45], seed=3)
    assert [len(p) for p in parts] == [10, 45, 45]
    assert len(torch.cat(parts).unique()) == 100
    assert all(torch.equal(a, b) for a, b in zip(parts, split_indices(100, [10, 45, 45], seed=3)))
    assert not torch.equal(parts[0], split_indices(100, [10, 45, 45], seed=4)[0])
    assert [len(p) for p in split_indices(100, [30, 20], seed=0)] == [30, 20]
    with pytest.raises(ValueError):
        split_indices(10, [6, 5], seed=0)


def test_tensor_batches_cover_each_sample_once_per_epoch() -> None:
    images = torch.arange(23).view(23, 1, 1, 1).expand(23, 3, 4, 4).to(torch.uint8)
    labels = torch.arange(23)
    batches = TensorBatches(images, labels, batch_size=5, shuffle=True, seed=0)
    assert len(batches) == 5
    seen = [y for _, y in batches]
    assert [len(y) for y in seen] == [5, 5, 5, 5, 3]
    assert sorted(torch.cat(seen).tolist()) == list(range(23))
    x, y = next(iter(TensorBatches(images, labels, batch_size=5, shuffle=True, seed=0)))
    assert x.shape == (5, 3, 4, 4) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x, normalize(images[y]))  # images stay paired with their labels
    dropped = TensorBatches(images, labels, batch_size=5, drop_last=True)
    assert len(dropped) == 4 and sum(len(y) for _, y in dropped) == 20


def test_tensor_batches_are_deterministic_per_seed_and_epoch() -> None:
    images = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8)
    labels = torch.arange(40)

    def epoch_of(seed: int, epoch: int) -> list[torch.Tensor]:
        batches = TensorBatches(images, labels, batch_size=16, shuffle=True, seed=seed, augment=True)
        batches.set_epoch(epoch)
        return [t for pair in batches for t in pair]

    assert all(torch.equal(a, b) for a, b in zip(epoch_of(0, 2), epoch_of(0, 2)))
    assert not torch.equal(epoch_of(0, 2)[1], epoch_of(0, 3)[1])
    assert not torch.equal(epoch_of(0, 2)[1], epoch_of(1, 2)[1])
    batches = TensorBatches(images, labels, batch_size=16, seed=0)
    first, second = [torch.cat([y for _, y in batches]) for _ in range(2)]  # passes advance the epoch
    assert not torch.equal(first, second)
    batches.set_epoch(0)
    assert torch.equal(torch.cat([y for _, y in batches]), first)


def test_random_crop_flip_returns_shifted_or_mirrored_crops() -> None:
    images = torch.randint(1, 256, (16, 3, 6, 6), dtype=torch.uint8)
    out = random_crop_flip(images, torch.Generator().manual_seed(0), padding=2)
    padded = torch.nn.functional.pad(images, [2] * 4)
    for original, crop in zip(padded, out):
        candidates = [window for dy in range(5) for dx in range(5) for window in
                      (original[:, dy:dy + 6, dx:dx + 6], original[:, dy:dy + 6, dx:dx + 6].flip(-1))]
        assert any(torch.equal(crop, window) for window in candidates)


# --- Omniglot ----------------------------------------------------------------------------------

def test_omniglot_cache_and_class_splits(omniglot_root: Path) -> None:
    images, characters, source = load_omniglot(omniglot_root)
    assert images.shape == (6, DRAWINGS, 1, 28, 28) and images.dtype == torch.uint8
    assert characters[0] == "images_background/Alpha/character01" and characters[-1].startswith("images_evaluation/")
    assert (omniglot_root / "omniglot-py/omniglot28.pt").exists() and source.name == "omniglot"
    background = class_split_characters(characters, "background")
    assert background == {"meta_train": [0, 1, 2, 3], "meta_test": [4, 5]}
    with pytest.raises(ValueError, match="meta_val"):
        FewShotTasks("meta_val", 2, 1, 1, root=omniglot_root)


def test_vinyals_split_has_the_vinyals_sizes_and_alphabet_order() -> None:
    names = [f"images_{'background' if i % 3 else 'evaluation'}/A{i % 50:02d}/character{i // 50:02d}" for i in range(1623)]
    splits = class_split_characters(names, "vinyals")
    assert tuple(len(splits[k]) for k in ("meta_train", "meta_val", "meta_test")) == VINYALS_SIZES
    order = splits["meta_train"] + splits["meta_val"] + splits["meta_test"]
    assert sorted(order) == list(range(1623))
    keys = [names[i].split("/")[1:] for i in order]
    assert keys == sorted(keys)


def _image_index(images: torch.Tensor) -> dict[bytes, tuple[int, int]]:
    """Every (rotated) cached drawing -> (class id with rotations, drawing number)."""
    return {torch.rot90(images[c, d], k, dims=(-2, -1)).numpy().tobytes(): (4 * c + k, d)
            for c in range(images.shape[0]) for d in range(images.shape[1]) for k in range(4)}


def test_few_shot_tasks_shapes_labels_and_disjoint_support_query(omniglot_root: Path) -> None:
    sampler = FewShotTasks("meta_train", ways=5, shots=2, queries=3, root=omniglot_root, seed=1)
    assert sampler.n_classes == 16 and "meta_train" in sampler.source.note
    index = _image_index(sampler.images)
    task = sampler.sample()
    assert task.support_x.shape == (10, 1, 28, 28) and task.query_x.shape == (15, 1, 28, 28)
    assert task.support_x.dtype == torch.float32 and 0 <= task.support_x.min() and task.support_x.max() <= 1
    assert task.support_y.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] and set(task.query_y.tolist()) == set(range(5))
    assert len(task.classes.unique()) == 5
    lookup = lambda x: index[(x * 255).round().to(torch.uint8).numpy().tobytes()]
    support = [lookup(x) for x in task.support_x]
    query = [lookup(x) for x in task.query_x]
    for (cls, _), label in zip(support + query, torch.cat([task.support_y, task.query_y]).tolist()):
        assert cls == task.classes[label]  # the image belongs to the class its label stands for
    assert not set(support) & set(query)


def test_few_shot_sampling_is_reproducible(omniglot_root: Path) -> None:
    first = FewShotTasks("meta_test", 3, 1, 2, root=omniglot_root, seed=7)
    second = FewShotTasks("meta_test", 3, 1, 2, root=omniglot_root, seed=7)
    a, b = first.sample(), second.sample()
    assert torch.equal(a.support_x, b.support_x) and torch.equal(a.classes, b.classes)
    assert torch.equal(first.sample(11).query_x, second.sample(11).query_x)


def test_rotations_are_distinct_classes(omniglot_root: Path) -> None:
    assert FewShotTasks("meta_test", 2, 1, 1, root=omniglot_root, rotations=False).n_classes == 2
    sampler = FewShotTasks("meta_test", 8, 1, 0, root=omniglot_root)
    task = sampler.sample(0)  # all 2 characters x 4 rotations
    assert sorted(task.classes.tolist()) == list(range(8))
    flat = task.support_x.flatten(1)
    assert len({row.numpy().tobytes() for row in flat}) == 8  # rotated drawings differ
    for label, cls in enumerate(task.classes.tolist()):
        expected = torch.rot90(sampler.images[cls // 4], cls % 4, dims=(-2, -1)).float() / 255
        assert any(torch.equal(task.support_x[label], drawing) for drawing in expected)


# --- synthetic ---------------------------------------------------------------------------------

def test_synthetic_images_are_learnable_by_nearest_centroid() -> None:
    train_x, train_y, source = synthetic_images(500, n_classes=10, seed=0)
    test_x, test_y, _ = synthetic_images(200, n_classes=10, seed=0, split="test")
    assert train_x.shape == (500, 3, 32, 32) and train_x.dtype == torch.uint8 and train_y.dtype == torch.int64
    assert torch.bincount(train_y).tolist() == [50] * 10 and source.name == "synthetic-images"
    assert torch.equal(synthetic_images(500, seed=0)[0], train_x) and not torch.equal(test_x[:10], train_x[:10])
    centroids = torch.stack([normalize(train_x[train_y == k]).mean(0) for k in range(10)]).flatten(1)
    predicted = torch.cdist(normalize(test_x).flatten(1), centroids).argmin(1)
    assert (predicted == test_y).float().mean() > 0.8  # chance is 0.1


def test_synthetic_tasks_match_the_task_interface_and_are_learnable() -> None:
    sampler = SyntheticFewShotTasks(ways=5, shots=1, queries=4, seed=0)
    task = sampler.sample()
    assert task.support_x.shape == (5, 1, 28, 28) and task.query_x.shape == (20, 1, 28, 28)
    assert task.support_y.tolist() == list(range(5)) and task.query_y.max() == 4 and task.support_x.max() <= 1
    predicted = torch.cdist(task.query_x.flatten(1), task.support_x.flatten(1)).argmin(1)
    assert (task.support_y[predicted] == task.query_y).float().mean() > 0.6  # chance is 0.2
    again = SyntheticFewShotTasks(ways=5, shots=1, queries=4, seed=0).sample()
    assert torch.equal(again.query_x, task.query_x)
    other = SyntheticFewShotTasks(ways=5, shots=1, queries=4, seed=0, split_name="meta_test")
    assert not torch.equal(other.templates, sampler.templates)


# --- make data ---------------------------------------------------------------------------------

def make_archives(folder: Path, tmp_path: Path) -> None:
    """Fake offline archives in the shared/data layout, with a SHA256SUMS."""
    make_cifar_tree(tmp_path / "jpeg-src", per_class=1)
    make_omniglot_tree(tmp_path / "omniglot-src")
    (folder / "cifar10").mkdir(parents=True)
    (folder / "omniglot").mkdir()
    with tarfile.open(folder / "cifar10/cifar10-images-jpeg.tar.gz", "w:gz") as tar:
        for split in ("train", "test"):
            tar.add(tmp_path / "jpeg-src" / split, arcname=split)
    for name in ("images_background", "images_evaluation"):
        with zipfile.ZipFile(folder / f"omniglot/{name}.zip", "w") as bundle:
            for path in sorted((tmp_path / "omniglot-src" / name).rglob("*")):
                bundle.write(path, path.relative_to(tmp_path / "omniglot-src").as_posix())
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}\n" for p in sorted(folder.rglob("*.*z*"))]
    (folder / "SHA256SUMS").write_text("".join(sums))


def test_fetch_unpacks_verified_archives_and_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archives, root = tmp_path / "archives", tmp_path / "data"
    make_archives(archives, tmp_path)
    main(["--root", str(root), "--archives", str(archives)])
    assert "unpacked" in capsys.readouterr().out
    images, labels, source = load_cifar10("test", root)
    assert images.shape == (10, 3, 32, 32) and source.kind == "jpeg-image-folder"
    assert load_omniglot(root)[0].shape == (6, DRAWINGS, 1, 28, 28)
    stamp = (root / "cifar10-jpeg/tensors-test.pt").stat().st_mtime_ns
    main(["--root", str(root), "--archives", str(archives)])
    assert capsys.readouterr().out.count("already in place") == 2
    assert (root / "cifar10-jpeg/tensors-test.pt").stat().st_mtime_ns == stamp
    assert not list(root.rglob("*.partial"))


def test_fetch_rejects_a_checksum_mismatch(tmp_path: Path) -> None:
    archives, root = tmp_path / "archives", tmp_path / "data"
    make_archives(archives, tmp_path)
    sums = archives / "SHA256SUMS"
    assert sums.read_text().split()[1] == "cifar10/cifar10-images-jpeg.tar.gz"
    sums.write_text("0" * 64 + sums.read_text()[64:])  # that archive's digest no longer matches
    with pytest.raises(FetchError, match="sha256"):
        fetch("cifar10", root, archives)
    assert not (root / "cifar10-jpeg").exists()


def test_fetch_archive_source_without_archives_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no cifar10 archives"):
        main(["--dataset", "cifar10", "--root", str(tmp_path / "data"), "--archives", str(tmp_path), "--source", "archive"])
