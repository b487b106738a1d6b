"""LAMANAS tables: Table 1 next to the report, our runs per seed, the control, the diagnostics, Figure 3's numbers.

Built from run records (``lib/experiments/lamanas_sweep.py`` makes them); figures are in
``lib/plots/lamanas.py``. A metric a record does not hold (a diagnostic added after the run) shows as
"not recorded", never as a number.
"""

import dataclasses
import json
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from lib.experiments.lamanas import phi_vector
from lib.experiments.lamanas_rows import Row, row_of
from lib.experiments.lamanas_sweep import AUTHORS_PROXY, CONTROL_SEEDS, is_view, repeat_configs
from lib.meta import landscape
from lib.meta.landscape import Landscape, LossNet
from lib.pipeline.provenance import made_on
from lib.pipeline.results import Record, result_fields, stored
from lib.report import compare, devices, rules, seeds as by_seed
from lib.report.stats import LEVEL, Interval, paired_difference, t_interval, task_interval

KEYS = ["loss_network", "residual", "loss_proxy"]
NOT_RECORDED = "not recorded"
NOT_APPLICABLE = "n/a"  # a cell that cannot exist: the control has no loss network and no meta-training accuracy
METRICS = {"test acc": "test_acc", "train acc": "train_acc", "params": "mean_params"}
RUN_METRICS = ("test_acc", "test_acc_task_steps", "train_acc", "train_acc_last_epoch", "mean_params",
               "test_query_ce", "phi_change_total", "alpha_top_op_ratio")


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
                    **{name: _metric(m, name) for name in RUN_METRICS}, "minutes": minutes,
                    "made_on": made_on(record.provenance), "record": record})
    return pd.DataFrame(out, columns=KEYS + ["code", "seed", *RUN_METRICS, "minutes", "made_on", "record"])


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (row, code), with the seed count and the seed spread of the accuracies.

    Shown in: book/lamanas_table1 ("Our runs").
    """
    numeric = rows.drop(columns=["record", "seed"]).astype({m: float for m in [*RUN_METRICS, "minutes"]})
    grouped = numeric.groupby(KEYS + ["code"], sort=False)
    out = grouped.mean(numeric_only=True)
    out.insert(0, "seeds", grouped.size())
    out.insert(2, "test_acc_seed_std", grouped["test_acc"].std())
    out.insert(4, "train_acc_seed_std", grouped["train_acc"].std())
    return out.reset_index()


OUR_RUNS = {"test acc (%)": ("test_acc", 1), "train acc (%)": ("train_acc", 1),
            "train acc, last epoch (%)": ("train_acc_last_epoch", 1), "mean params": ("mean_params", 0),
            "meta-test query CE": ("test_query_ce", 3), "alpha top-op / uniform": ("alpha_top_op_ratio", 3)}  # minutes: hardware, not the row (records chapter)


def our_runs(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per row and code: each number of :data:`OUR_RUNS` as mean [low, high] over the row's seeds (n where fewer)
    and the devices its runs were made on, as (shown, CSV data); "n/a" where the control cannot have the number (no meta-training accuracy), "not
    recorded" where a run made before a metric existed lacks it.

    Shown in: book/lamanas_table1 ("Our runs").
    """
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame()
    named = rows.assign(row=[row_name(labels) for _, labels in rows[KEYS].iterrows()])
    shown, data = by_seed.over_seeds(named, ["row", "code"], OUR_RUNS, missing=NOT_RECORDED)
    control = shown["row"] == "No meta-training"
    shown.loc[control] = shown.loc[control].replace(NOT_RECORDED, NOT_APPLICABLE)  # it has no meta-training numbers
    made = devices.per_row(named, ["row", "code"], shown)
    return shown.assign(**{"made on": made}), data.assign(made_on=made)


def why(labels: pd.Series) -> str:
    """Why the row's columns differ, in a line (the chapter has the long version)."""
    if labels["loss_network"] == "Baseline":
        return "no loss network: the authors'-code flag changes nothing (#20 is not reproduced in either column)"
    reasons = ["authors' code: phi is never meta-updated (#22)"]
    if labels["loss_proxy"] == "Inner product":
        reasons.append("the proxy gives phi no gradient (#21)")
    if labels["loss_proxy"] != Row("fnn", proxy=AUTHORS_PROXY).labels()["loss_proxy"]:
        reasons.append("its authors'-code column is the MSE row's run: the proxy is unused there")
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


