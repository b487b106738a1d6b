"""tools/archive_site.py: the offline archive of the built book (on a tiny fake site)."""
import zipfile
from pathlib import Path

import pytest

from tools.archive_site import archive, main


def fake_site(html: Path) -> None:
    """A minimal built book: the entry page, one chapter and the local MathJax script."""
    for name in ("index.html", "book/intro.html", "_static/mathjax/tex-chtml.js"):
        (html / name).parent.mkdir(parents=True, exist_ok=True)
        (html / name).write_text(name)


def test_archive_holds_the_site_under_one_folder(tmp_path: Path) -> None:
    """What `make book-html ARCHIVE=1` runs: the command line, into a folder that does not exist yet."""
    fake_site(tmp_path / "html")
    out = tmp_path / "out" / "companion-site.zip"
    assert main(["--html", str(tmp_path / "html"), "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as bundle:
        assert sorted(bundle.namelist()) == [
            "companion-site/_static/mathjax/tex-chtml.js",
            "companion-site/book/intro.html",
            "companion-site/index.html",
        ]
        assert bundle.read("companion-site/book/intro.html") == b"book/intro.html"


@pytest.mark.parametrize("missing", ["index.html", "_static/mathjax/tex-chtml.js"])
def test_archive_refuses_an_incomplete_site(missing: str, tmp_path: Path) -> None:
    fake_site(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(FileNotFoundError, match="make"):
        archive(tmp_path, tmp_path / "companion-site.zip")
