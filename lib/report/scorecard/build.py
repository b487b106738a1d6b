"""Assemble the scorecard of both reports from the cached runs of one profile.

Every claim listed in ``data/reported/<report>_reported.json`` (each table cell and each quantitative
prose claim) gets one row; a claim without a judging rule is an error, so a new claim cannot be
silently dropped. Nothing here runs an experiment: re-running a notebook (or adding a seed) and
rebuilding updates the scorecard.
"""

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lib.experiments import scaling
from lib.experiments.lamanas_config import LamanasConfig
from lib.experiments.lamanas_sweep import is_view
from lib.experiments.search_diagnostics import NEAR_UNIFORM
from lib.pipeline.results import Record
from lib.report import collapse, lamanas as lamanas_report, learning_curves, lnas as lnas_report, rules, targets
from lib.report.compare import REPORTED_DIR
from lib.report.stats import task_interval
from lib.report.scorecard import lamanas, lnas
from lib.report.scorecard.verdict import STATUSES, Verdict, is_pending, shown_status  # noqa: F401 (the notebook reads build.STATUSES)

COLUMNS = ["report", "id", "where", "claim", "reported", "ours", "status", "basis", "widened (pp)", "authors' code",
           "profile"]
"""``widened (pp)``: the margin a verdict's interval was widened by for devices (:attr:`Verdict.widened`; 0: not)."""


def _claims(report: str, root: Path) -> list[dict]:
    return json.loads((root / f"{report}_reported.json").read_text())["quantitative_claims"]


def _check_rules(report: str, claims: list[dict], rules: dict) -> None:
    unjudged = [c["id"] for c in claims if c["id"] not in rules]
    if unjudged:
        raise KeyError(f"{report}: no scorecard rule for claim(s) {unjudged}; add one to lib/report/scorecard/{report}.py")


def _prose(report: str, claims: list[dict], verdicts: dict[str, tuple]) -> list[dict]:
    rows = []
    for c in claims:
        verdict, authors = verdicts[c["id"]]
        rows.append({"report": report.upper(), "id": c["id"], "where": c["where"], "claim": c["claim"], "reported": "",
                     "ours": verdict.ours, "status": verdict.status, "basis": verdict.basis,
                     "widened (pp)": verdict.widened,
                     "authors' code": shown_status(authors) if authors else ""})
    return rows


def _table(report: str, rows: list[dict]) -> list[dict]:
    return [{"report": report.upper(), "id": f"T1.{i + 1}", "where": "Table 1", "authors' code": "", **row}
            for i, row in enumerate(rows)]


@dataclass
class Scorecard:
    """One row per claim (``table``, columns ``COLUMNS``), the evidence and the run records it was judged from."""

    table: pd.DataFrame
    records: list[Record]
    lnas_evidence: lnas.LnasEvidence | None = None
    lamanas_evidence: lamanas.LamanasEvidence | None = None


def lnas_rows(profile: str, root: Path = REPORTED_DIR) -> tuple[list[dict], lnas.LnasEvidence]:
    claims = _claims("lnas", root)
    _check_rules("lnas", claims, lnas.CLAIMS)
    ev = lnas.evidence(profile)
    verdicts = {c["id"]: (lnas.CLAIMS[c["id"]](ev), None) for c in claims}
    return _table("lnas", lnas.table_rows(ev)) + _prose("lnas", claims, verdicts), ev


def lamanas_rows(profile: str, root: Path = REPORTED_DIR) -> tuple[list[dict], lamanas.LamanasEvidence]:
    claims = _claims("lamanas", root)
    _check_rules("lamanas", claims, lamanas.CLAIMS)
    ev = lamanas.evidence(profile)
    verdicts = {}
    for c in claims:
        rule = lamanas.CLAIMS[c["id"]]
        authors = rule(ev.authors, profile, ev.offset) if c["id"] in lamanas.RESULT_CLAIMS else None
        verdicts[c["id"]] = (rule(ev.ours, profile, ev.offset), authors)
    return _table("lamanas", lamanas.table_rows(ev)) + _prose("lamanas", claims, verdicts), ev


