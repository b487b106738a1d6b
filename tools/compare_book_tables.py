"""Check that re-executed notebooks show the same numbers as an earlier executed copy (the migration proof).

    python tools/compare_book_tables.py OLD_DIR NEW_DIR NOTEBOOK [NOTEBOOK ...]

Every HTML table a notebook displayed in OLD_DIR/<notebook>.ipynb is matched with the table in
NEW_DIR/<notebook>.ipynb that has the same columns (after the renames of issue 13: metric names, variant
labels, nested setting names) and compared cell by cell on the columns and rows both have. Tables new in
NEW_DIR are listed, not compared. Exits 1 and prints every differing cell if any number changed.
"""

import json
import sys
from pathlib import Path

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
from migrate_records_lnas import FIELDS  # noqa: E402  (old setting name -> new dotted name)

RENAMES = {"val_acc_epoch10": "val_acc_mid", "val_acc_epoch20": "val_acc_final", "(V1)": "(Variant 1)",
           "(V2)": "(Variant 2)", "(Alg. 3)": "(Algorithm 3)", "report / paper profile": "paper", "cpu profile": "cpu"}
VALUES = {"variant": {"1": "Variant 1", "2": "Variant 2", "Alg. 3": "Algorithm 3"}, "setting": FIELDS}
Table = tuple[list[str], list[list[str]]]


def tables(path: Path) -> list[Table]:
    """(columns, rows) of every HTML table in the notebook's outputs, in order."""
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", []))
            for table in BeautifulSoup(html, "html.parser").find_all("table"):
                header = table.find("thead").find_all("tr")[0] if table.find("thead") else None
                columns = [th.get_text(strip=True) for th in header.find_all("th")] if header else []
                rows = [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find("tbody").find_all("tr")]
                found.append((columns, rows))
    return found


def renamed(column: str) -> str:
    for old, new in RENAMES.items():
        column = column.replace(old, new)
    return column


def value(column: str, text: str) -> str:
    return VALUES.get(column, {}).get(text, text)


def same(a: str, b: str) -> bool:
    try:
        return float(a) == float(b) or (a.lower() == "nan" and b.lower() == "nan")
    except ValueError:
        return a == b


def compare(old: Table, new: Table) -> list[str]:
    """Differing cells of the columns both tables have; rows matched by their first non-index cells."""
    old_cols, new_cols = [renamed(c) for c in old[0]], new[0]
    shared = [c for c in old_cols if c and c in new_cols]
    diffs = []
    if len(old[1]) != len(new[1]):
        diffs.append(f"row count {len(old[1])} -> {len(new[1])}")
    for i, (a, b) in enumerate(zip(old[1], new[1])):
        for col in shared:
            x, y = value(col, a[old_cols.index(col)]), b[new_cols.index(col)]
            if not same(x, y):
                diffs.append(f"row {i}, {col}: {x} -> {y}")
    return diffs


def main(old_dir: Path, new_dir: Path, notebooks: list[str]) -> int:
    failed = False
    for name in notebooks:
        old, new = tables(old_dir / f"{name}.ipynb"), tables(new_dir / f"{name}.ipynb")
        unused = list(range(len(new)))
        for columns, rows in old:
            target = {renamed(c) for c in columns if c}
            match = next((j for j in unused if target <= set(new[j][0])), None)
            if match is None:
                print(f"{name}: no table with columns {sorted(target)} any more")
                failed = True
                continue
            unused.remove(match)
            diffs = compare((columns, rows), new[match])
            extra = sorted(set(new[match][0]) - target - {""})
            print(f"{name}: table {columns[:3]}... {'identical' if not diffs else f'{len(diffs)} differences'}"
                  + (f"; new columns {extra}" if extra else ""))
            for d in diffs:
                print(f"    {d}")
            failed |= bool(diffs)
        for j in unused:
            print(f"{name}: new table with columns {new[j][0]}")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))