def _code(config: Mapping[str, Any]) -> str:
    return "authors" if config["authors_code"] else "ours"


def _key(config: Mapping[str, Any]) -> tuple[str, str, str, str]:
    labels = row_of(config).labels()
    return labels["loss_network"], labels["residual"], labels["loss_proxy"], _code(config)


def task_text(record: Record) -> str:
    """The run's meta-test accuracy with its 95% interval over meta-test tasks (``test_accuracies``), clipped to
    [0, 100]."""
    accuracies = record.metrics.get("test_accuracies")
    return task_interval(accuracies).clipped(by_seed.PERCENT).text() if accuracies else NOT_RECORDED


def tasks_per_run(records: Iterable[Record]) -> str:
    """How many meta-test tasks the runs evaluated on (e.g. ``"8"``, or ``"8-25"``)."""
    counts = sorted({len(r.metrics.get("test_accuracies") or []) for r in records if r.status == "ok"})
    return "-" if not counts else str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


REPEAT_COLUMNS = ["seed", "original made on", "repeat made on", "original test acc", "repeat test acc",
                  "original - repeat (pp)"]


def device_repeats(originals: Iterable[Record], repeats: Iterable[Record]) -> pd.DataFrame:
    """One line per repeat (:mod:`lib.experiments.lamanas_repeat`) whose original is among ``originals``, both
    finished and neither marked (stale, altered, unsealed): the seed, where each was made, their meta-test
    accuracies and the difference. Shown in: book/lamanas_table1."""
    by_fields = {json.dumps(result_fields(r.config), sort_keys=True): r for r in originals if _current(r)}
    out = []
    for repeat in filter(_current, repeats):
        original = by_fields.get(json.dumps(result_fields(repeat.config["original"]), sort_keys=True))
        if original is not None:
            a, b = float(original.metrics["test_acc"]), float(repeat.metrics["test_acc"])
            out.append(dict(zip(REPEAT_COLUMNS, (original.config["seed"], made_on(original.provenance),
                                                 made_on(repeat.provenance), a, b, a - b))))
    return pd.DataFrame(out, columns=REPEAT_COLUMNS)


def _current(record: Record) -> bool:
    """Finished and made by the current code (no mark): an original from older code than its repeat would measure
    the code change, not the device."""
    return record.status == "ok" and record.mark is None


def device_offset_bound(repeats: pd.DataFrame) -> float | None:
    """The largest systematic device offset (pp of meta-test accuracy) the repeats allow: the farther end from 0
    of the 95% t-interval of the mean difference of the pairs made on different devices; None with fewer than
    two such pairs. As for LNAS (``lib.report.lnas.device_offset_bound``): pairing by seed cancels the seed and
    the interval over seeds covers a device's noise drawn afresh at each seed, but not an offset shared by every
    run of one device. Shown in: book/lamanas_table1, book/scorecard."""
    across = repeats[repeats["original made on"] != repeats["repeat made on"]]["original - repeat (pp)"].tolist()
    offset = t_interval(across) if len(across) > 1 else None
    return max(abs(offset.low), abs(offset.high)) if offset is not None and offset.has_interval else None


def cached_repeats(profile: str) -> tuple[pd.DataFrame, list[Record]]:
    """:func:`device_repeats` of the repeats cached at ``profile`` (at the control's seeds), and the records it
    read (repeats and originals; loads, never runs). Shown in: book/lamanas_table1."""
    configs = repeat_configs(profile, CONTROL_SEEDS)
    repeats = [r for r in map(stored, configs) if r is not None]
    originals = [r for r in (stored(c.original) for c in configs) if r is not None]
    return device_repeats(originals, repeats), repeats + originals


def device_offset(profile: str) -> float | None:
    """:func:`device_offset_bound` of the repeats cached at ``profile``."""
    return device_offset_bound(cached_repeats(profile)[0])


