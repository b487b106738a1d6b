"""Issue 10: a cached record is used only when it can be trusted; otherwise it is marked, or refused."""

import ast
import json
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import torch

from lib.pipeline import fingerprint, results
from lib.pipeline.atomic import DamagedFileError
from lib.pipeline.divergence import Diverged, check_finite
from lib.pipeline.results import RunOutput, UntrustedRecordError
from lib.report import footer
from tools import seal_records


@dataclass(frozen=True)
class ToyConfig:
    experiment: str = "toy"
    seed: int = 0
    device: str = "cpu"
    threads: int = 0
    lr: float = 0.1


def toy_run(cfg: ToyConfig, checkpoint) -> RunOutput:
    return RunOutput(metrics={"acc": 50.0 + cfg.seed}, data_source={"name": "toy", "kind": "synthetic",
                                                                     "checksum": "0" * 16}, device=torch.device("cpu"))


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.fixture
def cached(tmp_path):
    record = results.cached(ToyConfig(), toy_run, root=tmp_path)
    return record, results.record_path(ToyConfig(), tmp_path)


def test_a_fresh_record_is_trusted_and_carries_checksum_and_fingerprint(cached):
    record, path = cached
    assert record.mark is None and record.status == "ok" and len(record.checksum) == 64
    assert record.provenance["code"]["fingerprint"] == fingerprint.current_fingerprint("toy")
    assert results.stored(ToyConfig(), path.parent.parent).mark is None


def test_an_edited_metric_is_marked_altered_and_refused_under_strict(cached, monkeypatch):
    _, path = cached
    _edit(path, lambda d: d["metrics"].update(acc=99.0))
    again = results.cached(ToyConfig(), toy_run, root=path.parent.parent)
    assert again.mark.startswith("altered: its content does not match its checksum") and again.metrics["acc"] == 99.0
    assert "**altered" in footer.runs_summary([again])
    monkeypatch.setenv("COMPANION_STRICT", "1")
    with pytest.raises(UntrustedRecordError, match=f"{path}: altered"):
        results.stored(ToyConfig(), path.parent.parent)
    assert results.cached(ToyConfig(), toy_run, force=True, root=path.parent.parent).metrics["acc"] == 50.0


def test_a_record_edited_to_another_config_is_marked_even_with_a_recomputed_checksum(cached):
    _, path = cached
    def change(data):
        data["config"]["lr"] = 0.5
        data["checksum"] = results.content_checksum(data)
    _edit(path, change)
    assert results.stored(ToyConfig(), path.parent.parent).mark == \
        "altered: its stored config differs from the requested one in lr"


def test_a_code_change_makes_the_record_stale_and_force_recomputes(cached, monkeypatch):
    record, path = cached
    monkeypatch.setattr(fingerprint, "current_fingerprint", lambda experiment, root=None: "c0ffee000000")
    stale = results.cached(ToyConfig(), toy_run, root=path.parent.parent)
    old = record.provenance["code"]["fingerprint"]
    assert stale.mark == f"stale: computed with code {old}, now c0ffee000000"
    assert f"**stale: computed with code {old}, now c0ffee000000** (1 run(s))" in footer.runs_summary([stale])
    fresh = results.cached(ToyConfig(), toy_run, force=True, root=path.parent.parent)
    assert fresh.mark is None and fresh.provenance["code"]["fingerprint"] == "c0ffee000000"


def test_a_damaged_record_names_the_file_and_the_repair(cached):
    _, path = cached
    path.write_text(path.read_text()[:40])
    with pytest.raises(DamagedFileError, match=f"{path} is not a readable run record.*git checkout -- {path}.*rm {path}"):
        results.stored(ToyConfig(), path.parent.parent)