def scorecard(profile: str) -> Scorecard:
    """Every claim of both reports, judged from the runs cached at ``profile`` (nothing is run).

    Shown in: book/scorecard.
    """
    lnas_part, lnas_ev = lnas_rows(profile)
    lamanas_part, lamanas_ev = lamanas_rows(profile)
    frame = pd.DataFrame(lnas_part + lamanas_part)
    frame["profile"] = profile
    records = lnas_ev.records + lamanas_ev.records + lamanas_ev.control_records
    read = {(r.experiment, r.key) for r in records}  # a repeat's original is among them
    records += [r for r in lamanas_ev.repeat_records if (r.experiment, r.key) not in read]
    return Scorecard(frame[COLUMNS], records, lnas_ev, lamanas_ev)


def rules_text() -> str:
    """The one written rule per claim kind (markdown), printed once at the top of the page. Shown in: book/scorecard."""
    return "\n".join(f"- **{kind}.** {text}" for kind, text in rules.RULES.items())


def _seed_range(counts: pd.Series, rows: int) -> str:
    """How many seeds the rows with runs have, and how many of the report's ``rows`` have none yet."""
    if counts.empty:
        return "no run"
    low, high = int(counts.min()), int(counts.max())
    seeds = f"{low} seed{'s' if low > 1 else ''}" if low == high else f"{low} to {high} seeds"
    without = rows - len(counts)
    return f"{seeds} in {len(counts)} row(s)" + (f" ({without} of the report's rows {'has' if without == 1 else 'have'} none yet)" if without > 0 else "")


def scope(card: Scorecard) -> str:
    """Two sentences, computed from the records: what this profile's runs can and cannot test.

    Shown in: book/scorecard (its first lines).
    """
    ln, la = card.lnas_evidence.rows, card.lamanas_evidence.ours
    reported = ln[ln["variant"] != "Random architecture"] if len(ln) else ln  # the control is not a report row
    ln_seeds = reported.groupby(["variant", "sparsity"])["seed"].nunique() if len(reported) else pd.Series(dtype=int)
    la_seeds = la.groupby(lamanas.KEYS)["seed"].nunique() if len(la) else pd.Series(dtype=int)
    ratios = ln["search_top_over_uniform"].dropna() if len(ln) else pd.Series(dtype=float)
    near = int((ratios < NEAR_UNIFORM).sum())
    la_ratios = la["alpha_top_op_ratio"].dropna().astype(float) if len(la) else pd.Series(dtype=float)
    tasks = sorted({len(r.metrics.get("test_accuracies") or []) for r in card.lamanas_evidence.records if r.status == "ok"})
    profile = card.lamanas_evidence.profile
    ln_rows, la_rows = len(lnas_report.reported_table1()), len(lamanas_report.reported_table1())
    return (f"At the {profile} profile the cached runs give the LNAS rows {_seed_range(ln_seeds, ln_rows)} and the "
            f"LAMANAS rows {_seed_range(la_seeds, la_rows)}, so they can test the direction of a difference only where a row has two or more "
            f"seeds paired with its baseline, and no absolute number of either report (the settings are reduced). "
            f"{near} of the {len(ratios)} LNAS runs and {int((la_ratios < NEAR_UNIFORM).sum())} of our "
            f"{len(la_ratios)} LAMANAS runs rest on a search that ended near uniform (top op below "
            f"{NEAR_UNIFORM:g}x the uniform weight; a row whose runs do on average has its cells marked \"search near "
            f"uniform\"), so their derived cells are close to random cells, and each "
            f"LAMANAS run meta-tests on {', '.join(map(str, tasks)) or 'no'} tasks{_spread(card)}."
            f"{_staleness(card.records)}")