def device_note(repeats: pd.DataFrame, bound: float | None) -> str:
    """What the device repeats say (markdown): the offset bound and how it is used, or why there is none yet."""
    across = int((repeats["original made on"] != repeats["repeat made on"]).sum())
    if bound is None:
        return (f"**Not measured yet:** {across} repeat(s) made on another device than their original are cached; "
                "a bound needs two (the evidence sweep's group 'devices' runs them). Until then the comparisons "
                "whose pairs cross devices carry the caveat only.")
    return (f"**Device offset bound: ±{bound:.2f} pp** of meta-test accuracy, the farther end from 0 of the 95% "
            f"t-interval of the mean difference over the {across} pairs made on different devices. A comparison of "
            "two rows whose runs of one seed were made on different devices is judged on its interval widened by "
            "this bound times the share of such seeds, here and in the scorecard (rule 'Devices'); a meta-train "
            "accuracy is widened by the same bound, measured on meta-test accuracy only.")


def table1(records: Sequence[Record], pending: Sequence[Any] = (), offset: float | None = None
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 1 with intervals: (shown, numeric for the CSV). Per report row (and the control): the report's
    number, ours as mean [low, high] (n seeds), the paired difference to the baseline over shared seeds,
    the status of the report's side of its baseline (:mod:`lib.report.rules`; judged on the difference widened by
    the device ``offset`` bound times the share of its seeds whose runs span devices, :func:`device_offset`),
    ours with the authors' code behaviour, and the meta-test tasks per run. Rows requested but not cached show
    "pending".

    Shown in: book/lamanas_table1.
    """
    rows = run_rows([r for r in records if r.status == "ok"])
    ours = rows[rows["code"] == "ours"] if len(rows) else rows
    keys = KEYS + ["code"]
    values = {m: by_seed.per_seed(rows, keys, m) for m in METRICS.values()} if len(rows) else {m: {} for m in METRICS.values()}
    requested: dict[tuple, int] = {}
    for config in [r.config for r in records] + [dataclasses.asdict(c) for c in pending]:
        requested[_key(config)] = requested.get(_key(config), 0) + 1
    theirs = reported_table1()
    report_base = float(theirs.loc[theirs["loss_network"] == "Baseline", "test_acc"].iloc[0])
    base = values["test_acc"].get(("Baseline", "No", "N/A", "ours"), {})
    control = [("No meta-training", "No", "N/A")] if any(k[0] == "No meta-training" for k in requested) else []
    authors_requested = {key[:2] for key in requested if key[3] == "authors"}  # one twin serves both proxies
    shown, data = [], []
    for labels in [tuple(t) for t in theirs[KEYS].itertuples(index=False)] + control:
        rep = theirs[(theirs[KEYS] == list(labels)).all(axis=1)]
        rep = rep.iloc[0] if len(rep) else None
        mine = [r for r in records if _key(r.config) == (*labels, "ours")]
        ivs = {m: by_seed.interval_or_none(values[m].get((*labels, "ours"), {}), m) for m in METRICS.values()}
        authors = by_seed.interval_or_none(values["test_acc"].get((*labels, "authors"), {}), "test_acc")
        is_base = labels[0] == "Baseline"
        row_acc = values["test_acc"].get((*labels, "ours"), {})
        diff = None if is_base else by_seed.paired_or_none(row_acc, base, "test_acc")
        margin = devices.pair_margin(diff, ours, KEYS, (labels, BASELINE_LABELS), set(row_acc) & set(base), offset)
        judged = diff if not margin else devices.widened_for_offset(diff, margin, by_seed.difference_support("test_acc"))
        ruling = None
        if rep is not None and not is_base:
            ruling = (rules.not_testable("no run of this row or of the baseline at a shared seed is cached (pending)")
                      if diff is None else (rules.better_than if rep["test_acc"] >= report_base else rules.worse_than)(judged))
        n_requested = requested.get((*labels, "ours"), 0)
        state = by_seed.runs_state(mine, n_requested) if n_requested else "not requested"
        collapsed = below_chance(mine)
        state += f" ({collapsed} below chance)" if collapsed else ""
        missing = by_seed.PENDING if n_requested else "not run"
        is_control = labels[0] == "No meta-training"
        authors_missing = (NOT_APPLICABLE if is_control else by_seed.PENDING if labels[:2] in authors_requested
                           else "not run")
        name = row_name(pd.Series(dict(zip(KEYS, labels))))
        shown.append({"row": name, "runs": state, "test acc (report)": None if rep is None else rep["test_acc"],
                      "test acc (ours)": by_seed.text(ivs["test_acc"], missing=missing),
                      "Δ test vs baseline (ours)": "" if is_base else by_seed.text(diff, missing=missing),
                      "Δ widened for devices": by_seed.text(judged) if judged is not diff else "",
                      "report vs baseline": "" if rep is None or is_base else
                      (">= baseline" if rep["test_acc"] >= report_base else "< baseline"),
                      "status": "" if ruling is None else ruling.status,
                      "test acc (authors' code)": by_seed.text(ivs["test_acc"] if is_base else authors,
                                                               missing=missing if is_base else authors_missing),
                      "tasks / run": tasks_per_run(mine),
                      "train acc (report)": None if rep is None else rep["train_acc"],
                      "train acc (ours)": by_seed.text(ivs["train_acc"], missing=NOT_APPLICABLE if is_control else missing),
                      "params (report)": None if rep is None else rep["mean_params"],
                      "params (ours)": by_seed.text(ivs["mean_params"], digits=0, missing=missing)})
        data.append({**dict(zip(KEYS, labels)), "seeds": by_seed.seeds_of(mine), "runs": state,
                     **{f"{m} (report)": None if rep is None else rep[m] for m in METRICS.values()},
                     **{c: v for m, iv in ivs.items() for c, v in by_seed.columns(m, iv).items()},
                     **by_seed.columns("test_acc_minus_baseline", diff),
                     **by_seed.columns("test_acc_minus_baseline_widened", judged), "widened (pp)": margin,
                     **by_seed.columns("test_acc_authors_code", authors),
                     "status": "" if ruling is None else ruling.status, "basis": "" if ruling is None else ruling.reason})
    return pd.DataFrame(shown), pd.DataFrame(data)


BASELINE_LABELS = ("Baseline", "No", "N/A")


BELOW, ABOVE, AT_CHANCE = "below", "above", "at chance"


def side_of_chance(accuracies: Sequence[float] | None, chance: float) -> str:
    """:data:`BELOW` or :data:`ABOVE` ``chance`` (%) when the 95% interval over the meta-test tasks
    (:func:`~lib.report.stats.task_interval` of ``accuracies``) lies entirely on that side, else :data:`AT_CHANCE`:
    the interval contains chance, or there is none (fewer than two tasks). A mean under chance whose interval
    reaches it is not called below chance: that run may be guessing."""
    interval = task_interval(accuracies) if accuracies else None
    if interval is None or not interval.has_interval:
        return AT_CHANCE
    return BELOW if interval.high < chance else ABOVE if interval.low > chance else AT_CHANCE


def chance_side(record: Record) -> str:
    """:func:`side_of_chance` of a run's meta-test accuracies (``test_accuracies``) against 100 / ways %."""
    return side_of_chance(record.metrics.get("test_accuracies"), 100.0 / record.config["data"]["ways"])


