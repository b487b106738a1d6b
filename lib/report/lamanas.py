"""LAMANAS tables: Table 1 next to the report, our runs per seed, the control, the diagnostics, Figure 3's numbers.

Built from run records (``lib/experiments/lamanas_sweep.py`` makes them); figures are in
``lib/plots/lamanas.py``. A metric a record does not hold (a diagnostic added after the run) shows as
"not recorded", never as a number.
"""

from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from lib.experiments.lamanas import phi_vector
from lib.experiments.lamanas_sweep import row_of
from lib.meta import landscape
from lib.meta.landscape import Landscape, LossNet
from lib.pipeline.results import Record
from lib.report import compare

KEYS = ["loss_network", "residual", "loss_proxy"]
NOT_RECORDED = "not recorded"
METRICS = {"test acc": "test_acc", "train acc": "train_acc", "params": "mean_params"}
RUN_METRICS = ("test_acc", "test_acc_task_steps", "train_acc", "train_acc_last_epoch", "mean_params",
               "test_query_ce", "phi_change_total")


def reported_table1() -> pd.DataFrame:
    """The report's Table 1, its "Variant" column (the loss network) named ``loss_network``."""
    return compare.reported("lamanas", "Table 1").rename(columns={"variant": "loss_network"})


def _metric(metrics: Mapping[str, Any], name: str) -> float:
    value = metrics.get(name)
    return np.nan if value is None else float(value)


def run_rows(records: Iterable[Record]) -> pd.DataFrame:
    """One line per run: the row's labels, ``code`` (ours | authors), seed, the Table-1 metrics and the record."""
    out = []
    for record in records:
        cfg, m = record.config, record.metrics
        minutes = (m.get("meta_train_seconds", 0.0) + m.get("meta_test_seconds", 0.0)) / 60
        out.append({**row_of(cfg).labels(), "code": "authors" if cfg["authors_code"] else "ours", "seed": cfg["seed"],
                    **{name: _metric(m, name) for name in RUN_METRICS}, "minutes": minutes, "record": record})
    return pd.DataFrame(out, columns=KEYS + ["code", "seed", *RUN_METRICS, "minutes", "record"])


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (row, code), with the seed count and the seed spread of the accuracies.

    Shown in: book/lamanas_table1 ("Our runs").
    """
    numeric = rows.drop(columns=["record", "seed"])
    grouped = numeric.groupby(KEYS + ["code"], sort=False)
    out = grouped.mean(numeric_only=True)
    out.insert(0, "seeds", grouped.size())
    out.insert(2, "test_acc_seed_std", grouped["test_acc"].std())
    out.insert(4, "train_acc_seed_std", grouped["train_acc"].std())
    return out.reset_index()


def why(labels: pd.Series) -> str:
    """Why the row's columns differ, in a line (the chapter has the long version)."""
    if labels["loss_network"] == "Baseline":
        return "no loss network: the authors'-code flag changes nothing (#20 is not reproduced in either column)"
    reasons = ["authors' code: phi is never meta-updated (#22)"]
    if labels["loss_proxy"] == "Inner product":
        reasons.append("the proxy gives phi no gradient (#21)")
    if labels["residual"] == "No":
        reasons.append("no CE residual: the task gradient comes only from the loss network, in both columns")
    return "; ".join(reasons)


def compare_with_report(summary: pd.DataFrame) -> pd.DataFrame:
    """Per report row: the report's number, ours, the difference, and ours with the authors' code behaviour.

    The baseline has no loss network, so its authors'-code columns repeat ours. Shown in: book/lamanas_table1.
    """
    ours, authors = summary[summary["code"] == "ours"], summary[summary["code"] == "authors"]
    table = compare.compare(ours, reported_table1(), on=KEYS, metrics=METRICS)
    twins = pd.concat([authors, ours[ours["loss_network"] == "Baseline"]])[KEYS + list(METRICS.values())]
    twins = twins.rename(columns={c: f"{name} (authors' code)" for name, c in METRICS.items()})
    table = table.merge(twins, on=KEYS, how="left")
    order = KEYS + [f"{name} {kind}" for name in METRICS for kind in ("(report)", "(ours)", "Δ", "(authors' code)")]
    table = table[order]
    table["seeds"] = table[KEYS].merge(ours[KEYS + ["seeds"]], on=KEYS, how="left")["seeds"].astype("Int64").to_numpy()
    table["why the columns differ"] = [why(row) for _, row in table.iterrows()]
    return table