def test_non_finite_values_give_a_diverged_record_in_standard_json(tmp_path):
    def exploding(cfg, checkpoint):
        check_finite("train loss", float("nan"), "search epoch 2")

    record = results.cached(ToyConfig(seed=1), exploding, root=tmp_path)
    assert record.status == "diverged" and record.metrics["diverged"] == {"where": "search epoch 2",
                                                                         "what": "train loss = nan"}
    assert results.cached(ToyConfig(seed=1), exploding, root=tmp_path) == record  # reused, not rerun
    assert "**diverged at search epoch 2**" in footer.runs_summary([record])

    def nan_metrics(cfg, checkpoint):
        return replace(toy_run(cfg, checkpoint), metrics={"acc": float("nan"), "curve": [1.0, float("inf")]})

    record = results.cached(ToyConfig(seed=2), nan_metrics, root=tmp_path)
    text = results.record_path(ToyConfig(seed=2), tmp_path).read_text()
    assert "NaN" not in text and "Infinity" not in text and json.loads(text)["metrics"]["acc"] is None
    assert record.status == "diverged" and "acc, curve[1]" in record.metrics["diverged"]["what"]


def test_check_finite_names_the_value():
    check_finite("weights", [torch.ones(3), torch.zeros(2)], "epoch 1")
    with pytest.raises(Diverged, match=r"epoch 1: alphas: 1 of 3 values non-finite"):
        check_finite("alphas", torch.tensor([0.0, float("inf"), 1.0]), "epoch 1")
    with pytest.raises(Diverged, match=r"meta-epoch 3, step 2: metrics query_ce = nan"):
        try:
            check_finite("metrics", {"acc": 1.0, "query_ce": float("nan")}, "step 2")
        except Diverged as error:
            raise error.within("meta-epoch 3")


# --- fingerprints --------------------------------------------------------------------------------

LIB = {
    "lib/__init__.py": '"""lib."""\n',
    "lib/experiments/__init__.py": "",
    "lib/experiments/lamanas.py": '"""A row."""\nfrom lib.losses import ce\nfrom lib.results import RunOutput\n\n'
                                  'def run(cfg, checkpoint):\n    return ce(1)\n',
    "lib/losses.py": "def ce(x):\n    return x + 1  # a loss\n",
    "lib/meta/__init__.py": "",
    "lib/results.py": "RunOutput = dict\n",
    "lib/training/__init__.py": "",
    "lib/training/train.py": "def train():\n    return 1\n",
}


def _tree(files: dict[str, str]) -> fingerprint.Tree:
    return fingerprint.Tree(dict(files))


def test_fingerprint_follows_imports_ignores_docs_pipeline_and_pure_moves():
    base = fingerprint.fingerprint(_tree(LIB), "lamanas")
    assert fingerprint.sources(_tree(LIB), "lamanas") == ["lib/__init__.py", "lib/experiments/__init__.py",
                                                          "lib/experiments/lamanas.py", "lib/losses.py"]
    quiet = {**LIB, "lib/losses.py": '"""Losses."""\ndef ce(x):\n    """One more."""\n    return x + 1\n',
             "lib/results.py": "RunOutput = list\n", "lib/training/train.py": "def train():\n    return 2\n"}
    assert fingerprint.fingerprint(_tree(quiet), "lamanas") == base
    loud = {**LIB, "lib/losses.py": "def ce(x):\n    return x + 2\n"}
    assert fingerprint.fingerprint(_tree(loud), "lamanas") != base
    moved = {k: v for k, v in LIB.items() if k not in ("lib/losses.py", "lib/results.py")}
    moved.update({"lib/meta/losses.py": LIB["lib/losses.py"],
                  "lib/pipeline/__init__.py": "", "lib/pipeline/results.py": LIB["lib/results.py"],
                  "lib/experiments/lamanas.py": LIB["lib/experiments/lamanas.py"].replace(
                      "lib.losses", "lib.meta.losses").replace("lib.results", "lib.pipeline.results")})
    assert "lib/meta/losses.py" in fingerprint.sources(_tree(moved), "lamanas")
    assert fingerprint.fingerprint(_tree(moved), "lamanas") == base


