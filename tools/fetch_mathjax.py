#!/usr/bin/env python3
"""Put a local copy of MathJax 3 into book/_static/mathjax so the book renders math offline.

Source: the npm registry, via ``npm pack mathjax@<VERSION>`` into ``.cache/mathjax/``.
The tarball is checked against the pinned sha512 integrity, then ``package/es5/*`` is
extracted into ``book/_static/mathjax/`` (gitignored: MathJax is third-party code and is
never committed). Idempotent: does nothing when the pinned version is already in place.

Usage:  python tools/fetch_mathjax.py [--force]
Exit status 0 on success; 1 with a message on stderr when npm or the registry is unavailable
or the download does not match the pinned checksum.
"""
from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.2.2"
# `npm view mathjax@3.2.2 dist.integrity`
INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "mathjax"
TARBALL = CACHE / f"mathjax-{VERSION}.tgz"
DEST = ROOT / "book" / "_static" / "mathjax"
STAMP = DEST / ".mathjax-version"
# Files the book needs; checked after extraction and for the "already present" test.
REQUIRED = ("tex-chtml.js", "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff")
# Of the top-level combined bundles only tex-chtml.js is used (Sphinx's mathjax_path); the others
# (tex-svg.js, tex-mml-chtml.js, *-full*.js, node-main.js, ...) are skipped. Every directory
# (input/ extensions, output/chtml fonts, output/svg for the menu's renderer switch, ui/, a11y/, sre/)
# is kept, because tex-chtml.js loads those components on demand.
TOP_LEVEL_JS = {"tex-chtml.js", "core.js", "loader.js", "startup.js"}


def fail(msg: str) -> "None":
    print(f"fetch_mathjax: error: {msg}", file=sys.stderr)
    sys.exit(1)


def present() -> bool:
    return (
        STAMP.is_file()
        and STAMP.read_text().strip() == VERSION
        and all((DEST / f).is_file() for f in REQUIRED)
    )


def integrity_ok(path: Path) -> bool:
    algo, _, expected = INTEGRITY.partition("-")
    digest = hashlib.new(algo, path.read_bytes()).digest()
    return base64.b64encode(digest).decode() == expected


def download() -> None:
    npm = shutil.which("npm")
    if npm is None:
        fail(
            "npm not found on PATH. Install Node.js/npm (e.g. `apt-get install npm`) or place "
            f"mathjax-{VERSION}.tgz (from https://registry.npmjs.org/mathjax/-/mathjax-{VERSION}.tgz) "
            f"in {CACHE}/ and re-run."
        )
    CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "pack", f"mathjax@{VERSION}", "--pack-destination", str(CACHE)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        fail("`npm pack` timed out after 300 s: is the npm registry reachable?")
    if proc.returncode != 0 or not TARBALL.is_file():
        fail(
            f"`npm {' '.join(cmd[1:])}` failed (exit {proc.returncode}); the npm registry "
            f"(`npm config get registry`) may be unreachable.\n{proc.stderr.strip()[-2000:]}"
        )


def extract() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mathjax-", dir=DEST.parent))
    try:
        with tarfile.open(TARBALL, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/es5/")]
            for m in members:
                if not (m.isfile() or m.isdir()) or ".." in Path(m.name).parts:
                    fail(f"unexpected member in tarball: {m.name}")
                m.name = m.name[len("package/es5/"):]
            members = [
                m for m in members
                if m.name and ("/" in m.name or m.isdir() or m.name in TOP_LEVEL_JS)
            ]
            # filter="data" (Python >= 3.11.4) refuses links/devices/absolute paths
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, members=members, **safe)
        (tmp / ".mathjax-version").write_text(VERSION + "\n")
        missing = [f for f in REQUIRED if not (tmp / f).is_file()]
        if missing:
            fail(f"tarball lacks {missing}")
        if DEST.exists():
            shutil.rmtree(DEST)
        tmp.rename(DEST)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def main(argv: list[str]) -> int:
    force = "--force" in argv
    if present() and not force:
        print(f"fetch_mathjax: MathJax {VERSION} already in {DEST.relative_to(ROOT)}")
        return 0
    if TARBALL.is_file() and not integrity_ok(TARBALL):
        TARBALL.unlink()  # stale or truncated download
    if not TARBALL.is_file():
        download()
    if not integrity_ok(TARBALL):
        fail(f"{TARBALL} does not match the pinned integrity {INTEGRITY}")
    DEST.parent.mkdir(parents=True, exist_ok=True)
    extract()
    print(f"fetch_mathjax: MathJax {VERSION} installed in {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
