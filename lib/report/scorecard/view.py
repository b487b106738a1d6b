"""How the scorecard is shown: a stacked bar of the counts, and the claim table coloured by status."""

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from lib.report.scorecard.verdict import HELD, NOT_HELD, NOT_TESTABLE, STATUSES

COLOURS = {HELD: "#2e7d32", NOT_HELD: "#c62828", NOT_TESTABLE: "#9e9e9e"}


def plot_counts(counts: pd.DataFrame) -> Figure:
    """Claims per report (rows of ``build.counts`` except 'both'), stacked by status. Shown in: book/scorecard."""
    per_report = counts.drop(index="both")[list(STATUSES)]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.5 * len(per_report)))
    left = pd.Series(0, index=per_report.index)
    for status in STATUSES:
        ax.barh(per_report.index, per_report[status], left=left, color=COLOURS[status], label=status)
        left += per_report[status]
    ax.set(xlabel="claims (table cells and prose claims)")
    ax.legend(ncols=3, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def styled(table: pd.DataFrame) -> Styler:
    """The claim table with each status cell coloured (and the index hidden). Shown in: book/scorecard."""
    colour = lambda value: f"color: {COLOURS[value]}; font-weight: bold" if value in COLOURS else ""
    status_columns = [c for c in ("status", "authors' code") if c in table.columns]
    return table.style.map(colour, subset=status_columns).hide(axis="index")