def test_a_profile_table_is_data_but_every_other_module_value_is_code():
    with_table = {**LIB, "lib/experiments/lamanas.py": LIB["lib/experiments/lamanas.py"] + 'PROFILES = {"cpu": {"C": 8}}\n'}
    base = fingerprint.fingerprint(_tree(with_table), "lamanas")
    resized = {**LIB, "lib/experiments/lamanas.py": LIB["lib/experiments/lamanas.py"] + 'PROFILES: dict = {"cpu": {"C": 28}}\n'}
    assert fingerprint.fingerprint(_tree(resized), "lamanas") == base
    other = {**LIB, "lib/experiments/lamanas.py": LIB["lib/experiments/lamanas.py"] + 'WIDTHS = {"cpu": {"C": 28}}\n'}
    assert fingerprint.fingerprint(_tree(other), "lamanas") != base
    nested = {**LIB, "lib/experiments/lamanas.py": LIB["lib/experiments/lamanas.py"].replace(
        "return ce(1)", "PROFILES = 2\n    return ce(PROFILES)")}
    assert fingerprint.fingerprint(_tree(nested), "lamanas") != base  # only module-level tables are data


def test_a_changed_profile_table_changes_the_key_of_every_config_built_from_it(monkeypatch):
    """The fingerprint may leave profile tables out only because a config's key holds the settings they choose:
    a profile resized under the same name must ask for new records, never find the old ones."""
    from lib.experiments import darts_cifar10, lamanas_config
    from lib.experiments.lamanas_curve import LamanasCurveConfig
    from lib.experiments.lnas import LnasConfig
    from lib.pipeline.results import config_key

    builds = {"darts": lambda: darts_cifar10.DartsCifarConfig.for_profile("small"),
              "lnas": lambda: LnasConfig.for_profile("small", variant="variant2", sparsity=0.5),
              "lamanas": lambda: lamanas_config.LamanasConfig.for_profile("small"),
              "curve": lambda: LamanasCurveConfig(profile="small", curve_at=(0, 1), test_tasks=1, test_steps=1)}
    before = {name: config_key(build()) for name, build in builds.items()}
    cifar = {**darts_cifar10.PROFILES["small"], "training": {**darts_cifar10.PROFILES["small"]["training"], "epochs": 7}}
    monkeypatch.setitem(darts_cifar10.PROFILES, "small", cifar)
    monkeypatch.setitem(lamanas_config.PROFILES, "small", {**lamanas_config.PROFILES["small"], "task.steps": 4})
    after = {name: config_key(build()) for name, build in builds.items()}
    assert all(after[name] != before[name] for name in builds), (before, after)


def test_every_experiment_of_lib_has_an_entry_with_a_run_function():
    tree = fingerprint.working_tree()
    shared_base = "lib/experiments/cifar_config.py"  # the CIFAR experiments' common base, never run itself
    names = {line.split('"')[1] for path, text in tree.files.items()
             if path.startswith("lib/experiments/") and path != shared_base
             for line in text.splitlines() if line.strip().startswith('experiment: str = "')}
    assert names <= set(fingerprint.ENTRY), f"add {names - set(fingerprint.ENTRY)} to fingerprint.ENTRY"
    for experiment, entry in fingerprint.ENTRY.items():
        modules = entry if isinstance(entry, tuple) else (entry,)
        assert any(") -> RunOutput:" in tree.files[tree.module_file(m)] for m in modules), f"{entry}: no run function"
        assert not any(p.startswith(fingerprint.EXCLUDED) for p in fingerprint.sources(tree, experiment))


# --- sealing legacy records in a git repository --------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return _git(repo, "rev-parse", "HEAD")


