"""The checker on small fixture pages: it reports each kind of problem and passes a good page."""
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import BrowserContext

from tools.browser_check import check_page, serve

# A 4x3 image with intrinsic size (so naturalWidth/naturalHeight are nonzero once it loads).
IMAGE = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3"/></svg>'
LOCAL_MATHJAX = '<script defer src="_static/mathjax/tex-chtml.js"></script>'
TABLE = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
WIDE_TABLE = "<table><tr>" + "<td style='white-space: nowrap'>a long unbreakable cell</td>" * 8 + "</tr></table>"
DECLARED = ("<table data-decimals='[null, 1]'><thead><tr><th>a</th><th>b</th></tr></thead>"
            "<tbody><tr><td>x</td><td>{}</td></tr></tbody></table>")
# Figures in a notebook output: 400 px wide PNGs recording their smallest font (points) and dpi.
FIGURES = {"readable.png": (8, 110), "tiny-text.png": (6, 100), "no-metadata.png": None}

GOOD = f"""{LOCAL_MATHJAX}
<h1 id="top">A good page</h1>
<p>Inline <span class="math">\\(x^2\\)</span> and displayed:</p>
<div class="math">\\[\\sum_i x_i\\]</div>
<img src="image.svg" alt="a rectangle">
{TABLE}
<div style="width: 300px"><div style="overflow-x: auto">{WIDE_TABLE}</div></div>
{DECLARED.format("74.0")}
<div class="cell_output"><img src="readable.png" alt="a figure with 8 pt text at 110 dpi"></div>
<p><a href="#top">top</a> <a href="other.html">other</a> <a href="other.html#section">section</a>
<a href="./">index</a> <a href="https://example.org/">an external link is not followed</a></p>
"""

BAD = {
    "missing image": ('<img src="missing.png" alt="gone">', ["image did not load: missing.png", "HTTP 404 for"]),
    "script error": ("<script>throw new Error('boom')</script>", ["JavaScript error: boom"]),
    "raw math, no MathJax": (
        "<p>Energy: $$E = mc^2$$</p>",
        ["the page has math but MathJax did not run", "raw TeX left in the text: 'Energy: $$E = mc^2$$'"],
    ),
    "math from a CDN": (
        '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
        '<p><span class="math">\\(x\\)</span></p>',
        ["request left the site", "MathJax loaded from https://cdn.jsdelivr.net/", "math not typeset: '\\\\(x\\\\)'"],
    ),
    "broken links": (
        '<a href="missing.html">a</a> <a href="#nowhere">b</a> <a href="other.html#nowhere">c</a>',
        ["missing.html (no such file)", "index.html#nowhere (no element with id 'nowhere')",
         "other.html#nowhere (no element with id 'nowhere')"],
    ),
    "tables not rendered": (
        f'<div style="display: none">{TABLE}</div> <table></table> <div id="gone">{TABLE}</div>'
        "<script>document.getElementById('gone').remove()</script>",
        ["1 of the 3 tables of the HTML source are not in the DOM", "table 1 is not displayed (size 0x0)",
         "table 2 has no rows or cells"],
    ),
    "table wider than the column": (
        f'<div class="bd-article" style="width: 300px">{WIDE_TABLE}</div>',
        ["table 1 reaches", "past the content column's right edge at"],
    ),
    "figure wider than the column": (
        '<div class="bd-article" style="width: 300px"><img src="image.svg" style="width: 500px" alt="wide"></div>',
        ["figure 1 reaches"],
    ),
    "output text overflows": (
        '<div class="bd-article" style="width: 300px"><div class="cell_output">'
        '<pre style="white-space: pre; overflow-x: auto">' + "x" * 200 + "</pre></div></div>",
        ["output 1 has text wider than its box"],
    ),
    "more decimals than declared": (DECLARED.format("74.04"), ['table 1 column 2 prints "74.04" with 2 decimals (declared 1)']),
    "scientific notation": ("<table><tr><td>4.142e+04</td></tr></table>", ["in scientific notation"]),
    "long decimals, none declared": (
        "<table><tr><td>74.040000</td></tr></table>", ['prints "74.040000" with 6 decimals (more than 4, none declared)'],
    ),
    "figure text too small": (
        '<div class="cell_output"><img src="tiny-text.png" alt="6 pt at 100 dpi"></div>',
        ["figure 1 (tiny-text.png): its smallest text (6 pt at 100 dpi) renders at 8.3 px, below 9 px"],
    ),
    "figure text shrunk by the page": (
        '<div class="cell_output"><img src="readable.png" style="width: 200px" alt="8 pt at 110 dpi, halved"></div>',
        ["figure 1 (readable.png): its smallest text (8 pt at 110 dpi) renders at 6.1 px"],
    ),
    "figure without font metadata": (
        '<div class="cell_output"><img src="no-metadata.png" alt="plain"></div>',
        ["figure 1 (no-metadata.png) records no font size"],
    ),
}


def write_png(path: Path, text: tuple[float, float] | None) -> None:
    """A 400x100 PNG with ``min_font_pt`` and ``dpi`` text chunks (none when ``text`` is None)."""
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_text("min_font_pt", str(text[0]))
        info.add_text("dpi", str(text[1]))
    Image.new("RGB", (400, 100), "white").save(path, pnginfo=info)


def write_site(root: Path, mathjax: Path, body: str) -> None:
    """A tiny site: index.html with ``body``, other.html with id 'section', images and MathJax."""
    page = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>fixture</title></head><body>{}</body></html>'
    (root / "index.html").write_text(page.format(body))
    (root / "other.html").write_text(page.format('<h2 id="section">Section</h2>'))
    (root / "image.svg").write_text(IMAGE)
    for name, text in FIGURES.items():
        write_png(root / name, text)
    (root / "_static").mkdir()
    (root / "_static" / "mathjax").symlink_to(mathjax)


def test_good_page_passes_and_is_screenshot(browser: BrowserContext, mathjax: Path, tmp_path: Path) -> None:
    site_root, screenshot = tmp_path / "site", tmp_path / "shots" / "index.png"
    site_root.mkdir()
    write_site(site_root, mathjax, GOOD)
    with serve(site_root) as site:
        assert check_page(browser, site, "index.html", screenshot) == []
    assert screenshot.stat().st_size > 0


@pytest.mark.parametrize("name", BAD)
def test_problem_is_reported(name: str, browser: BrowserContext, mathjax: Path, tmp_path: Path) -> None:
    body, expected = BAD[name]
    write_site(tmp_path, mathjax, body)
    with serve(tmp_path) as site:
        problems = check_page(browser, site, "index.html")
    for text in expected:
        assert any(text in problem for problem in problems), f"{text!r} not reported; got {problems}"
