"""Check the built book the way a reader sees it: each page rendered by headless Chromium.

The site is served on 127.0.0.1 by Python's http.server (in a thread) and every page is loaded by
Debian's Chromium (/usr/bin/chromium, installed by ``make browser``), driven with Playwright. From
the rendered DOM, ``check_page`` reports:

- math not typeset by the local MathJax: a ``.math`` element without an ``mjx-container``, raw TeX
  delimiters (``$$``, ``\\(``, ``\\[``) left in the text, a MathJax error, or a MathJax script that
  is not the site's own ``_static/mathjax`` copy;
- an ``<img>`` that did not load (zero naturalWidth/naturalHeight);
- a table of the HTML source that is missing from the DOM, has no rows/cells, or has zero size;
- a same-site link whose file does not exist or whose ``#fragment`` names no element id;
- a same-site request that failed, any request that left the site (aborted: the book must work
  offline), and an uncaught JavaScript error.

Used by tests/browser (``make test-browser``): ``serve`` a folder (or open it ``on_disk``), start
``chromium()``, and call ``check_page`` for each of ``toc_pages()``.
"""
from __future__ import annotations

import functools
import http.server
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import yaml
from playwright.sync_api import BrowserContext, Page, Response, Route, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# Playwright adds --headless itself (headless=True); a fresh --user-data-dir comes from
# launch_persistent_context on a temporary folder.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT_MS = 20_000

# Waits for MathJax's first typesetting pass (if the page loads MathJax) and for the web fonts.
SETTLE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
}"""

MATH_JS = r"""() => {
  const skip = 'script, style, pre, code, textarea, noscript, mjx-container';
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    const at = text.search(/\$\$|\\\(|\\\[/);
    if (at >= 0 && !node.parentElement.closest(skip)) {
      raw.push(text.slice(Math.max(0, at - 20), at + 40).trim());
    }
  }
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    mathjax: (window.MathJax && window.MathJax.version) || null,
    scripts: Array.from(document.scripts).map(s => s.src).filter(src => /mathjax/i.test(src)),
    untypeset: math.filter(el => !el.querySelector('mjx-container'))
                   .map(el => el.textContent.trim().slice(0, 60)),
    errors: Array.from(document.querySelectorAll('mjx-merror'))
                 .map(el => el.getAttribute('data-mjx-error') || el.textContent),
    raw: raw,
  };
}"""

IMAGES_JS = """async () => {
  const images = Array.from(document.images);
  await Promise.all(images.map(img => { img.loading = 'eager'; return img.decode().catch(() => null); }));
  return images.filter(img => !(img.complete && img.naturalWidth > 0 && img.naturalHeight > 0))
               .map(img => img.getAttribute('src'));
}"""

TABLES_JS = """() => Array.from(document.querySelectorAll('table')).map(table => {
  const box = table.getBoundingClientRect();
  return {rows: table.rows.length, cells: table.querySelectorAll('td, th').length,
          width: box.width, height: box.height};
})"""

LINKS_JS = """() => ({
  hrefs: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  ids: Array.from(document.querySelectorAll('[id], a[name]')).map(el => el.id || el.getAttribute('name')),
})"""


@dataclass(frozen=True)
class Site:
    """A folder of HTML pages reachable at ``url`` (which ends with '/'): http:// or file://."""

    root: Path
    url: str

    def url_of(self, page: str) -> str:
        """The URL of ``page``, a path relative to the served folder."""
        return self.url + page

    def file_of(self, url: str) -> Path | None:
        """The file a same-site URL resolves to (folder URLs to their index.html), or None."""
        if not url.startswith(self.url):
            return None
        # The browser has already resolved any '..'; a query string is not part of the file name.
        path = self.root / unquote(urlsplit(url[len(self.url):]).path)
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None


def on_disk(root: Path) -> Site:
    """``root`` opened straight from disk (file:// URLs), as a reader opens the offline archive."""
    return Site(root, root.resolve().as_uri() + "/")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        """Keep the test output clean: no line per request."""


