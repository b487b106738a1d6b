"""The evidence queue of issue 15: every run a profile's book needs, in priority order, for ``make evidence``.

Order (each group row-major: every seed of a row before the next row, so each finished row can be judged;
LAMANAS rows before LNAS rows, whose searches barely leave uniform at an affordable size):

1. ``baselines``: the baselines every comparison needs and their controls: the LAMANAS baseline and its
   no-meta-training control, the LNAS (DARTS) baseline and the random-architecture control;
2. ``measure``: the measurement runs of :mod:`lib.experiments.scaling` (how large must a run be?),
   cheapest first; the evidence profile was read off the first of them, the rest complete the curves;
3. ``headline``: what the headline claims rest on: the report's best LAMANAS row (LSTM + residual +
   inner product), and LNAS Variant 2 (the search-time claim) and Variant 1 at every sparsity;
4. ``rows``: the other LAMANAS rows of Table 1, LNAS Algorithm 3, the rewind-only control of Variant 1, and the
   Sec. 5.3 step costs;
5. ``devices``: the LAMANAS baseline runs made on a GPU, repeated here (:mod:`lib.experiments.lamanas_repeat`):
   how much the device moves a LAMANAS run, which the comparisons across devices are widened by;
6. ``authors``: the LAMANAS rows with the authors' code behaviour (#21, #22);
7. ``decide``: the seeds beyond ``seeds`` of the runs whose 3-seed interval could not decide a control (the
   LAMANAS baseline and its no-meta-training control at ``lamanas_sweep.CONTROL_SEEDS``).

Every LAMANAS and LNAS run comes from the sweeps the chapters use (``lamanas_sweep.Sweep``,
``lnas_sweep.Sweep``), for ``seeds`` (default 0, 1, 2: the scorecard's three paired seeds). A Variant-1 row
needs its seed's baseline record and an Algorithm-3 row its Variant-2 record (``Item.needs``): a worker
never starts one before the record it reads is there.
"""

from dataclasses import replace
from typing import Any, Sequence

from lib.experiments import costs, lamanas_repeat, lamanas_sweep, lnas_sweep, scaling, search_cost
from lib.experiments.lamanas_rows import CONTROL, ROWS as LAMANAS_ROWS, row_of
from lib.experiments.lnas import LnasConfig
from lib.experiments.random_architecture import RandomArchitectureConfig
from lib.pipeline import results
from lib.pipeline.provenance import made_on
from lib.pipeline.worklist import Item

SEEDS = (0, 1, 2)
GROUPS = ("baselines", "measure", "headline", "rows", "devices", "authors", "decide")
LAMANAS_CONTROLS = ("baseline", CONTROL)
LAMANAS_HEADLINE = ("lstm-res-ip",)
LNAS_HEADLINE = ("variant2", "variant1")
STEP_COST_STEPS = 5  # the lnas_search_cost chapter's default
LAMANAS_NAMES = {row: name for name, row in LAMANAS_ROWS.items()}  # a row's settings -> its name in lamanas_rows


def measurement_items(profile: str) -> list[Item]:
    """The measurement runs of ``profile``, cheapest (by the cost model) first."""
    runs = scaling.by_cost(scaling.measurements(profile), lambda c: costs.model_seconds(results.result_fields(c)))
    return [_item(m.name, "measure", m.config, m.run) for m in runs]


def _item(name: str, group: str, config: Any, run: Any, needs: Sequence[Any] = ()) -> Item:
    return Item(name, group, config, run, tuple(needs), costs.model_seconds(results.result_fields(config)))


def lamanas_items(profile: str, seeds: Sequence[int]) -> list[Item]:
    """Every LAMANAS row and twin of the profile's sweep, grouped baselines / headline / rows / authors."""
    sweep = lamanas_sweep.Sweep.for_profile(profile, rows=tuple(LAMANAS_ROWS), seeds=seeds, authors_seeds=seeds)
    out = []
    for config, run in sweep.jobs():
        row = LAMANAS_NAMES[row_of(results.result_fields(config))]
        group = ("authors" if config.authors_code else "baselines" if row in LAMANAS_CONTROLS
                 else "headline" if row in LAMANAS_HEADLINE else "rows")
        code = " (authors' code)" if config.authors_code else ""
        out.append(_item(f"LAMANAS {row}{code} seed {config.seed}", group, config, run))
    return out


