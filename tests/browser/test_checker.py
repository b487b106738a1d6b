"""The checker on small fixture pages: it reports each kind of problem and passes a good page."""
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from tools.browser_check import check_page, serve

# A 4x3 image with intrinsic size (so naturalWidth/naturalHeight are nonzero once it loads).
IMAGE = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3"/></svg>'
LOCAL_MATHJAX = '<script defer src="_static/mathjax/tex-chtml.js"></script>'
TABLE = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"

GOOD = f"""{LOCAL_MATHJAX}
<h1 id="top">A good page</h1>
<p>Inline <span class="math">\\(x^2\\)</span> and displayed:</p>
<div class="math">\\[\\sum_i x_i\\]</div>
<img src="image.svg" alt="a rectangle">
{TABLE}
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
}


def write_site(root: Path, mathjax: Path, body: str) -> None:
    """A tiny site: index.html with ``body``, other.html with id 'section', an image and MathJax."""
    page = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>fixture</title></head><body>{}</body></html>'
    (root / "index.html").write_text(page.format(body))
    (root / "other.html").write_text(page.format('<h2 id="section">Section</h2>'))
    (root / "image.svg").write_text(IMAGE)
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