@contextmanager
def serve(root: Path) -> Iterator[Site]:
    """Serve ``root`` on 127.0.0.1 at a free port from a background thread while the block runs."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Site(root, f"http://127.0.0.1:{server.server_port}/")
        finally:
            server.shutdown()
            thread.join()


@contextmanager
def chromium(executable: Path = CHROMIUM) -> Iterator[BrowserContext]:
    """A headless Chromium with a fresh profile in a temporary folder, closed after the block."""
    if not executable.is_file():
        raise FileNotFoundError(
            f"Chromium not found at {executable}: run `make browser` "
            "(installs Debian's chromium with apt-get; no Playwright browser download is used)."
        )
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


def toc_pages(book_root: Path = ROOT) -> list[str]:
    """The HTML pages built from every file of ``book_root/_toc.yml``, relative to the html folder."""
    def toc_files(entry: object) -> Iterator[str]:
        if isinstance(entry, dict):
            for key, value in entry.items():
                if key in ("root", "file"):
                    yield str(value)
                else:
                    yield from toc_files(value)
        elif isinstance(entry, list):
            for item in entry:
                yield from toc_files(item)

    toc = yaml.safe_load((book_root / "_toc.yml").read_text())
    return [f"{Path(name).with_suffix('')}.html" for name in toc_files(toc)]


class _HtmlInventory(HTMLParser):
    """Counts the <table> elements of an HTML text and collects its element ids and anchor names."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables = 0
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tables += tag == "table"
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


def check_page(context: BrowserContext, site: Site, page_path: str, screenshot: Path | None = None) -> list[str]:
    """Load ``page_path`` of ``site`` in ``context`` and return its problems (empty if none).

    A full-page screenshot is written to ``screenshot`` when given (its folder is created).
    """
    page = context.new_page()
    try:
        return _check(page, site, site.url_of(page_path), screenshot)
    finally:
        page.close()


def _check(page: Page, site: Site, url: str, screenshot: Path | None) -> list[str]:
    problems: list[str] = []

    def failed(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {response.url}")

    def offsite(route: Route) -> None:
        problems.append(f"request left the site (blocked; the book must work offline): {route.request.url}")
        route.abort()

    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("response", failed)
    page.route(lambda request_url: not request_url.startswith(site.url), offsite)
    response = page.goto(url, wait_until="load")
    if response is None or not response.ok:
        return problems or [f"could not load {url}"]
    page.evaluate(SETTLE_JS)
    problems += _math_problems(page.evaluate(MATH_JS), site)
    problems += [f"image did not load: {src}" for src in page.evaluate(IMAGES_JS)]
    problems += _table_problems(_HtmlInventory(response.text()).tables, page.evaluate(TABLES_JS))
    problems += _link_problems(page.evaluate(LINKS_JS), site, url)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=screenshot, full_page=True)
    return problems


def _math_problems(math: dict, site: Site) -> list[str]:
    problems = [
        f"MathJax loaded from {src}, not the site's own _static/mathjax/ copy"
        for src in math["scripts"]
        if not src.startswith(site.url) or "/_static/mathjax/" not in src
    ]
    if (math["untypeset"] or math["raw"]) and not math["mathjax"]:
        problems.append("the page has math but MathJax did not run (is _static/mathjax there? `make mathjax`)")
    problems += [f"math not typeset: {text!r}" for text in math["untypeset"]]
    problems += [f"raw TeX left in the text: {text!r}" for text in math["raw"]]
    problems += [f"MathJax error: {error!r}" for error in math["errors"]]
    return problems


def _table_problems(source_tables: int, tables: list[dict]) -> list[str]:
    problems = []
    if len(tables) < source_tables:
        missing = source_tables - len(tables)
        problems.append(f"{missing} of the {source_tables} tables of the HTML source are not in the DOM")
    for number, table in enumerate(tables, start=1):
        if not (table["rows"] and table["cells"]):
            problems.append(f"table {number} has no rows or cells")
        elif not (table["width"] > 0 and table["height"] > 0):
            problems.append(f"table {number} is not displayed (size {table['width']:.0f}x{table['height']:.0f})")
    return problems


def _link_problems(links: dict, site: Site, page_url: str) -> list[str]:
    problems = []
    ids_of: dict[Path, set[str]] = {}
    for href in sorted(set(links["hrefs"])):
        if not href.startswith(site.url):
            continue
        target_url, fragment = urldefrag(href)
        target = site.file_of(target_url)
        if target is None:
            problems.append(f"broken link: {href} (no such file)")
            continue
        if not fragment:
            continue
        if target_url == urldefrag(page_url).url:
            ids = set(links["ids"])
        else:
            ids = ids_of.setdefault(target, _HtmlInventory(target.read_text(errors="replace")).ids)
        if unquote(fragment) not in ids:
            problems.append(f"broken link: {href} (no element with id {unquote(fragment)!r})")
    return problems


def screenshot_name(page_path: str) -> str:
    """A flat PNG file name for a page path: 'book/intro.html' -> 'book__intro.png'."""
    return re.sub(r"[^\w.-]", "__", str(Path(page_path).with_suffix(""))) + ".png"