def lnas_limits(card: Scorecard) -> str:
    """What else bounds the LNAS verdicts, computed: rows whose wiring is all ties, and the device offset (rule
    'Devices'); "" when neither applies. Shown in: book/scorecard (the summary)."""
    ev = card.lnas_evidence
    tied = sorted(ev.tied_rows())
    parts = []
    if tied:
        rows = ", ".join(f"{v} p={p:g}" for v, p in tied)
        parts.append(f"Runs of {rows} took their cells' wiring from ties of our derivation, not from their search, "
                     "or reused a search re-run since (a defect of the derivation they were made with, fixed since: the "
                     "evidence sweep re-runs them), so those rows and the claims resting on them alone are not testable.")
    if ev.offset is not None:
        parts.append(f" Where paired seeds compare runs made on different devices (this machine's CPU, a lent GPU), "
                     f"the interval is widened by up to ±{ev.offset[0]:.2f} pp, the device offset the measurement "
                     "cannot rule out (rule 'Devices'), so such a comparison is decided only by a larger difference.")
    return "".join(parts).strip()


def _spread(card: Scorecard) -> str:
    """Where the LAMANAS spread comes from: a run's 95% interval over its meta-test tasks (at the median over all
    runs and over those above chance, whose accuracies are not pinned near 0) against seeds of a row."""
    runs = [r for r in card.lamanas_evidence.records  # each run once: a shared view shows a run again
            if r.status == "ok" and not is_view(r) and len(r.metrics.get("test_accuracies") or []) > 1]
    la = card.lamanas_evidence.ours
    ranges = la.astype({"test_acc": float}).groupby(lamanas.KEYS)["test_acc"].agg(lambda a: a.max() - a.min()) if len(la) else []
    if not runs or not len(ranges):
        return ""
    above = [_half_width(r) for r in runs if lamanas_report.chance_side(r) == lamanas_report.ABOVE]
    above_text = (f"±{statistics.median(above):.1f} over the {len(above)} run{'s' if len(above) != 1 else ''} above "
                  "chance" if above else "no run above chance")
    halves = [_half_width(r) for r in runs]
    return (f" (a run's 95% interval over its tasks: ±{statistics.median(halves):.1f} pp at the median of all "
            f"{len(halves)} runs, {above_text}, at most ±{max(halves):.1f}), while the seeds of one row differ by up to "
            f"{max(ranges):.1f} pp: the seed, more than the sample of tasks, decides a row's spread")


def _half_width(record: Record) -> float:
    """The half-width of a run's 95% interval over its meta-test tasks (:func:`~lib.report.stats.task_interval`)."""
    interval = task_interval(record.metrics["test_accuracies"])
    return interval.high - interval.estimate


def _staleness(records: list[Record]) -> str:
    """A sentence on the records computed by code that has changed since (marked stale), or nothing."""
    marked = sum(1 for r in records if r.mark)
    if not marked:
        return ""
    return (f" {marked} of the {len(records)} records behind this page were computed by code that has changed since "
            f"(marked stale or altered in every table): their numbers are what that code gave, until the evidence "
            f"sweep re-runs them.")


CONTROLS = {
    "LNAS / DARTS: the searched cell beats random cells of the same space (Li & Talwalkar 2019; Yang et al. 2020)":
        lambda card: lnas.searched_vs_random(card.lnas_evidence),
    "LNAS / Variant 1: the rewind to θ0 at the middle epoch costs accuracy by itself (Variant 1 pruning nothing "
    "minus the baseline, best validation accuracy after the rewind)": lambda card: lnas.rewind_cost(card.lnas_evidence),
    "LAMANAS / MetaNAS: meta-training beats the same test-time adaptation from the initial weights and alphas "
    "(meta-test accuracy, the baseline minus the no-meta-training control)":
        lambda card: lamanas.meta_training_vs_control(card.lamanas_evidence),
}


