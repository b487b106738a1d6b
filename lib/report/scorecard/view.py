"""How the scorecard is shown: a stacked bar of the counts, and the claim table coloured by status."""

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from lib.report.scorecard.scales import FLIPS
from lib.report.scorecard.verdict import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE, STATUSES

COLOURS = {HELD: "#2e7d32", NOT_HELD: "#c62828", INCONCLUSIVE: "#ef6c00", NOT_TESTABLE: "#9e9e9e"}


def plot_counts(counts: pd.DataFrame) -> Figure:
    """Claims per report (rows of ``build.counts`` except 'both'), stacked by status. Shown in: book/scorecard."""
    per_report = counts.drop(index="both")[list(STATUSES)]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.5 * len(per_report)))
    left = pd.Series(0, index=per_report.index)
    for status in STATUSES:
        ax.barh(per_report.index, per_report[status], left=left, color=COLOURS[status], label=status)
        left += per_report[status]
    ax.set(xlabel="claims (table cells and prose claims)")
    ax.legend(ncols=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def styled(table: pd.DataFrame) -> Styler:
    """The claim table with each status cell coloured (``status``, ``status at <profile>``, ``authors' code``, whose
    pending claims read "not testable: pending runs", grey like the rest of "not testable") and
    a verdict that flips with scale in bold (the index hidden). Shown in: book/scorecard."""
    colour = lambda value: f"color: {COLOURS[_status(value)]}; font-weight: bold" if _status(value) else ""
    status_columns = [c for c in table.columns if c in ("status", "authors' code") or str(c).startswith("status at ")]
    styler = table.style.map(colour, subset=status_columns)
    if "with scale" in table.columns:
        styler = styler.map(lambda value: "font-weight: bold" if value == FLIPS else "", subset=["with scale"])
    return styler.hide(axis="index")


def _status(value: object) -> str | None:
    """The status a cell shows, also where a note follows it ("not testable: pending runs"); None for other text."""
    text = str(value)
    return next((s for s in STATUSES if text == s or text.startswith(f"{s}:")), None)


def greyed(table: pd.DataFrame) -> Styler:
    """Published anchor rows, shown greyed under a results table. Shown in: book/lnas_table1, book/darts_cifar10,
    book/lamanas_table1."""
    return table.style.set_properties(**{"color": "#757575", "font-style": "italic"}).hide(axis="index")
