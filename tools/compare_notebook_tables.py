"""Compare the result tables of two executed copies of a notebook (e.g. before and after a cache migration).

    python tools/compare_notebook_tables.py OLD.ipynb NEW.ipynb [--rename OLD_COLUMN NEW_COLUMN ...]

Every HTML table output is read as rows of cell texts (the numbers as displayed); a table of OLD is
matched with the first unmatched table of NEW that has the same header (after ``--rename``) and the same
number of rows, and the two must be equal cell by cell. Prints each OLD table as "identical" or
"DIFFERS"/"MISSING", then NEW's tables that match none; exits 1 if any OLD table differs or is missing.
"""

import argparse
import sys
from html.parser import HTMLParser

import nbformat

Table = list[list[str]]  # rows of cell texts; row 0 and any other header rows first


class _Tables(HTMLParser):
    """Collects every <table> as rows of stripped cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(path: str) -> list[Table]:
    """Every HTML table in the notebook's outputs, in order."""
    parser = _Tables()
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if html and "<table" in html:
                parser.feed(html)
    return parser.tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rename", nargs=2, action="append", default=[], metavar=("OLD", "NEW"))
    args = parser.parse_args()
    renames = dict(args.rename)
    old, new = tables(args.old), tables(args.new)
    unmatched = list(range(len(new)))
    failed = False
    for i, table in enumerate(old):
        table = [[renames.get(c, c) for c in row] for row in table]
        candidates = [j for j in unmatched if new[j][:1] == table[:1] and len(new[j]) == len(table)]
        same = [j for j in candidates if new[j] == table]
        if same:
            unmatched.remove(same[0])
            print(f"old table {i} ({len(table)} rows): identical to new table {same[0]}")
        else:
            failed = True
            print(f"old table {i} ({len(table)} rows) header {table[0][:6]}: "
                  f"{'DIFFERS from new table ' + str(candidates[0]) if candidates else 'MISSING in new'}")
    for j in unmatched:
        print(f"new table {j} ({len(new[j])} rows) header {new[j][0][:6]}: not in old")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