def controls(card: Scorecard) -> pd.DataFrame:
    """The controls NAS and meta-learning reviewers ask for (not claims of the reports, not counted): searched vs
    random cells, Variant 1's rewind alone vs the baseline, meta-trained vs not meta-trained. Shown in: book/scorecard.
    """
    verdicts = {name: judge(card) for name, judge in CONTROLS.items()}
    return pd.DataFrame([{"control": name, "ours": v.ours, "status": v.status, "basis": v.basis}
                         for name, v in verdicts.items()])


def rank_agreement(card: Scorecard) -> pd.DataFrame:
    """Spearman's ρ between each report's Table 1 column and our means (LNAS val. accuracies, LAMANAS test and
    train accuracy). Shown in: book/scorecard (front summary), book/lnas_table1, book/lamanas_table1."""
    ln = lnas_report.table1(card.lnas_evidence.runs).agreement
    _, la = lamanas_report.table1(card.lamanas_evidence.records)
    measured = set(lnas_report.METRICS)  # the measured columns (the report's FLOPs do not behave like one)
    parts = [ln[ln["column"].isin(measured)].assign(report="LNAS"),
             lnas_report.rank_agreement(la, {"test acc": "test_acc", "train acc": "train_acc"}).assign(report="LAMANAS")]
    return pd.concat(parts, ignore_index=True)[["report", "column", "rows", "Spearman ρ (report vs ours)"]]


def counts(card: pd.DataFrame) -> pd.DataFrame:
    """Claims per report and status (the four of lib.report.rules), with totals. Shown in: book/scorecard."""
    table = pd.crosstab(card["report"], card["status"]).reindex(columns=list(STATUSES), fill_value=0)
    table.loc["both"] = table.sum()
    table["total"] = table.sum(axis=1)
    return table


PENDING_TEXT = "(pending: no such run is cached at this profile yet)"


def _range(values: list[float], digits: int = 3) -> str:
    return f"{min(values):.{digits}g}" if min(values) == max(values) else \
        f"{min(values):.{digits}g} to {max(values):.{digits}g}"


def _measured(values: list[float], template: str, digits: int = 3) -> str:
    """``template`` with the values' range in ``{}``, or the pending text when there are none."""
    return template.format(_range(values, digits)) if values else PENDING_TEXT


def scale(card: Scorecard) -> str:
    """What scale the cached runs are at, read from their configs (markdown). Shown in: book/scorecard."""
    ln = [r.config for r in card.lnas_evidence.runs if "training" in r.config]
    la = [r.config for r in card.lamanas_evidence.records]
    parts = []
    if ln:
        c = ln[0]
        parts.append(f"LNAS: search on {c['data']['n_search']:,} + {c['data']['n_search']:,} images x {c['search']['epochs']} "
                     f"epochs ({scaling.search_steps(c):,} alpha steps) at C={c['search']['C']} with {c['search']['cells']} "
                     f"cells, retraining on {c['data'].get('n_train'):,} images x {c['training']['epochs']} epochs at "
                     f"C={c['training']['C']} (the report: 20 epochs on the full CIFAR-10)")
    if la:
        c = la[0]
        parts.append(f"LAMANAS: {c['reptile']['meta_epochs']} meta-epochs x {c['reptile']['meta_batch_size']} tasks, "
                     f"supernet C={c['supernet']['C']}, "
                     f"{c['meta_test']['tasks']} meta-test tasks of {c['data']['ways']}-way {c['data']['shots_test']}-shot per run")
    return "; ".join(parts) or "no run is cached at this profile"


