"""Render each report's profiles as the Markdown tables the chapters include: every setting a profile changes.

    python tools/profile_tables.py   # writes book/_generated/profiles_lamanas.md and profiles_lnas.md

The values are read from the profile tables (``lib.experiments.lamanas_config.PROFILES``,
``lib.experiments.darts_cifar10.PROFILES``) through the configs they build; nothing is typed in.
``tests/test_profile_tables.py`` fails when a committed table differs from what this script writes.
"""

import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.experiments.darts_cifar10 import DartsCifarConfig  # noqa: E402
from lib.experiments.lamanas_config import LamanasConfig, flat_settings  # noqa: E402

OUT = ROOT / "book" / "_generated"
SHOWN = ("paper", "small", "cpu")
SKIP = {"experiment", "profile", "seed", "device", "threads", "channels_last"}


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "none"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def table(build: Callable[[str], Any]) -> str:
    """One row per setting that differs between the shown profiles, one column per profile."""
    settings = {p: flat_settings(build(p)) for p in SHOWN}
    names = [n for n in settings["paper"] if n not in SKIP and len({repr(settings[p][n]) for p in SHOWN}) > 1]
    lines = ["| setting | " + " | ".join(f"`{p}`" for p in SHOWN) + " |", "|---|" + "---:|" * len(SHOWN)]
    lines += [f"| `{n}` | " + " | ".join(_value(settings[p][n]) for p in SHOWN) + " |" for n in names]
    return "\n".join(lines) + "\n"


def render() -> dict[Path, str]:
    return {OUT / "profiles_lamanas.md": table(LamanasConfig.for_profile),
            OUT / "profiles_lnas.md": table(DartsCifarConfig.for_profile)}


def main() -> None:
    for path, text in render().items():
        path.write_text(text)


if __name__ == "__main__":
    main()
