"""The caveat a comparison carries when its runs were made on different devices (``provenance.made_on``).

Seed s gives every row the same initial weights, data order and tasks, so rows are compared per seed; but a
run on a lent GPU computes with other kernels than one on this machine's CPU (and a GPU's kernels are not
deterministic), so two runs of one seed on different devices share their seed, not their arithmetic. Each
report's Table 1 chapter measures how much that moves a run ("How much the device moves a run": LNAS from
Variant 1 before its pruning, LAMANAS from repeats of GPU-made runs on the CPU).
"""

from collections.abc import Iterable, Sequence

import pandas as pd

from lib.report.stats import Interval


SPANS_DEVICES = ("such a pair shares its seed, not its arithmetic (each report's Table 1 chapter, 'How much the device "
                 "moves a run', says whether and between which devices that is measured; where it is, the interval "
                 "is widened by it, rule 'Devices')")


def per_row(runs: pd.DataFrame, keys: Sequence[str], shown: pd.DataFrame) -> list[str]:
    """For each row of ``shown`` (keyed by ``keys``), the devices its ``runs`` (column ``made_on``) were made on."""
    devices = runs.groupby(list(keys), sort=False)["made_on"].agg(lambda d: ", ".join(sorted(set(d))))
    return [devices.get(tuple(key) if len(keys) > 1 else key[0], "") for key in shown[list(keys)].itertuples(index=False)]


def compared_runs(runs: pd.DataFrame, keys: Sequence[str], compared: Iterable[tuple]) -> pd.DataFrame:
    """The runs (rows of ``runs``) whose ``keys`` columns equal one of the ``compared`` row keys."""
    wanted = set(compared)
    return runs[[tuple(k) in wanted for k in runs[list(keys)].itertuples(index=False)]] if len(runs) else runs


CPU = "CPU"  # ``provenance.made_on`` of a run on this machine's CPU; any other name is a GPU


def mixed_seeds(runs: pd.DataFrame, seeds: Iterable[int] | None = None, cpu_and_gpu: bool = False) -> tuple[int, int]:
    """(seeds whose ``runs`` span more than one device, seeds) over ``seeds`` (default: all); ``runs``: columns
    ``seed`` and ``made_on``, the runs of the compared rows. ``cpu_and_gpu``: count only the seeds whose runs
    include the CPU and a GPU (two GPUs' runs differ by run-to-run noise, not by an offset: :func:`offset_margin`)."""
    if runs.empty:
        return 0, 0
    if seeds is not None:
        runs = runs[runs["seed"].isin(list(seeds))]
    spans = (lambda d: CPU in set(d) and len(set(d)) > 1) if cpu_and_gpu else (lambda d: d.nunique() > 1)
    per_seed = runs.groupby("seed")["made_on"].agg(spans).astype(bool)
    return int(per_seed.sum()), len(per_seed)


def spans_note(runs: pd.DataFrame, seeds: Iterable[int] | None = None) -> str:
    """The caveat for a paired comparison of ``runs`` (as :func:`mixed_seeds`): "at k of n seeds the compared runs
    were made on different devices (CPU and NVIDIA H200): ...", or "" when every seed's runs share one device."""
    mixed, total = mixed_seeds(runs, seeds)
    if not mixed:
        return ""
    names = sorted(set(runs["made_on"]))
    made = " and ".join([", ".join(names[:-1]), names[-1]])
    return f"at {mixed} of {total} seeds the compared runs were made on different devices ({made}): {SPANS_DEVICES}"


def offset_margin(runs: pd.DataFrame, seeds: Iterable[int], bound: float | None) -> float:
    """How far to widen a paired difference of ``runs`` (as :func:`mixed_seeds`) for a device offset the pairing
    cannot cancel: ``bound`` (the largest offset between this CPU and a GPU measured possible) times the share of
    ``seeds`` whose runs include the CPU and a GPU; 0 without such seeds or without a measured ``bound``. Two
    GPUs (the lent NVIDIA H100 and H200: one architecture, one torch and CUDA version) pick their kernels per run
    by timing (``cudnn.benchmark``), so their runs differ as two runs on one of them do: noise drawn afresh at
    each seed, which the interval over seeds covers."""
    mixed, total = mixed_seeds(runs, seeds, cpu_and_gpu=True)
    return bound * mixed / total if bound and mixed else 0.0


def applied_margin(interval: Interval, margin: float) -> float:
    """The margin :func:`widened_for_offset` adds to ``interval``: 0 when it has no width to widen (one seed)."""
    return margin if interval.has_interval else 0.0


def pair_margin(diff: Interval | None, runs: pd.DataFrame, keys: Sequence[str], compared: Iterable[tuple],
                seeds: Iterable[int], bound: float | None) -> float:
    """The margin (pp) the paired difference ``diff`` of the ``compared`` rows (their ``keys`` values) over
    ``seeds`` is widened by for devices: :func:`offset_margin` of those rows' ``runs`` as :func:`applied_margin`
    gives it; 0 without a difference or runs."""
    if diff is None or runs.empty:
        return 0.0
    return applied_margin(diff, offset_margin(compared_runs(runs, keys, compared), seeds, bound))


def widened_for_offset(interval: Interval, margin: float, support: tuple[float, float] | None) -> Interval:
    """``interval`` widened by ``margin`` (:func:`offset_margin`) on both sides for a device offset, then clipped
    to the values the difference can take (``support``, None: unbounded)."""
    return interval.widened(margin, "a device offset").clipped(support)


def widening_note(margin: float) -> str:
    """The basis's words for an interval widened by :func:`offset_margin` ("" when it was not)."""
    return (f"the interval is widened by ±{margin:.2f} pp for a device offset the pairing cannot cancel (the rule "
            "'Devices')") if margin > 0 else ""