def findings(card: Scorecard) -> list[str]:
    """The findings that matter most to a reader of the reports, each with the number the cache gives
    (markdown lines). Shown in: book/scorecard (its summary)."""
    la = card.lamanas_evidence.records
    moved = lambda authors: [float(r.metrics["phi_change_total"]) for r in la if r.status == "ok" and not is_view(r)
                             and r.config["authors_code"] == authors and r.config["loss"] != "ce"
                             and r.metrics.get("phi_change_total") is not None]
    cost = lnas.search_step_cost(card.lnas_evidence)
    if card.lnas_evidence.step_costs is None:
        step_costs = f"The step costs here: {PENDING_TEXT}."
    elif not cost.ours:
        step_costs = f"The step costs here cannot judge it: {cost.basis}."
    else:
        step_costs = (f"Here {cost.ours}. Pruned paths are not computed, and each ratio is timed within one record "
                      f"(L11: {cost.status}).")
    searched = lnas.searched_vs_random(card.lnas_evidence)
    meta = lamanas.meta_training_vs_control(card.lamanas_evidence)
    return [
        _collapse_finding(la),
        f"**The controls: does the DARTS search beat random cells of the same space, and does meta-training beat "
        f"test-time adaptation alone?** Searched minus random at this profile: {_control_text(searched)}. "
        f"Meta-trained baseline minus the same adaptation without meta-training: {_control_text(meta)} "
        f"(the controls table below says on what).{_second_look(card, meta)}{_curve_gain(card.lamanas_evidence.profile)}",
        _training_budget_finding(card),
        f"**In the authors' code the loss network phi is never meta-updated (#22)** (read in their code; "
        f"`tests/test_meta.py` checks that our authors'-code option does the same). phi's distance (L2) from its "
        f"initialisation at the end of the cached runs: authors' code {_measured(moved(True), '{}')}; with the "
        f"update {_measured(moved(False), '{}')}.{_phi_scale(card)}",
        "**The inner-product proxy gives phi no gradient in the authors' code (#21):** the proxy's logits are detached, "
        "so the proxy column of Table 1 cannot reflect a learned loss there.",
        "**The authors' log holds no LSTM run and no baseline run (#28):** the report's best rows and its reference "
        "row have no run behind them in what the authors published.",
        "**The report says Variant 2's search is 2.6x slower than the baseline's (L11).** " + step_costs,
    ]


def _phi_scale(card: Scorecard) -> str:
    """How far phi moves relative to its initial norm here, and at the paper's scale by the learning curves' fit."""
    la = [r for r in card.lamanas_evidence.records if not is_view(r)]
    moved = targets.phi_relative_movement(la)
    if not moved:
        return ""
    fits = targets.phi_at_paper_scale(targets.lamanas_curves(scaling.stored_records(card.lamanas_evidence.profile)))
    text = f" Relative to phi's initial norm that is at most {max(moved):.2%} here"
    if not fits:
        return text + "."
    paper = "; ".join(f"{f.by_tasks:.2%} by tasks, {f.by_updates:.2%} by meta-updates at C={f.C}" for f in fits)
    text += (f", and the power law fitted to each learned-loss learning curve gives {paper} at the paper's "
             f"{targets.paper_tasks():,} meta-training tasks in {targets.paper_updates():,} meta-updates (scaling "
             "chapter, the targets table)")
    if max(moved) >= targets.PHI_BAR or max(f.largest for f in fits) >= targets.PHI_BAR:
        return text + "."
    rate = la[0].config["reptile"]["phi_meta_lr"]
    return (text + f": below {targets.PHI_BAR:.0%} throughout, so with the code's phi meta-learning rate ({rate:g}) "
            "the loss network every task starts from stays, in effect, its random initialisation, with the "
            "meta-update or without it.")


