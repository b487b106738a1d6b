"""Why some learned-loss runs meta-test below chance: a residual learned loss that rewards wrong answers.

With the cross-entropy residual, both loss networks end in ``fc2(ELU(h + CE))`` (:mod:`lib.meta.losses`). Where
``h + CE`` is large (ELU linear), the learned loss grows with the cross-entropy at the rate ``sum(fc2.weight)``.
If that sum is negative, a task learner that raises its cross-entropy lowers its loss without bound: it is
rewarded for answering wrong. ``fc2`` is an orthogonal (unit-norm) row at initialisation, so the sign is a coin
flip per seed. phi moves little (``phi_change_total``), and ``|Δ sum(fc2.weight)| <= sqrt(width) ||Δphi||``
(Cauchy-Schwarz), so when that bound is below ``|sum|`` the sign at the end of meta-training is the initial one.

phi_0 is not stored in a record; it is rebuilt here exactly as the run built it (``initial_meta_parameters``:
the seed, then the supernet, then the loss network, all from the same generator).

The rule was written down at commit a4ead7e (``RULE_WRITTEN``) after 14 runs; a run finished after that was
predicted before its outcome existed, so the out-of-sample count (:func:`summary`) is the rule's real test. Runs
that differ only in the proxy (or the authors' code) share phi_0, so the independent tests are the initial loss
networks no run had shown before the rule was written (:func:`unseen_networks`), counted beside the runs.
An outcome is below (above) chance only where the run's 95% interval over its meta-test tasks lies entirely
below (above) it, else "at chance" (:func:`lib.report.lamanas.side_of_chance`): such a run confirms neither side.
Shown in: book/lamanas_table1.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import torch
from torch import nn

from lib.darts.search import SearchNetwork
from lib.experiments.lamanas_config import SupernetSettings
from lib.experiments.lamanas_sweep import is_view
from lib.meta.losses import build_loss
from lib.pipeline.results import Record
from lib.report.lamanas import AT_CHANCE, BELOW, side_of_chance


RULE_WRITTEN = pd.Timestamp("2026-11-26T08:10:56+00:00")  # the commit date of a4ead7e, which wrote the rule down


def out_of_sample(record: Record) -> bool:
    """Whether the run finished (``provenance["date"]``) after the rule was written down."""
    date = record.provenance.get("date")
    return date is not None and pd.Timestamp(date) > RULE_WRITTEN


def initial_loss_network(config: Mapping[str, Any]) -> nn.Module:
    """phi_0 of a stored LAMANAS run's config, on the CPU: seed, supernet, then loss network, as the run did."""
    supernet = SupernetSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in config["supernet"].items()})
    torch.manual_seed(config["seed"])
    SearchNetwork(supernet.spec(config["data"]["ways"]))  # draws theta_0 and alpha_0 first, as the run does
    return build_loss(config["loss"], config["data"]["ways"], config["residual"], config["label_encoding"])


def far_slope(loss_net: nn.Module) -> float:
    """d(learned loss) / d(cross-entropy) where ELU is linear: ``sum(fc2.weight)``."""
    return float(loss_net.fc2.weight.detach().sum())


def prediction(config: Mapping[str, Any]) -> str:
    """The outcome the initial far slope of a residual learned-loss run predicts, with the slope, in words."""
    slope = far_slope(initial_loss_network(config))
    return f"{_side(slope)} chance (sum fc2 at initialisation {slope:+.2f})"


def slope_change_bound(loss_net: nn.Module, phi_moved: float) -> float:
    """The most ``sum(fc2.weight)`` can change when phi moves ``phi_moved`` in L2: ``sqrt(fc2 width) * phi_moved``."""
    return math.sqrt(loss_net.fc2.weight.numel()) * phi_moved


def _residual(config: Mapping[str, Any]) -> bool:
    return config["loss"] != "ce" and bool(config["residual"])


PROXY = {"mse": "MSE", "inner_product": "IP"}


def _labels(c: Mapping[str, Any], slope: float) -> dict[str, Any]:
    row = f"{c['loss'].upper()}, {PROXY.get(c['proxy'], c['proxy'])}{' (authors)' if c['authors_code'] else ''}"
    return {"row": row, "seed": c["seed"], "sum fc2 at init": round(slope, 3), "sign says": _side(slope)}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _side(slope: float) -> str:
    return "below" if slope < 0 else "above"