def below_chance(records: Iterable[Record]) -> int:
    """How many of ``records`` meta-test below chance: their task interval lies entirely below 100 / ways %
    (:func:`chance_side`); a collapsed run, e.g. a learned loss that adaptation drives towards minus infinity
    instead of classifying (its numbers still count in the means)."""
    return sum(1 for r in records if r.status == "ok" and chance_side(r) == BELOW)


def task_intervals(records: Iterable[Record]) -> pd.DataFrame:
    """Per run (a shared view is not a run of its own): the meta-test accuracy with its interval over meta-test
    tasks (the MAML convention).

    Shown in: book/lamanas_table1.
    """
    return pd.DataFrame([{"row": row_name(pd.Series(row_of(r.config).labels())), "code": _code(r.config),
                          "seed": r.config["seed"], "test acc over tasks": task_text(r)}
                         for r in records if r.status == "ok" and not is_view(r)],
                        columns=["row", "code", "seed", "test acc over tasks"])


STEP_COLUMNS = {"train, running mean (%)": ("train_acc", 1), "train, last epoch (%)": ("train_acc_last_epoch", 1),
                "test after the task steps (%)": ("test_acc_task_steps", 1),
                "test after the test steps (%)": ("test_acc", 1)}


def steps_explain_test_above_train(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """#8 measured, per row of ours (``runs``: :func:`run_rows`): "Train" (running mean over every meta-epoch, and
    the last epoch alone) vs test after the task steps and after the test steps, each mean [95% t-interval] over
    seeds; as (shown, CSV data with the bounds).

    Shown in: book/lamanas_table1 ("Why the report's test accuracy is above its train accuracy").
    """
    ours = runs[(runs["code"] == "ours") & (runs["loss_network"] != "No meta-training")] if len(runs) else runs
    return by_seed.over_seeds(ours, KEYS, STEP_COLUMNS) if len(ours) else (pd.DataFrame(), pd.DataFrame())


PHI_MOVED = "phi moved from its initialisation (L2 norm)"


def phi_movement(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How far phi moved from its initialisation over meta-training (L2 norm of the change), ours vs the authors'
    code behaviour, per learned-loss row: mean [95% t-interval] over seeds; as (shown, CSV data with the bounds).

    Shown in: book/lamanas_table1 ("How far phi moves").
    """
    learned = runs[~runs["loss_network"].isin(["Baseline", "No meta-training"])] if len(runs) else runs
    if not len(learned):
        return pd.DataFrame(), pd.DataFrame()
    return by_seed.over_seeds(learned, [*KEYS, "code"], {PHI_MOVED: ("phi_change_total", 4)})


def baseline_and_control(rows: pd.DataFrame) -> tuple[dict[int, float], dict[int, float]]:
    """{seed: meta-test accuracy} of our baseline and of the no-meta-training control."""
    ours = rows[rows["code"] == "ours"]
    pick = lambda name: ours[ours["loss_network"] == name].set_index("seed")["test_acc"].to_dict()
    return pick("Baseline"), pick("No meta-training")


FIRST_LOOK = (0, 1, 2)
"""The seeds the meta-training control was first judged at: Table 1's, the seeds it pairs with the other rows.
The later seeds of ``lamanas_sweep.CONTROL_SEEDS`` were added after that first look (the comment there says why)."""


def seeds_text(seeds: Iterable[int]) -> str:
    """``"0-2"`` for three or more consecutive seeds, ``"3 and 4"`` for two, else ``"0, 2, 5"``."""
    ordered = sorted(seeds)
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return " and ".join(map(str, ordered)) if len(ordered) == 2 else ", ".join(map(str, ordered))


def _mean_row(table: pd.DataFrame, label: str) -> dict[str, str]:
    return {"seed": label, **{c: by_seed.text(by_seed.interval_or_none(table[c].dropna().to_dict()), 1) for c in table}}


def meta_learning_contribution(rows: pd.DataFrame, seeds: Sequence[int] = ()) -> pd.DataFrame:
    """Per seed (those run and those in ``seeds``, the requested ones): the baseline's meta-test accuracy, the
    same adaptation from the initial weights and alphas (the control), and the paired difference; a run not
    cached yet shows as pending. A last line gives each column's mean with its 95% t-interval over seeds (the
    difference's over the seeds both ran); where seeds beyond :data:`FIRST_LOOK` have run, a line before it gives
    the same over the first-look seeds alone (Table 1's baseline number, and the first look of the control).

    Shown in: book/lamanas_table1 ("Does meta-training contribute?").
    """
    baseline, control = baseline_and_control(rows)
    table = pd.DataFrame({"baseline (meta-trained)": pd.Series(baseline, dtype=float),
                          "no meta-training": pd.Series(control, dtype=float)})
    table = table.reindex(sorted(set(table.index) | set(seeds)))
    table["difference"] = table["baseline (meta-trained)"] - table["no meta-training"]
    shown = table.map(lambda v: f"{v:.1f}").where(table.notna(), "pending").rename_axis("seed").reset_index()
    means = [_mean_row(table, "mean [95% t-interval] (n seeds)")]
    if (set(baseline) | set(control)) - set(FIRST_LOOK):
        first = table[table.index.isin(FIRST_LOOK)]
        means = [_mean_row(first, f"seeds {seeds_text(FIRST_LOOK)} (Table 1's; first look)"),
                 _mean_row(table, "all seeds: mean [95% t-interval] (n)")]
    return pd.concat([shown, pd.DataFrame(means)], ignore_index=True)


@dataclass(frozen=True)
class Look:
    """The better-than rule on the paired difference baseline - control over ``seeds``: its interval as measured,
    the margin it was widened by for devices (rule 'Devices') and the ruling on the widened interval."""

    seeds: tuple[int, ...]
    difference: Interval
    ruling: rules.Ruling
    margin: float = 0.0

    @property
    def status(self) -> str:
        return self.ruling.status


def control_looks(baseline: Mapping[int, float], control: Mapping[int, float], first: Sequence[int] = FIRST_LOOK,
                  planned: Sequence[int] = CONTROL_SEEDS,
                  margin_for: Callable[[tuple[int, ...]], float] = lambda seeds: 0.0) -> list[Look]:
    """The control's verdict at its first look (the shared seeds among ``first``) and, where more seeds have run,
    again over every shared seed. A design that plans seeds beyond ``first`` (``planned``) has two looks, and
    both are judged on :data:`lib.report.rules.TWO_LOOK_LEVEL` intervals (rule 'Two looks') whichever seeds have
    landed; a one-look design on 95% intervals. Each look's interval is widened by ``margin_for(its seeds)`` for
    devices before it is judged. [] when no seed is shared."""
    shared = tuple(sorted(set(baseline) & set(control)))
    stages = list(dict.fromkeys(s for s in (tuple(x for x in shared if x in first), shared) if s))
    level = rules.TWO_LOOK_LEVEL if set(planned) - set(first) else LEVEL
    support = by_seed.difference_support("test_acc")
    out = []
    for seeds in stages:
        diff = paired_difference({s: baseline[s] for s in seeds}, control, level)
        margin = devices.applied_margin(diff, margin_for(seeds))
        ruling = rules.better_than(devices.widened_for_offset(diff, margin, support))
        out.append(Look(seeds, diff.clipped(support), ruling, margin))
    return out


def second_look(looks: Sequence[Look]) -> str:
    """Where the verdict comes from a second look (:func:`control_looks`): the first look's interval and status,
    the seeds added after it, and the level both looks are judged at (rule 'Two looks'; markdown); else ""."""
    if len(looks) < 2:
        return ""
    first, last = looks[0], looks[-1]
    added = seeds_text(sorted(set(last.seeds) - set(first.seeds)))
    widened = f" (judged widened by ±{first.margin:.2f} pp for devices)" if first.margin else ""
    return (f"The verdict comes from a second look: at seeds {seeds_text(first.seeds)} (Table 1's) the difference was "
            f"{first.difference.text()} pp{widened}, {first.status}, and seeds {added} were added after it "
            f"(`lamanas_sweep.CONTROL_SEEDS` says why). {rules.TWO_LOOKS_WHY}")


def judged_looks(rows: pd.DataFrame, offset: float | None = None) -> list[Look]:
    """:func:`control_looks` of the meta-training control (``rows``: our baseline and control runs), each look
    widened by the ``offset`` bound times the share of its seeds whose two runs pair the CPU with a GPU (rule
    'Devices')."""
    ours = rows[rows["code"] == "ours"]
    margin_for = (lambda seeds: devices.offset_margin(ours, seeds, offset)) if offset else (lambda seeds: 0.0)
    return control_looks(*baseline_and_control(rows), margin_for=margin_for)


def judged_control(rows: pd.DataFrame, offset: float | None = None) -> tuple[Interval, float, rules.Ruling] | None:
    """The meta-training control's verdict: the last of :func:`judged_looks` as (difference as measured, margin
    widened by, ruling); None when no seed has both runs."""
    looks = judged_looks(rows, offset)
    return (looks[-1].difference, looks[-1].margin, looks[-1].ruling) if looks else None


def meta_learning_verdict(rows: pd.DataFrame, offset: float | None = None) -> str:
    """Whether meta-training adds accuracy beyond test-time adaptation, by the scorecard's better-than rule on
    the paired difference baseline - control (markdown; :func:`judged_control`), with the first look where seeds
    were added after it and the baseline's number over the first-look seeds (Table 1's). Shown in:
    book/lamanas_table1."""
    judged = judged_control(rows, offset)
    if judged is None:
        return "Pending: no seed has both the baseline and the control."
    diff, margin, ruling = judged
    baseline, control = baseline_and_control(rows)
    looks = judged_looks(rows, offset)
    positive = sum(baseline[s] > control[s] for s in set(baseline) & set(control))
    widening = f" ({devices.widening_note(margin)})" if margin else ""
    text = (f"**Does meta-training add accuracy beyond test-time adaptation? {ruling.status.capitalize()}** by the "
            f"scorecard's better-than rule: {ruling.reason}{widening}; {positive} of {diff.n} seeds are positive.")
    stages = second_look(looks)
    if not stages:
        return text
    mean = lambda seeds: by_seed.interval_or_none({s: baseline[s] for s in seeds}, "test_acc")
    first = [s for s in baseline if s in FIRST_LOOK]
    return (f"{text} {stages} The baseline's mean here, {by_seed.text(mean(baseline), 1)}, is over seeds "
            f"{seeds_text(baseline)}; Table 1 shows {by_seed.text(mean(first))}, over seeds {seeds_text(first)}, "
            "the seeds it pairs with its other rows.")


MOVEMENT = {"phi from init (L2)": "phi_change_total", "alpha from init (L2)": "alpha_change_total",
            "alpha top-op / uniform": "alpha_top_op_ratio"}


def movement_table(records: Iterable[Record]) -> pd.DataFrame:
    """Per run (shared views left out): how far phi and alpha moved from their initialisation by the end of meta-training, and the
    mean top-op softmax weight relative to uniform (1.0 = uniform); "not recorded" for runs made before
    a diagnostic existed. Shown in: book/lamanas_table1 ("How far phi and alpha move")."""
    return pd.DataFrame([
        {**row_of(r.config).labels(), "code": "authors" if r.config["authors_code"] else "ours",
         "seed": r.config["seed"], "meta-epochs": len(r.metrics.get("history", [])),
         **{name: r.metrics.get(key, NOT_RECORDED) for name, key in MOVEMENT.items()}}
        for r in records if not is_view(r)])


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


def seeds_at_a_glance(records: Iterable[Record], extent: float, label: int) -> pd.DataFrame:
    """Per run (seed) of one row: at its last snapshot, ``sum fc2`` and the correlation of our recipe's landscape
    (own plane) with the cross-entropy, beside its meta-test accuracy and chance: a negative sum turns the
    landscape against the cross-entropy, and such a run is the one that collapses (:mod:`lib.report.collapse`).
    "vs chance" is :func:`chance_side` (below or above only where the run's task interval lies entirely there).

    Shown in: book/lamanas_loss_landscape ("Every cached seed").
    """
    out = []
    for r in records:
        nets = loss_networks(r)
        last = max(nets)
        drawn = landscape.landscape(nets[last], "ours", extent=extent, label=label)
        out.append({"seed": r.config["seed"], "meta-epoch": last, "sum fc2": snapshot_properties(nets[last])["sum fc2"],
                    "corr with CE": landscape.summary(drawn)["corr_with_ce"], "test acc (%)": float(r.metrics["test_acc"]),
                    "vs chance": chance_side(r)})
    return pd.DataFrame(out, columns=["seed", "meta-epoch", "sum fc2", "corr with CE", "test acc (%)", "vs chance"])


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
                     f"{s.loc[first, 'max']:.3g} -> {s.loc[last, 'max']:.3g} ({_reported_colour_bars()}).")
    return "\n".join(lines)


def _reported_colour_bars() -> str:
    """"the paper: 2.8 at t=1, 1.2e+07 at t=122": the colour-bar maxima of Figure 3's first and last panels."""
    panels = compare.reported_figure("lamanas", "Figure 3")["panels_as_rendered_in_pdf"]
    ends = [(panel["title"].rsplit("@t=", 1)[1], panel["colorbar_range"][1]) for panel in (panels[0], panels[-1])]
    return "the paper: " + ", ".join(f"{top:.3g} at t={t}" for t, top in ends)
