#!/usr/bin/env python3
"""Bundle the built book into one zip that a reader opens offline.

The archive holds the html folder as ``companion-site/``: unzip it and open
``companion-site/index.html``. Jupyter Book's links, images and the local MathJax
(``_static/mathjax``) are all relative, so the pages work from file:// with no network.

Usage:  python tools/archive_site.py [--html _build/html] [--out _build/companion-site.zip]
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "companion-site"
# What a site must hold to be worth archiving: the entry page and the MathJax the pages load.
REQUIRED = {
    "index.html": "run `make book-html` first",
    "_static/mathjax/tex-chtml.js": "run `make mathjax`, then `make book-html`",
}


def archive(html: Path, out: Path) -> Path:
    """Write every file under ``html`` into the zip ``out`` as ``companion-site/<path>``; return ``out``."""
    for name, remedy in REQUIRED.items():
        if not (html / name).is_file():
            raise FileNotFoundError(f"{html / name} is missing: {remedy}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(p for p in html.rglob("*") if p.is_file()):
            bundle.write(path, f"{FOLDER}/{path.relative_to(html).as_posix()}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built site")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "companion-site.zip", help="the zip to write")
    args = parser.parse_args(argv)
    try:
        out = archive(args.html, args.out)
    except FileNotFoundError as error:
        print(f"archive_site: error: {error}", file=sys.stderr)
        return 1
    print(f"archive_site: wrote {out} ({out.stat().st_size / 2**20:.1f} MiB); unzip it and open {FOLDER}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