def test_seal_records_uses_the_code_at_the_records_commit_and_is_idempotent(tmp_path, capsys):
    repo, root = tmp_path / "repo", tmp_path / "results"
    repo.mkdir()
    _git(repo, "init", "-q")
    old = _commit(repo, LIB, "old layout")
    for path in ("lib/losses.py", "lib/results.py"):
        (repo / path).unlink()
    moved = {"lib/meta/losses.py": LIB["lib/losses.py"], "lib/pipeline/__init__.py": "",
             "lib/pipeline/results.py": LIB["lib/results.py"],
             "lib/experiments/lamanas.py": LIB["lib/experiments/lamanas.py"].replace(
                 "lib.losses", "lib.meta.losses").replace("lib.results", "lib.pipeline.results")}
    _commit(repo, moved, "regrouped")
    now = fingerprint.fingerprint(fingerprint.working_tree(repo), "lamanas")
    assert fingerprint.commit_fingerprint(old, "lamanas", repo) == now  # a pure move changes nothing
    legacy = {"experiment": "lamanas", "key": "k1", "config": {"experiment": "lamanas"}, "metrics": {"acc": 1.0},
              "provenance": {"git": {"commit": old, "lib_dirty": False}, "date": "2026-01-01"}}
    (root / "lamanas").mkdir(parents=True)
    (root / "lamanas/k1.json").write_text(json.dumps(legacy))
    dirty = {**legacy, "key": "k2", "provenance": {"git": {"commit": old, "lib_dirty": True}, "date": "2026-01-02"}}
    (root / "lamanas/k2.json").write_text(json.dumps(dirty))

    assert seal_records.main(["--root", str(root), "--repo", str(repo)]) == 0
    sealed = results.Record.load(root / "lamanas/k1.json")
    assert sealed.provenance["code"]["fingerprint"] == now and results.untrusted_because(sealed, root=repo) is None
    assert results.Record.load(root / "lamanas/k2.json").provenance["code"]["fingerprint"] == "unknown"
    before = {p.name: p.read_text() for p in (root / "lamanas").iterdir()}
    assert seal_records.main(["--root", str(root), "--repo", str(repo)]) == 0
    assert {p.name: p.read_text() for p in (root / "lamanas").iterdir()} == before  # idempotent

    _edit(root / "lamanas/k1.json", lambda d: d["metrics"].update(acc=99.0))
    assert seal_records.main(["--root", str(root), "--repo", str(repo)]) == 1  # reported, never re-sealed
    assert "k1.json: ALTERED" in capsys.readouterr().out

    assert seal_records.main(["--root", str(root), "--repo", str(repo), "--vouch", "checks only"]) == 1
    vouched = results.Record.load(root / "lamanas/k2.json")
    assert vouched.provenance["code"] == {"fingerprint": now, "computed_with": "unknown", "vouched": "checks only"}
    assert "code vouched equal to the current (unknown -> " in footer.trust_marks([vouched])


def test_the_fingerprint_text_ignores_empty_fields_a_newer_python_adds():
    """Python 3.12 gives every function and class ``type_params=[]``; 3.13 leaves empty fields out of ast.dump."""
    tree = ast.parse("def f(x):\n    return x + 1\n")
    plain = fingerprint.dump(tree)
    tree.body[0].type_params = []  # what 3.12 parses
    tree.body[0]._fields = (*tree.body[0]._fields, "type_params")
    assert fingerprint.dump(tree) == plain
    assert fingerprint.dump(ast.parse("def f(x):\n    return x + 2\n")) != plain


def test_refingerprint_keeps_a_record_only_when_its_commits_source_is_todays(tmp_path):
    repo, root = tmp_path / "repo", tmp_path / "results"
    repo.mkdir()
    _git(repo, "init", "-q")
    same = _commit(repo, LIB, "the code of today")
    now = fingerprint.fingerprint(fingerprint.working_tree(repo), "lamanas")
    (root / "lamanas").mkdir(parents=True)
    for key, commit, dirty in (("k1", same, None), ("k2", same, True), ("k3", "f" * 40, False)):
        record = results.Record("lamanas", key, {"experiment": "lamanas"}, {"acc": 1.0},
                                {"git": {"commit": commit, "lib_dirty": dirty}, "code": {"fingerprint": "oldfunction"}})
        record = replace(record, checksum=results.content_checksum(record.stored_fields()))
        (root / f"lamanas/{key}.json").write_text(json.dumps(record.stored_fields()))
    assert seal_records.main(["--root", str(root), "--repo", str(repo), "--refingerprint"]) == 0
    code = {k: results.Record.load(root / f"lamanas/{k}.json").provenance["code"] for k in ("k1", "k2", "k3")}
    assert code["k1"]["fingerprint"] == now and code["k1"]["computed_with"] == "oldfunction"
    assert code["k2"] == code["k3"] == {"fingerprint": "oldfunction"}  # edited lib, unknown commit: still stale
    assert fingerprint.is_same_source(code["k1"]["vouched"]) and not fingerprint.is_same_source("checks only")