def device_items(profile: str) -> list[Item]:
    """A repeat on the CPU of each LAMANAS baseline run (at ``lamanas_sweep.CONTROL_SEEDS``) whose record was made
    on a GPU by the current code (a stale original is re-run first, here, and then needs no repeat)."""
    out = []
    for config in lamanas_sweep.repeat_configs(profile, lamanas_sweep.CONTROL_SEEDS):
        original = results.stored(config.original)
        if original is not None and original.mark is None and made_on(original.provenance) != "CPU":
            name = f"LAMANAS {lamanas_repeat.ROW} repeated on the CPU (made on {made_on(original.provenance)}) seed {config.seed}"
            out.append(_item(name, "devices", config, lamanas_repeat.run))
    return out


def decide_items(profile: str, seeds: Sequence[int]) -> list[Item]:
    """The LAMANAS baseline and control runs of ``lamanas_sweep.control_sweep`` at the seeds ``seeds`` leaves out."""
    return [_item(f"LAMANAS {LAMANAS_NAMES[row_of(results.result_fields(config))]} seed {config.seed}", "decide", config, run)
            for config, run in lamanas_sweep.control_sweep(profile).jobs() if config.seed not in seeds]


def lnas_items(profile: str, seeds: Sequence[int]) -> list[Item]:
    """The LNAS baseline, Variant 2 and 1 at every sparsity, Algorithm 3, the controls (random architectures,
    Variant 1's rewind alone), and the step costs of Sec. 5.3."""
    sweep = lnas_sweep.Sweep.for_profile(profile, lnas_sweep.ROWS, seeds=seeds)
    out = []
    for config, run in sweep.jobs(lnas_sweep.ROWS, seeds):
        if isinstance(config, RandomArchitectureConfig):
            out.append(_item(f"LNAS random architecture {config.sample} seed {config.seed}", "baselines", config, run))
            continue
        if not isinstance(config, LnasConfig):
            out.append(_item(f"LNAS baseline seed {config.seed}", "baselines", config, run))
            continue
        needs = {"variant1": [config.baseline()], "algorithm3": [config.variant2()]}.get(config.variant, [])
        rewind = lnas_sweep.row_of(config) == lnas_sweep.REWIND
        group = "rows" if rewind or config.variant not in LNAS_HEADLINE else "headline"
        what = "rewind only (nothing pruned)" if rewind else f"sparsity {config.sparsity}"
        name = f"LNAS {lnas_sweep.VARIANTS[config.variant]} {what} seed {config.seed}"
        out.append(_item(name, group, config, run, needs))
    return out + step_cost_items(sweep)


def step_cost_items(sweep: lnas_sweep.Sweep) -> list[Item]:
    """LNAS Sec. 5.3: the step-cost measurement of the unpruned supernet and of each sparsity (as ``Sweep.step_costs``)."""
    return [_item(f"LNAS step cost sparsity {c.sparsity}", "rows", c, search_cost.run)
            for c in sweep.step_cost_configs(STEP_COST_STEPS)]


def queue(profile: str, seeds: Sequence[int] = SEEDS, measure: bool = True, on_gpu: bool = False) -> list[Item]:
    """Every run of ``profile``'s evidence in priority order (module docstring); each run once. A GPU worker
    (``on_gpu``) gets no device repeats: they repeat GPU-made runs on the CPU."""
    pool = (lamanas_items(profile, seeds) + lnas_items(profile, seeds) + (measurement_items(profile) if measure else [])
            + ([] if on_gpu else device_items(profile)) + decide_items(profile, seeds))
    items: list[Item] = []
    for group in GROUPS:
        items += _row_major([i for i in pool if i.group == group])
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.ident, item)
    return list(unique.values())


def _row_major(items: Sequence[Item]) -> list[Item]:
    """``items`` with every seed of a row together (seed order), rows in the order they first appear."""
    first: dict[str, int] = {}
    for item in items:
        first.setdefault(_row(item), len(first))
    return sorted(items, key=lambda i: (first[_row(i)], i.config.seed))


def _row(item: Item) -> str:
    """The run's name without its seed: the row it belongs to."""
    return item.name.rsplit(" seed ", 1)[0]


def with_settings(items: Sequence[Item], **settings: Any) -> list[Item]:
    """``items`` with execution settings (``device``) replaced: they are not part of a record's key."""
    return [replace(i, config=replace(i.config, **settings)) for i in items]
