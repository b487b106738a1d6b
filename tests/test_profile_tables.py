"""The profile tables the chapters include are what tools/profile_tables.py writes from the profiles today."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("profile_tables", ROOT / "tools" / "profile_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_profile_tables_match_the_profiles():
    for path, text in _tool().render().items():
        assert path.read_text() == text, f"{path.name} is out of date: run python tools/profile_tables.py"


def test_a_table_lists_exactly_the_settings_some_profile_changes():
    tool = _tool()
    lines = tool.render()[tool.OUT / "profiles_lnas.md"].splitlines()
    names = [line.split("`")[1] for line in lines[2:]]
    assert "data.n_train" in names and "search.order" not in names  # changed by small/cpu; changed by none
    n_train = next(line for line in lines if "`data.n_train`" in line)
    expected = [f" {tool.DartsCifarConfig.for_profile(p).data.n_train:,} " for p in tool.SHOWN]
    assert n_train.split("|")[2:5] == expected and len(set(expected)) == 3
