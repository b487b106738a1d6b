"""Issue 10: killed writes, planted checkpoints, concurrent runs, damaged data files."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from lib.data.fetch import FetchError, build_cache, fetch
from lib.data.omniglot import load_omniglot
from lib.data.source import DatasetMissingError
from lib.pipeline import results
from lib.pipeline.atomic import DamagedFileError
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput
from tests.test_data import make_archives, make_omniglot_tree
from tests.test_trust_records import ToyConfig

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO), **env})


def test_a_write_killed_midway_leaves_a_readable_record_and_no_leftovers(tmp_path):
    path = tmp_path / "toy" / "record.json"
    writer = _python(f"""
        from lib.pipeline.atomic import write_json
        payload = {{"metrics": list(range(400_000))}}
        write_json({str(path)!r}, payload)
        print("first", flush=True)
        while True:
            write_json({str(path)!r}, payload)
    """)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert len(json.loads(path.read_text())["metrics"]) == 400_000  # the last complete write
    results.cached(ToyConfig(), lambda cfg, ckpt: RunOutput({"acc": 1.0}, {}, torch.device("cpu")), root=tmp_path)
    assert not list(tmp_path.rglob("*.tmp"))  # the next write removed the killed writer's temporary file


class Planted:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = Path("/tmp/trust-planted-marker")


def test_a_planted_pickle_in_a_checkpoint_is_refused_not_executed(tmp_path):
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "k.ckpt.pt"
    torch.save({"state": Planted()}, path)
    with pytest.raises(DamagedFileError, match=f"{path} holds Python objects other than tensors.*rm {path}"):
        Checkpoint(path).load()
    assert not MARKER.exists() and path.exists()  # nothing ran, and the user's file is left for them to judge
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DamagedFileError, match=f"{path} is damaged"):
        Checkpoint(path).load()


def test_a_checkpoint_of_other_code_is_discarded_and_resumes_count_all_time(tmp_path):
    path = tmp_path / "k.ckpt.pt"
    first = Checkpoint(path, fingerprint="aaa")
    time.sleep(0.05)
    first.save({"epoch": torch.tensor(3), "history": [{"loss": 1.0}]})
    resumed = Checkpoint(path, fingerprint="aaa")
    assert resumed.load()["history"] == [{"loss": 1.0}] and resumed.resumed
    assert resumed.elapsed() >= 0.05
    other = Checkpoint(path, fingerprint="bbb")
    assert other.load() is None and not path.exists() and not other.resumed
    assert other.note == "checkpoint k.ckpt.pt was written by code aaa, now bbb: started over"


def test_a_checkpoint_tells_how_much_of_its_run_is_behind_it_without_resuming(tmp_path, monkeypatch):
    path = tmp_path / "k.ckpt.pt"
    assert Checkpoint(path, fingerprint="aaa").saved_core_seconds() == 0.0  # none saved yet
    writer = Checkpoint(path, fingerprint="aaa")
    monkeypatch.setattr(writer, "elapsed", lambda: 120.0)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    writer.save({"epoch": torch.tensor(3)})
    assert Checkpoint(path, fingerprint="aaa").saved_core_seconds() == 240.0  # 120 s of wall time x 2 threads
    assert Checkpoint(path, fingerprint="bbb").saved_core_seconds() == 0.0  # other code: the run would start over
    assert path.exists()  # reading it neither resumes nor discards it
    path.write_bytes(b"PK\x03\x04 truncated")
    assert Checkpoint(path, fingerprint="aaa").saved_core_seconds() == 0.0


def test_a_resumed_runs_wall_time_counts_every_part(tmp_path):
    def run(cfg, checkpoint):
        if checkpoint.load() is None:
            time.sleep(0.3)
            checkpoint.save({"done": 1})
            raise KeyboardInterrupt
        return RunOutput({"acc": 1.0}, {}, torch.device("cpu"))

    with pytest.raises(KeyboardInterrupt):
        results.cached(ToyConfig(), run, root=tmp_path)
    record = results.cached(ToyConfig(), run, root=tmp_path)
    assert record.provenance["resumed_from_checkpoint"] and record.provenance["wall_time_s"] >= 0.3


def test_two_runs_of_one_config_at_once_compute_it_once(tmp_path):
    """Two threads stand in for two processes: each opens the lock file itself, and ``flock`` locks
    belong to the open file, so they exclude each other exactly as two processes do."""
    calls = []

    def run(cfg, checkpoint):
        calls.append(1)
        time.sleep(0.5)
        return RunOutput({"acc": 1.0}, {}, torch.device("cpu"))

    with ThreadPoolExecutor(2) as pool:
        records = list(pool.map(lambda _: results.cached(ToyConfig(), run, root=tmp_path), range(2)))
    assert len(calls) == 1 and records[0] == records[1]


# --- data files ----------------------------------------------------------------------------------

def test_a_damaged_tensor_cache_is_named_and_make_data_rebuilds_it(tmp_path):
    make_omniglot_tree(tmp_path / "omniglot-py")
    images, _, source = load_omniglot(tmp_path)
    cache = tmp_path / "omniglot-py" / "omniglot28.pt"
    data = torch.load(cache, weights_only=True)
    data["images"][0, 0, 0, 0, 0] ^= 1  # one flipped pixel: still a readable file
    torch.save(data, cache)
    with pytest.raises(DamagedFileError, match=f"{cache} does not match the checksum.*`make data`"):
        load_omniglot(tmp_path)
    cache.write_bytes(cache.read_bytes()[:100])
    with pytest.raises(DamagedFileError, match=f"{cache} is damaged"):
        load_omniglot(tmp_path)
    assert "rebuilt omniglot28.pt" in build_cache("omniglot", tmp_path)
    assert load_omniglot(tmp_path)[2].checksum == source.checksum
    assert "rebuilt" not in build_cache("omniglot", tmp_path)  # verified, left alone


def test_a_damaged_archive_with_a_matching_checksum_names_the_archive(tmp_path):
    archives, root = tmp_path / "archives", tmp_path / "data"
    make_archives(archives, tmp_path)
    archive = archives / "cifar10/cifar10-images-jpeg.tar.gz"
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    sums = archives / "SHA256SUMS"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    sums.write_text("".join(f"{digest}  {line.split()[1]}\n" if "cifar10-images" in line else line + "\n"
                            for line in sums.read_text().splitlines()))
    with pytest.raises(FetchError, match=f"{archive} cannot be unpacked .* although its sha256 matches"):
        fetch("cifar10", root, archives)
    assert not list(root.glob(".*partial")) and not (root / "cifar10-jpeg").exists()


def test_the_omniglot_hint_names_the_data_root(tmp_path):
    with pytest.raises(DatasetMissingError) as caught:
        load_omniglot(tmp_path)
    assert f"--root {tmp_path})" in str(caught.value) or f"--root {tmp_path}`" in str(caught.value)
