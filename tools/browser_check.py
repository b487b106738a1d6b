"""Check the built book the way a reader sees it: each page rendered by headless Chromium.

The site is served on 127.0.0.1 by Python's http.server (in a thread) and every page is loaded by
Debian's Chromium (/usr/bin/chromium, installed by ``make browser``), driven with Playwright. From
the rendered DOM, ``check_page`` reports:

- math not typeset by the local MathJax: a ``.math`` element without an ``mjx-container``, raw TeX
  delimiters (``$$``, ``\\(``, ``\\[``) left in the text, a MathJax error, or a MathJax script that
  is not the site's own ``_static/mathjax`` copy;
- an ``<img>`` that did not load (zero naturalWidth/naturalHeight);
- a table of the HTML source that is missing from the DOM, has no rows/cells, or has zero size;
- a table, figure or notebook output wider than the content column (``.bd-article``; the body on a page
  without one), unless it sits in its own horizontal scroll box; a code cell or output text that overflows its box;
- a table cell printing a number with more decimals than its column declares (``data-decimals``, written
  by lib/report/display.py), a number in scientific notation, or one with more than ``MAX_DECIMALS``
  decimals in a table that declares none;
- a notebook figure (a PNG in a cell output) whose smallest text renders below ``MIN_TEXT_PX`` as
  displayed: the font size and dpi come from the PNG's text chunks (``min_font_pt``, ``dpi``, written by
  lib/plots/style.py), scaled by the displayed width over the natural width; a figure without them is
  reported too;
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
from PIL import Image
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
WIDTHS = (1400, 800)  # viewport widths (CSS px) the pages are checked at: a laptop, and a narrow window
VIEWPORT_HEIGHT = 900
MIN_TEXT_PX = 9.0
MAX_DECIMALS = 4

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

LAYOUT_JS = r"""() => {
  const column = document.querySelector('.bd-article') || document.body;
  const right = column.getBoundingClientRect().right + 1;
  const scrollBox = el => {
    for (let up = el.parentElement; up && up !== column; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return up;
    }
    return null;
  };
  const wide = (el, what, index) => {
    const box = el.getBoundingClientRect();
    if (!(box.width > 0 && box.height > 0)) return null;
    const holder = scrollBox(el);
    const edge = holder ? holder.getBoundingClientRect().right : box.right;
    return edge > right ? `${what} ${index} reaches ${Math.round(edge)} px, past the content column's right edge at ${Math.round(right - 1)} px` : null;
  };
  const problems = [];
  Array.from(document.querySelectorAll('table')).forEach((t, i) => problems.push(wide(t, 'table', i + 1)));
  Array.from(column.querySelectorAll('img, svg')).filter(el => !el.closest('svg svg, mjx-container'))
       .forEach((f, i) => problems.push(wide(f, 'figure', i + 1)));
  Array.from(document.querySelectorAll('.cell_input pre, .cell_output pre, .cell_output .output')).forEach((o, i) => {
    problems.push(wide(o, 'output', i + 1));
    if (o.tagName === 'PRE' && o.scrollWidth > o.clientWidth + 1)
      problems.push(`output ${i + 1} has text wider than its box (${o.scrollWidth} > ${o.clientWidth} px): ${o.textContent.trim().slice(0, 40)}`);
  });
  return problems.filter(p => p);
}"""

NUMBERS_JS = r"""([maxDecimals]) => {
  const problems = [];
  Array.from(document.querySelectorAll('table')).forEach((table, t) => {
    const declared = table.dataset.decimals ? JSON.parse(table.dataset.decimals) : null;
    Array.from(table.querySelectorAll('tbody tr')).forEach(row => {
      Array.from(row.querySelectorAll('td')).forEach((cell, c) => {
        const text = cell.textContent.trim();
        if (/\b\d(?:\.\d+)?e[+-]\d{2,}\b/i.test(text))
          problems.push(`table ${t + 1} column ${c + 1} prints ${JSON.stringify(text)} in scientific notation`);
        const places = declared ? declared[c] : maxDecimals;
        if (places === null || places === undefined) return;
        for (const match of text.matchAll(/\d\.(\d+)/g)) {
          if (match[1].length > places) {
            problems.push(`table ${t + 1} column ${c + 1} prints ${JSON.stringify(text)} with ${match[1].length} decimals` +
                          (declared ? ` (declared ${places})` : ` (more than ${maxDecimals}, none declared)`));
            break;
          }
        }
      });
    });
  });
  return problems;
}"""

FIGURES_JS = """() => Array.from(document.querySelectorAll('.cell_output img')).map(img => {
  const box = img.getBoundingClientRect();
  return {src: img.currentSrc, natural: img.naturalWidth, shown: box.width};
}).filter(f => f.shown > 0)"""

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


def check_page(context: BrowserContext, site: Site, page_path: str, screenshot: Path | None = None,
               width: int = WIDTHS[0]) -> list[str]:
    """Load ``page_path`` of ``site`` in ``context`` at a viewport ``width`` px wide; return its problems.

    A full-page screenshot is written to ``screenshot`` when given (its folder is created).
    """
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
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
    problems += page.evaluate(LAYOUT_JS)
    problems += page.evaluate(NUMBERS_JS, [MAX_DECIMALS])
    problems += _figure_problems(page.evaluate(FIGURES_JS), site)
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


def figure_text(path: Path) -> tuple[float, float] | None:
    """The smallest font size (points) and the dpi recorded in a PNG's text chunks, or None."""
    try:
        with Image.open(path) as image:
            info = image.info
            return float(info["min_font_pt"]), float(info["dpi"] if isinstance(info["dpi"], str) else info["dpi"][0])
    except (OSError, KeyError, ValueError):
        return None


def _figure_problems(figures: list[dict], site: Site) -> list[str]:
    problems = []
    for number, figure in enumerate(figures, start=1):
        name = Path(urlsplit(figure["src"]).path).name
        path = site.file_of(figure["src"])
        recorded = figure_text(path) if path is not None and figure["natural"] else None
        if recorded is None:
            problems.append(f"figure {number} ({name}) records no font size (min_font_pt, dpi): see lib/plots/style.py")
            continue
        points, dpi = recorded
        shown = points * dpi / 72 * figure["shown"] / figure["natural"]
        if shown < MIN_TEXT_PX:
            problems.append(f"figure {number} ({name}): its smallest text ({points:g} pt at {dpi:g} dpi) renders at "
                            f"{shown:.1f} px, below {MIN_TEXT_PX:g} px (shown {figure['shown']:.0f} of "
                            f"{figure['natural']} px wide)")
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


def screenshot_name(page_path: str, width: int | None = None) -> str:
    """A flat PNG file name for a page path: 'book/intro.html' -> 'book__intro.png' ('book__intro-800px.png')."""
    return re.sub(r"[^\w.-]", "__", str(Path(page_path).with_suffix(""))) + (f"-{width}px" if width else "") + ".png"