def test_the_footer_folds_checked_refingerprints_into_one_note_and_keeps_declared_vouches_whole():
    def vouched(commit: str, reason: str) -> results.Record:
        code = {"fingerprint": "new", "computed_with": "old", "vouched": reason}
        return results.Record("lamanas", commit, {}, {}, {"git": {"commit": commit}, "code": code})

    same = [vouched(c, fingerprint.SAME_SOURCE.format(commit=c)) for c in ("aaaa111", "bbbb222")]
    declared = vouched("cccc333", "a docstring changed")
    marks = footer.trust_marks([*same, declared])
    assert marks.count("fingerprint recomputed") == 1 and "(2 run(s))" in marks
    assert "**code vouched equal to the current (old -> new): a docstring changed** (1 run(s))" in marks
    other = replace(declared, provenance={"code": {**declared.provenance["code"], "computed_with": "older"}})
    folded = footer.trust_marks([declared, other])  # one reason given for two fingerprints: said once
    assert folded == "; **code vouched equal to the current (old -> new, older -> new): a docstring changed** (2 run(s))"
    assert "aaaa111" not in marks  # each run's commit is in its provenance line instead


def test_a_narrowed_vouch_covers_only_the_code_at_since_and_leaves_the_excluded_runs_stale(tmp_path, capsys):
    repo, root = tmp_path / "repo", tmp_path / "results"
    repo.mkdir()
    _git(repo, "init", "-q")
    before_fix = _commit(repo, LIB, "the code the runs were made with")
    then = fingerprint.fingerprint(fingerprint.working_tree(repo), "lamanas")
    _commit(repo, {"lib/losses.py": "def ce(x):\n    return x + 2\n"}, "the fix")
    now = fingerprint.fingerprint(fingerprint.working_tree(repo), "lamanas")
    (root / "lamanas").mkdir(parents=True)
    for key, variant, code in (("k1", "variant1", then), ("k2", "variant2", then), ("k3", "variant1", "older")):
        record = results.Record("lamanas", key, {"experiment": "lamanas", "variant": variant}, {"acc": 1.0},
                                {"git": {"commit": before_fix, "lib_dirty": False}, "code": {"fingerprint": code}})
        record = replace(record, checksum=results.content_checksum(record.stored_fields()))
        (root / f"lamanas/{key}.json").write_text(json.dumps(record.stored_fields()))
    args = ["--root", str(root), "--repo", str(repo), "--vouch", "the fix alters variant 2 only", "--since", before_fix,
            "--except", "variant=variant2"]
    assert seal_records.main(args) == 0
    code = {k: results.Record.load(root / f"lamanas/{k}.json").provenance["code"] for k in ("k1", "k2", "k3")}
    assert code["k1"] == {"fingerprint": now, "computed_with": then, "vouched": "the fix alters variant 2 only"}
    assert code["k2"] == {"fingerprint": then} and code["k3"] == {"fingerprint": "older"}
    _commit(repo, {"lib/losses.py": "def ce(x):\n    return x + 3\n"}, "another fix")
    assert seal_records.main(["--root", str(root), "--repo", str(repo), "--vouch", "again", "--except", "variant=variant2"]) == 0
    again = results.Record.load(root / "lamanas/k1.json").provenance["code"]
    assert again["computed_with"] == now and again["earlier"] == code["k1"]  # the chain back to `then` is kept
    marks = footer.trust_marks([results.Record.load(root / "lamanas/k1.json")])  # and read back whole
    latest = fingerprint.fingerprint(fingerprint.working_tree(repo), "lamanas")
    assert f"code vouched equal to the current ({now} -> {latest}): again** (1 run(s))" in marks
    assert f"earlier vouch ({then} -> {now}): the fix alters variant 2 only** (1 run(s))" in marks
    log = capsys.readouterr().out
    assert "k2.json: left stale (excluded: variant=variant2)" in log and "k3.json: left stale (not computed by" in log
    with pytest.raises(SystemExit):
        seal_records.main(["--root", str(root), "--except", "variant=variant2"])  # narrows nothing without --vouch
    for wrong in (["--except", "varient=variant2"], ["--since", "f" * 40]):  # a typo must not vouch for everything
        with pytest.raises(SystemExit):
            seal_records.main(["--root", str(root), "--repo", str(repo), "--vouch", "x", *wrong])
    assert results.Record.load(root / "lamanas/k2.json").provenance["code"] == {"fingerprint": then}