def _training_budget_finding(card: Scorecard) -> str:
    """What retraining on more images buys a cell whose search stayed near uniform, and what longer searches buy at
    a fixed retraining (the scaling chapter's curves, measured from the small profile), beside the report's baseline."""
    reported = lnas_report.reported_table1()
    report_base = float(reported.loc[reported["variant"] == "Baseline", "val_acc_final"].iloc[0])
    head = (f"**What retraining buys, and what searching longer buys:** the report's DARTS baseline reaches "
            f"{report_base:g}% (validation, 20 epochs on the full CIFAR-10). ")
    done = [p for p in scaling.points(card.lnas_evidence.profile) if p["status"] == "done"]
    training = sorted((p for p in done if p["curve"] == "lnas_training"), key=lambda p: p["x"])
    search = sorted((p for p in done if p["curve"] == "lnas_search"), key=lambda p: p["x"])
    if not training:
        return head + f"Our curves: {PENDING_TEXT}."
    sizes = lambda p: " x ".join(f"{int(n):,}" for n in p["training"].split(" x "))
    text = (f"Retrained on {sizes(training[0])} (images x epochs), the cell of a search that ended near uniform (top "
            f"op {training[-1]['top_over_uniform']:.3f}x the uniform weight) reaches {training[0]['y']:.1f}% test "
            f"accuracy; on {sizes(training[-1])}, {training[-1]['y']:.1f}%")
    if len(search) > 1:
        accuracies = [p["y"] for p in search]
        ends = [p.get("top_over_uniform") for p in (search[0], search[-1])]
        text += (f". Searching {search[0]['x']:,} to {search[-1]['x']:,} alpha steps, retrained on {sizes(search[0])}, gives "
                 f"{min(accuracies):.1f}-{max(accuracies):.1f}%"
                 + (f", while the searched top op went from {ends[0]:.3f}x to {ends[1]:.3f}x the uniform weight"
                    if None not in ends else ""))
    return head + text + " (one seed per point; scaling chapter)."


def _curve_gain(profile: str) -> str:
    """What meta-training added along the baseline's measured learning curves (one seed each, paired over tasks)."""
    gains = learning_curves.gain(scaling.points(profile), chance=100 / LamanasConfig.for_profile(profile).data.ways)
    base = gains[gains["curve"].str.startswith("baseline")]
    if base.empty:
        return ""
    parts = ", ".join(f"{r['gain (pp)'].replace('] (', '] pp (')} at {r['curve'].split(', ')[-1]} "
                      f"({r['tasks'].replace(' -> ', ' to ')} tasks{'; the interval contains 0' * (learning_curves.NO_GAIN in r['note'])})"
                      for _, r in base.iterrows())
    return (f" Within one run, meta-training changes the baseline's meta-test accuracy along its learning curves by "
            f"{parts}, paired over the same meta-test tasks (one seed each; scaling chapter).")


def _second_look(card: Scorecard, meta: Verdict) -> str:
    """The meta-training control's first look and the seeds added after it (a two-stage design), or nothing."""
    text = "" if is_pending(meta.status, meta.basis) else lamanas.control_second_look(card.lamanas_evidence)
    return f" {text}" if text else ""


def _control_text(verdict: Verdict) -> str:
    """A control's value and status, or that its runs are pending."""
    if is_pending(verdict.status, verdict.basis):
        return PENDING_TEXT.strip("()")
    return f"{verdict.ours}, **{verdict.status}**"


def _collapse_finding(records: list[Record]) -> str:
    """The finding of :mod:`lib.report.collapse`, with its counts over the cached runs: by run, and out of sample
    by run and by initial loss network not seen when the rule was written (the independent tests)."""
    ways = {r.config["data"]["ways"] for r in records}
    frame = collapse.table(records, [], chance=100 / ways.pop()) if len(ways) == 1 else None
    if frame is None or frame.empty:
        counts = PENDING_TEXT + "."
    else:
        below = frame["outcome"] == "below"
        hit, later = frame["sign says"] == frame["outcome"], frame["new"] == "yes"
        counts = (f"{int(below.sum())} of {len(frame)} cached residual runs fell below chance (their interval over "
                  f"meta-test tasks entirely below it), and the sign predicted {int(hit.sum())} of the {len(frame)} "
                  f"outcomes ({int(hit[later].sum())} of the {int(later.sum())} runs made after the rule was written "
                  f"down; {collapse.unseen_text(frame)}).")
    return ("**Whether a residual learned-loss run collapses below chance is decided at initialisation:** the learned "
            "loss grows with the cross-entropy at the rate sum(fc2.weight), a coin flip per seed that meta-training "
            "does not change (phi barely moves), and a negative sum rewards wrong answers (LAMANAS Table 1, \"Why some "
            "learned-loss runs fall below chance\"). "
            + counts)
