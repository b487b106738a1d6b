"""Every chapter of the built book (_build/html), rendered by headless Chromium: no problems."""
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from tools.browser_check import WIDTHS, Site, check_page, on_disk, screenshot_name, serve, toc_pages

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PAGES = toc_pages(ROOT)


@pytest.fixture(scope="module")
def html() -> Path:
    """The built book's html folder."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built book in {HTML}: run `make book-html` (`make test-browser` does)")
    return HTML


@pytest.fixture(scope="module")
def book(html: Path) -> Iterator[Site]:
    """The built book served over HTTP; the screenshot folder emptied for this run."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    with serve(html) as site:
        yield site


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page: str, width: int, book: Site, browser: BrowserContext) -> None:
    problems = check_page(browser, book, page, SCREENSHOTS / screenshot_name(page, width), width)
    assert not problems, f"{page} at {width} px:\n  " + "\n  ".join(problems)


def test_pages_open_offline_from_files(html: Path, browser: BrowserContext) -> None:
    """The same pages opened from disk (file://), as a reader opens the offline archive."""
    site = on_disk(html)
    problems = [f"{page}: {problem}" for page in PAGES for problem in check_page(browser, site, page)]
    assert not problems, "\n".join(problems)
