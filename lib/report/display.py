"""How the book shows a table: fixed decimals per column, no index column, wrapping headers, a scroll box.

A function that builds a table may declare its decimals, ``table.attrs["decimals"] = {"val_acc_final": 2}``.
An undeclared float column keeps the rounding its caller gave it (``table.round(2)``: 2 decimals), and an
unrounded one gets 1 decimal (3 when every value is below 1 in magnitude, so small quantities do not print
as 0.0). Integers print as integers with thousands separators (``41,420``), never in scientific notation.

The HTML carries the decimals of each column (``data-decimals``, a JSON list by column position, null for a
column that is not numeric), which the browser test (tools/browser_check.py) checks the rendered cells against.
"""

import hashlib
import html
import json
import math
from numbers import Integral, Real
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

MAX_INFERRED = 4  # a column whose values need more decimals than this is treated as unrounded
MISSING = "–"
SHORT_TEXT = 12  # a text column of labels no longer than this ("Variant 1", "inconclusive") does not wrap
BREAKS = ("[", ";", " / ")  # an interval ("60.0 [50.6, 69.3] (n=3)"), a list ("n=1; 2 pending") or alternatives
# ("Abstract / Sec. 6") may wrap however short


def _labels(column: pd.Series) -> bool:
    """Whether a text column holds short labels (kept on one line): none longer than ``SHORT_TEXT``, none an
    interval or a list."""
    text = column.astype(str)
    return bool(text.str.len().max() <= SHORT_TEXT) and not any(text.str.contains(b, regex=False).any() for b in BREAKS)


def _is_float(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (Integral, bool))


def _exact_decimals(value: float) -> int | None:
    """The fewest decimals (<= MAX_INFERRED) that print ``value`` exactly, or None (unrounded)."""
    for d in range(MAX_INFERRED + 1):
        if math.isclose(round(value, d), value, rel_tol=0, abs_tol=1e-9 * max(1.0, abs(value))):
            return d
    return None


def column_decimals(values: pd.Series) -> int | None:
    """The decimals of an undeclared column: its rounding if it was rounded, else 1 (3 below magnitude 1).

    None for a column without float values (text, booleans, integers).
    """
    floats = [float(v) for v in values if _is_float(v) and math.isfinite(v)]
    if not floats:
        return None
    exact = [_exact_decimals(v) for v in floats]
    if all(d is not None for d in exact):
        return max(1, *exact)
    return 3 if max(abs(v) for v in floats) < 1 else 1


def decimals(table: pd.DataFrame) -> list[int | None]:
    """The decimals of each column by position: declared in ``table.attrs["decimals"]``, else inferred."""
    declared = table.attrs.get("decimals", {})
    return [declared[c] if c in declared else column_decimals(table.iloc[:, i]) for i, c in enumerate(table.columns)]


def format_value(value: Any, places: int | None) -> str:
    """One cell: floats with ``places`` decimals and thousands separators, ints with separators, the rest as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if _is_float(value):
        if not math.isfinite(value):
            return str(value)
        return f"{float(value):,.{1 if places is None else places}f}"
    return str(value)


def _header(name: Any) -> str:
    """A column name that may wrap after '_' and '/' (long snake_case names otherwise widen the table)."""
    return html.escape(str(name)).replace("_", "_<wbr>").replace("/", "/<wbr>")


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """A meaningful index (named, or not 0..n-1) becomes a column; a default one is dropped."""
    index = table.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    if default:
        return table
    kept = table.reset_index()
    kept.attrs = dict(table.attrs)
    return kept


def styled(table: pd.DataFrame | Styler) -> Styler:
    """The book's Styler for ``table`` (a DataFrame, or a Styler whose cell styles are kept)."""
    styler = table if isinstance(table, Styler) else None
    data = visible(styler.data if styler is not None else table)
    if styler is None or data is not styler.data:
        base = styler
        styler = data.style
        if base is not None:
            styler.use(base.export())
    places = decimals(data)
    formatters = {c: (lambda v, p=p: format_value(v, p)) for c, p in zip(data.columns, places)}
    styler = styler.format(formatters, escape="html")
    numeric = [c for c, p in zip(data.columns, places) if p is not None or pd.api.types.is_integer_dtype(data[c])]
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    short = [c for c in data.columns if c not in numeric and _labels(data[c])]
    if short:  # labels such as "Variant 1" stay on one line; longer prose wraps
        styler = styler.set_properties(subset=short, **{"white-space": "nowrap"})
    styler = styler.format_index(_header, axis=1, escape=None).hide(axis="index")
    styler = styler.set_uuid(hashlib.sha1(data.to_csv().encode()).hexdigest()[:10])  # stable across runs
    return styler.set_table_attributes(f"class=\"companion-table\" data-decimals='{json.dumps(places)}'")


def to_html(table: pd.DataFrame | Styler) -> str:
    """The table as HTML inside its own horizontal scroll box (a wide table scrolls, the page does not)."""
    return f'<div class="table-scroll">{styled(table).to_html()}</div>'