def steps_explain_test_above_train(summary: pd.DataFrame) -> pd.DataFrame:
    """#8 measured: "Train" (running mean, task steps, 15 shots) vs test after the task steps and the test steps.

    Shown in: book/lamanas_table1 ("Why the report's test accuracy is above its train accuracy").
    """
    ours = summary[(summary["code"] == "ours") & (summary["loss_network"] != "No meta-training")]
    return ours[KEYS + ["train_acc", "train_acc_last_epoch", "test_acc_task_steps", "test_acc"]]


def phi_movement(summary: pd.DataFrame) -> pd.DataFrame:
    """How far phi moved from its initialisation over meta-training, ours vs the authors' code behaviour.

    Shown in: book/lamanas_table1 ("How far phi moves").
    """
    learned = summary[~summary["loss_network"].isin(["Baseline", "No meta-training"])]
    return learned.pivot_table(index=KEYS, columns="code", values="phi_change_total", sort=False).reset_index()


def meta_learning_contribution(rows: pd.DataFrame) -> pd.DataFrame:
    """Per seed: the baseline's meta-test accuracy, the same adaptation from the initial weights and alphas
    (the control), and the paired difference; a seed without both runs shows as pending.

    Shown in: book/lamanas_table1 ("Does meta-training contribute?").
    """
    ours = rows[rows["code"] == "ours"]
    pick = lambda name: ours[ours["loss_network"] == name].set_index("seed")["test_acc"]
    table = pd.DataFrame({"baseline (meta-trained)": pick("Baseline"), "no meta-training": pick("No meta-training")})
    table["difference"] = table["baseline (meta-trained)"] - table["no meta-training"]
    return table.round(2).astype(object).where(table.notna(), "pending").rename_axis("seed").reset_index()


MOVEMENT = {"phi from init (L2)": "phi_change_total", "alpha from init (L2)": "alpha_change_total",
            "alpha top-op / uniform": "alpha_top_op_ratio"}


def movement_table(records: Iterable[Record]) -> pd.DataFrame:
    """Per run: how far phi and alpha moved from their initialisation by the end of meta-training, and the
    mean top-op softmax weight relative to uniform (1.0 = uniform); "not recorded" for runs made before
    a diagnostic existed. Shown in: book/lamanas_table1 ("How far phi and alpha move")."""
    return pd.DataFrame([
        {**row_of(r.config).labels(), "code": "authors" if r.config["authors_code"] else "ours",
         "seed": r.config["seed"], "meta-epochs": len(r.metrics.get("history", [])),
         **{name: r.metrics.get(key, NOT_RECORDED) for name, key in MOVEMENT.items()}}
        for r in records])


def row_name(labels: pd.Series) -> str:
    """"Baseline", "No meta-training", or e.g. "LSTM, residual, Inner product" / "FNN, no residual, MSE"."""
    if labels["loss_network"] in ("Baseline", "No meta-training"):
        return labels["loss_network"]
    residual = "residual" if labels["residual"] == "Yes" else "no residual"
    return f"{labels['loss_network']}, {residual}, {labels['loss_proxy']}"


# ---------------------------------------------------------------- Figure 3 (the loss landscape)


def loss_networks(record: Record) -> dict[int, LossNet]:
    """The run's loss-network snapshots by meta-epoch (the one place that knows where the record keeps them)."""
    cfg = record.config
    return {int(t): landscape.loss_network(state, cfg["loss"], cfg["data"]["ways"], cfg["residual"])
            for t, state in record.metrics["loss_snapshots"].items()}


Draw = Callable[[LossNet], Landscape]