def table(records: Iterable[Record], pending: Iterable[Mapping[str, Any]], chance: float) -> pd.DataFrame:
    """Per residual learned-loss run: its initial far slope and the side of chance (below / above) that slope
    predicts ("sign says"); for a finished
    run (``records``) also the bound on how much meta-training can have changed the slope, its meta-test
    accuracy, the side of ``chance`` (%) its task interval lies on ("outcome": below, above or at chance,
    :func:`~lib.report.lamanas.side_of_chance`) and whether it is ``new`` (finished after the rule was written down); yes/no
    columns read "yes" / "no" so the table fits the page. A ``pending`` run (its
    stored config fields) shows the prediction alone. One line per run: :func:`~lib.experiments.lamanas_sweep.shared_view`
    copies are left out."""
    rows = []
    for r in records:
        if r.status != "ok" or not _residual(r.config) or is_view(r):
            continue
        net = initial_loss_network(r.config)
        slope, bound = far_slope(net), slope_change_bound(net, float(r.metrics["phi_change_total"]))
        accuracy = float(r.metrics["test_acc"])
        rows.append({**_labels(r.config, slope), "outcome": side_of_chance(r.metrics.get("test_accuracies"), chance),
                     "test acc (%)": round(accuracy, 1), "bound on the change of the sum": round(bound, 3),
                     "sign kept": _yes(abs(slope) > bound),
                     "learned loss (test)": round(float(r.metrics["test_learned_loss"]), 1),
                     "query CE (test)": round(float(r.metrics["test_query_ce"]), 2),
                     "new": _yes(out_of_sample(r))})
    for c in pending:
        if _residual(c):
            rows.append({**_labels(c, far_slope(initial_loss_network(c))), "outcome": "pending"})
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame) -> str:
    """How often the initial sign predicted the outcome of the finished runs, and out of sample by run and by
    initial loss network (:func:`unseen_text`), in a few sentences."""
    done = frame[frame["outcome"] != "pending"] if len(frame) else frame
    if done.empty:
        return "No finished residual learned-loss run in the cache yet."
    hit = done["sign says"] == done["outcome"]
    later = done["new"] == "yes"
    return (f"In {int(hit.sum())} of {len(done)} finished residual learned-loss runs the sign of sum(fc2) at initialisation "
            f"predicted the outcome ({_outcomes(done)}), and in "
            f"{int((done['sign kept'] == 'yes').sum())} of {len(done)} phi moved too little for meta-training to have changed "
            f"that sign. Out of sample (\"new\": finished after the rule was written down, commit a4ead7e): {int(hit[later].sum())} "
            f"of {int(later.sum())} runs predicted; {unseen_text(done)}. {len(frame) - len(done)} pending run(s) show the "
            "outcome their sign predicts.")


def _outcomes(done: pd.DataFrame) -> str:
    counts = done["outcome"].value_counts()
    parts = [f"{int(counts[o])} {o if o == AT_CHANCE else o + ' chance'}" for o in (BELOW, AT_CHANCE) if counts.get(o, 0)]
    return ", ".join(parts) or "0 below chance"


def network(frame: pd.DataFrame) -> pd.Series:
    """Each run's initial loss network phi_0, as (loss network, seed, sum fc2 at init): runs that differ only in the
    proxy (or the authors' code) share it (within one profile: the supernet drawn first is the same)."""
    return pd.Series(list(zip(frame["row"].str.split(",").str[0], frame["seed"], frame["sum fc2 at init"])),
                     index=frame.index)


def draws(frame: pd.DataFrame) -> int:
    """How many distinct initial loss networks the runs of ``frame`` start from (:func:`network`)."""
    return int(network(frame).nunique()) if len(frame) else 0


def unseen_networks(frame: pd.DataFrame) -> pd.Series:
    """Per initial loss network (:func:`network`) of the finished runs no run of which had finished when the rule
    was written (all its runs "new"): whether the sign predicted every one of its runs' outcomes."""
    done = frame[frame["outcome"] != "pending"] if len(frame) else frame
    if done.empty:
        return pd.Series(dtype=bool)
    runs = done.assign(net=network(done), hit=done["sign says"] == done["outcome"], new=done["new"] == "yes")
    grouped = runs.groupby("net", sort=False)
    return grouped["hit"].all()[grouped["new"].all()]


def unseen_text(frame: pd.DataFrame) -> str:
    """``k of the n initial loss networks not seen when the rule was written (FNN seed 0; ...)`` for
    :func:`unseen_networks` of ``frame``: the rule's independent out-of-sample tests."""
    nets = unseen_networks(frame)
    named = "; ".join(f"{loss} seed {seed}" for loss, seed, _ in nets.index)
    return (f"{int(nets.sum())} of the {len(nets)} initial loss networks not seen when the rule was written"
            + (f" ({named})" if named else "") + ", the independent tests (runs differing only in the proxy share one)")
