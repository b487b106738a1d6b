"""How tables are shown (lib/report/display.py): decimals per column, separators, no index, the HTML's metadata."""
import json
import re

import pandas as pd

from lib.report import display


def test_decimals_follow_the_declaration_then_the_callers_rounding_then_the_default():
    table = pd.DataFrame({"name": ["a", "b"], "rounded": [74.04, 73.1], "raw": [74.0400001, 73.123456],
                          "small": [0.001234, 0.5], "count": [3, 41420], "declared": [1.23456, 2.0]})
    table.attrs["decimals"] = {"declared": 2}
    assert display.decimals(table) == [None, 2, 1, 3, None, 2]


def test_values_print_with_fixed_decimals_and_thousands_separators_never_in_scientific_notation():
    assert display.format_value(4.142e4, 1) == "41,420.0"
    assert display.format_value(41420, None) == "41,420"
    assert display.format_value(74.040000, 2) == "74.04"
    assert display.format_value(float("nan"), 2) == display.MISSING
    assert display.format_value(True, None) == "True" and display.format_value("x_y", None) == "x_y"


def test_html_has_no_index_declares_its_decimals_and_prints_no_more():
    table = pd.DataFrame({"val_acc_final": [74.0400001, 73.15], "seed": [0, 1]}, index=[5, 9])
    table.index.name = "epoch"
    html = display.to_html(table)
    assert html.startswith('<div class="table-scroll">')
    declared = json.loads(re.search(r"data-decimals='([^']*)'", html).group(1))
    assert declared == [None, 1, None]  # the named index became the first column (integers)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells == ["5", "74.0", "0", "9", "73.2", "1"] and "row_heading" not in html
    assert "val_<wbr>acc_<wbr>final" in html  # the header may wrap


def test_a_styler_keeps_its_cell_styles():
    styler = pd.DataFrame({"status": ["held"], "x": [1.25]}).style.map(lambda v: "color: red", subset=["status"])
    html = display.to_html(styler)
    assert "color: red" in html and ">1.25<" in html


def test_short_labels_stay_on_one_line_but_intervals_and_lists_may_wrap():
    table = pd.DataFrame({"variant": ["Variant 1"], "diff": ["-1.30 [-3.93, 1.33] (n=3)"],
                          "runs": ["n=1; 2 pending"], "prose": ["a sentence much longer than any label would be"],
                          "where": ["Abstract / Sec. 6"], "longer label": ["Random architecture"]})
    css = display.styled(table).to_html()
    nowrap = {int(m) for m in re.findall(r"#T_\w+_row\d+_col(\d+) \{[^}]*white-space: nowrap", css)}
    assert nowrap == {0}