def landscape_drawers(nets: Mapping[int, LossNet], epochs: Sequence[int], recipes: Sequence[str], extent: float,
                      label: int, pca_seed: int, common_basis: bool) -> dict[str, Draw]:
    """``{recipe: draw(net)}``: ours on one plane for all snapshots (that of the last of ``epochs``) when
    ``common_basis``, else each network's own; the authors' recipe under ``pca_seed``."""
    reference = nets[max(epochs)]
    plane = landscape.exact_basis(landscape.first_layer(reference).weight, reference.n_classes) if common_basis else None
    draws: dict[str, Draw] = {
        "ours": lambda net: landscape.landscape(net, "ours", extent=extent, label=label, basis=plane),
        "authors": lambda net: landscape.landscape(net, "authors", seed=pca_seed),
    }
    return {name: draws[name] for name in recipes}


def landscape_panels(nets: Mapping[int, LossNet], epochs: Sequence[int],
                     draws: Mapping[str, Draw]) -> dict[str, dict[int, Landscape]]:
    """{recipe: {meta-epoch: landscape}}. Shown in: book/lamanas_loss_landscape ("The panels")."""
    return {name: {t: draw(nets[t]) for t in epochs} for name, draw in draws.items()}


def ce_reference(extent: float, label: int) -> dict[str, Landscape]:
    """The 2-class cross-entropy with the fixed label, and its mean over labels 0 and 1 (Figure 3's last row)."""
    fixed = landscape.ce_landscape(extent, label=label)
    other = landscape.ce_landscape(extent, label=1 - label)
    mean = replace(fixed, z=(fixed.z + other.z) / 2)
    return {f"CE, label {label}": fixed, "CE, mean of labels 0 and 1": mean}


def snapshot_properties(net: LossNet) -> dict[str, float]:
    """``sum fc2`` (the sign of the FNN far from the trough) and σ2/σ3 of the centred logit block (#31)."""
    values = landscape.logit_singular_values(landscape.first_layer(net).weight, net.n_classes)
    return {"sum fc2": float(net.fc2.weight.sum()), "σ2/σ3": float(values[1] / values[2])}


def panel_stats(panels: Mapping[str, Mapping[int, Landscape]], nets: Mapping[int, LossNet]) -> pd.DataFrame:
    """Per panel: colour-bar range, correlation with cross-entropy, and the snapshot's properties.

    Shown in: book/lamanas_loss_landscape ("The caption's claims, measured").
    """
    return pd.DataFrame([{"recipe": name, "meta-epoch": t, **landscape.summary(ls), **snapshot_properties(nets[t])}
                         for name, by_epoch in panels.items() for t, ls in by_epoch.items()])


def maxima(nets: Mapping[int, LossNet], draws: Mapping[str, Draw]) -> pd.DataFrame:
    """Colour-bar maximum per recipe at every stored snapshot, and |phi - phi_0| (L2) from the first snapshot.

    Shown in: book/lamanas_loss_landscape (the colour-bar maxima over meta-epochs).
    """
    epochs = sorted(nets)
    table = pd.DataFrame({name: [landscape.summary(draw(nets[t]))["max"] for t in epochs] for name, draw in draws.items()},
                         index=pd.Index(epochs, name="meta-epoch"))
    phi_0 = phi_vector(nets[epochs[0]])
    table["|phi - phi_0|"] = [float((phi_vector(nets[t]) - phi_0).norm()) for t in epochs]
    return table


def landscape_findings(stats: pd.DataFrame, table: pd.DataFrame, epochs: Sequence[int], meta_epochs: int) -> str:
    """The chapter's summary lines (markdown) of what the snapshots show against the caption's claims."""
    first, last = min(epochs), max(epochs)
    lines = [f"- Snapshots drawn: meta-epochs {list(epochs)} of a {meta_epochs}-epoch run; phi moved by "
             f"{table.loc[last, '|phi - phi_0|']:.3g} (L2) from meta-epoch {table.index[0]} to {last}."]
    for name in stats["recipe"].unique():
        s = stats[stats.recipe == name].set_index("meta-epoch")
        lines.append(f"- {name} recipe: correlation with cross-entropy {s.loc[first, 'corr_with_ce']:+.3f} at t={first} "
                     f"and {s.loc[last, 'corr_with_ce']:+.3f} at t={last}; colour-bar maximum "
                     f"{s.loc[first, 'max']:.3g} -> {s.loc[last, 'max']:.3g} (the paper: 2.8 at t=1, 1.2e7 at t=122).")
    return "\n".join(lines)
