"""Browser tests: headless Debian Chromium driven by Playwright (tools/browser_check.py).

Run with `make test-browser`, which installs Chromium (`make browser`) and builds the book first;
`make test-lib` leaves this folder out.
"""
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from tools.browser_check import chromium

ROOT = Path(__file__).resolve().parents[2]
MATHJAX = ROOT / "book" / "_static" / "mathjax"


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserContext]:
    """One headless Chromium (fresh profile) shared by every browser test."""
    with chromium() as context:
        yield context


@pytest.fixture(scope="session")
def mathjax() -> Path:
    """The local MathJax copy that the book (and the fixture pages) load."""
    if not (MATHJAX / "tex-chtml.js").is_file():
        pytest.fail(f"no MathJax in {MATHJAX}: run `make mathjax`")
    return MATHJAX
