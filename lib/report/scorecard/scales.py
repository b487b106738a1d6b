"""Verdicts at two scales: every claim judged at the book's profile and at the next smaller one, side by side.

A claim held at one profile and not held at the other *flips with scale*: the verdict depends on how large the
runs are, so neither verdict alone says what the reports' methods do. A claim settled (held or not) at one
profile and inconclusive at the other is *settled at one scale only*: more evidence at one scale, not a
reversal.
A claim pending (no cached run) or not testable at either profile is not compared, and the row says why.
Nothing is run: each side is a :func:`lib.report.scorecard.build.scorecard` of the cache.
"""

import pandas as pd

from lib.report.rules import INCONCLUSIVE
from lib.report.scorecard.verdict import NOT_TESTABLE, STATUSES, is_pending

SMALLER = {"paper": "cpu", "cpu": "small"}
"""The profile each profile's verdicts are set beside (``small`` and ``smoke`` have no smaller scale to compare)."""
FLIPS, ONE_SCALE, SAME, NOT_COMPARED = "flips with scale", "settled at one scale only", "same at both", "not compared"
KEYS = ["report", "id"]


def smaller(profile: str) -> str | None:
    """The profile judged beside ``profile`` (:data:`SMALLER`), or None when there is no second scale."""
    return SMALLER.get(profile)


def _state(status: str, basis: str) -> str:
    return "pending" if is_pending(status, basis) else status


def _with_scale(large: str, small: str, large_name: str, small_name: str,
                widened: tuple[bool, bool] = (False, False)) -> str:
    """``FLIPS``, ``ONE_SCALE``, ``SAME`` or "not compared: ..." for the states (status, or "pending") at the two
    profiles; ``widened``: whether each side's interval was widened for devices (rule 'Devices'), which a
    ``ONE_SCALE`` row names when it is what left that side inconclusive."""
    untestable = [f"{state} at {name}" for state, name in ((large, large_name), (small, small_name))
                  if state in ("pending", NOT_TESTABLE)]
    if untestable:
        return f"{NOT_COMPARED}: " + ", ".join(untestable)
    if large == small:
        return SAME
    if INCONCLUSIVE not in (large, small):
        return FLIPS
    side = large_name if large == INCONCLUSIVE else small_name
    by_devices = widened[0] if large == INCONCLUSIVE else widened[1]
    return f"{ONE_SCALE} (widened for devices at {side})" if by_devices else ONE_SCALE


def _judged(ours: str, margin: float) -> str:
    """Our value as measured, and the margin (pp) its interval was widened by for the verdict (rule 'Devices'), so
    a status beside an interval that excludes the boundary is read right."""
    return f"{ours} (judged on the interval widened by ±{margin:.2f} pp for devices)" if margin > 0 else ours


def status_columns(profile: str) -> tuple[str, str]:
    """The names of the status and our-value columns of ``profile`` in :func:`side_by_side`."""
    return f"status at {profile}", f"ours at {profile}"


def side_by_side(large: pd.DataFrame, small: pd.DataFrame) -> pd.DataFrame:
    """Two scorecard tables (``build.COLUMNS``, one ``profile`` each) joined by claim (report and id).

    Columns: report, id, where, claim, status and ours at each profile (larger first; a claim missing on one
    side is pending there; ours as measured, with the margin its verdict's interval was widened by for devices) and ``with scale``: ``FLIPS`` (held at one, not held at the other), ``ONE_SCALE``
    (inconclusive at one of them), ``SAME``, else "not compared: <state> at <profile>". Shown in: book/scorecard.
    """
    names = [str(t["profile"].iloc[0]) for t in (large, small)]
    if names[0] == names[1]:
        raise ValueError(f"side_by_side needs two profiles, got {names[0]!r} twice")
    sides = [t.set_index(KEYS) for t in (large, small)]
    index = sides[0].index.append(sides[1].index[~sides[1].index.isin(sides[0].index)])
    out = pd.DataFrame(index=index)
    for column in ("where", "claim"):
        out[column] = sides[0][column].reindex(index).fillna(sides[1][column].reindex(index))
    states, widened = [], []
    for side, name in zip(sides, names):
        side, (status, ours) = side.reindex(index), status_columns(name)
        present = side["status"].notna()
        margins = side["widened (pp)"].where(present, 0.0).fillna(0.0)
        out[status] = side["status"].where(present, NOT_TESTABLE)
        out[ours] = [_judged(o, m) if p else "pending" for o, m, p in zip(side["ours"], margins, present)]
        states.append([_state(s, b) if p else "pending" for s, b, p in zip(side["status"], side["basis"], present)])
        widened.append([m > 0 for m in margins])
    out["with scale"] = [_with_scale(a, b, *names, (wa, wb)) for a, b, wa, wb in zip(*states, *widened)]
    return out.reset_index()


def judged(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`side_by_side` with a verdict (held, did not hold, inconclusive) at one profile at least."""
    verdicts = [s for s in STATUSES if s != NOT_TESTABLE]
    chosen = table[[c for c in table.columns if str(c).startswith("status at ")]].isin(verdicts).any(axis=1)
    return table[chosen].reset_index(drop=True)


def flips(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`side_by_side` whose verdict flips with scale."""
    return table[table["with scale"] == FLIPS]


def transitions(table: pd.DataFrame, large: str, small: str) -> pd.DataFrame:
    """Claims counted by (status at ``small``, rows) and status at ``large`` (columns), the four statuses in order.

    Shown in: book/scorecard.
    """
    order = list(STATUSES)
    counts = pd.crosstab(table[status_columns(small)[0]], table[status_columns(large)[0]])
    counts = counts.reindex(index=order, columns=order, fill_value=0)
    return counts.rename_axis(index=f"at {small} \\ at {large}", columns=None).reset_index()


def summary(table: pd.DataFrame | None, profile: str) -> str:
    """One line for the scorecard's summary: how many claims flip with scale (markdown)."""
    other = smaller(profile)
    if table is None or other is None:
        return (f"**Two scales:** at the {profile} profile there is no second scale to compare with; the cpu page sets "
                f"each verdict beside the small profile's.")
    compared = int((~table["with scale"].str.startswith(NOT_COMPARED)).sum())
    rest = f"{len(table) - compared} of the {len(table)} are pending or not testable at one of them"
    if not compared:
        return f"**Two scales ({profile} beside {other}):** no claim is judged at both profiles yet; {rest}."
    n, settled = len(flips(table)), int(table["with scale"].str.startswith(ONE_SCALE).sum())
    return (f"**Two scales ({profile} beside {other}):** {n} of the {compared} claims judged at both profiles "
            f"flip{'s' if n == 1 else ''} with scale (held at one, not held at the other) and {settled} "
            f"{'is' if settled == 1 else 'are'} settled at one scale only (inconclusive at the other); {rest} "
            "(section 'Verdicts at two scales').")
