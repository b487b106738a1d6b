"""Which LNAS runs a chapter needs at a profile: rows, seeds, sparsities and processes, decided here.

A notebook names its rows and passes its parameters: ``Sweep.for_profile(profile, rows, ...).run()`` runs
(or loads) every record; ``stored()`` only loads, and ``pending()`` lists what was requested but not run.
Rows are ``"baseline"``, the keys of :data:`lib.experiments.lnas.VARIANTS`, ``"random"`` (the
random-architecture control: :data:`SAMPLES` sampled genotypes trained with the baseline's recipe and seeds)
and ``"rewind"`` (the rewind-only control: Variant 1 with no weight pruned, so that its rewind to theta_0 at
the middle epoch is all that differs from the baseline).
Rows whose search other rows reuse (the baseline, Variant 2) run first.
"""

from dataclasses import dataclass, field, fields
from statistics import fmean
from typing import Any, Callable, Mapping, Sequence

from lib.experiments import darts_cifar10, lnas_algorithm3, lnas_variant1, lnas_variant2, random_architecture, search_cost
from lib.experiments.cifar_config import CifarConfig
from lib.experiments.final_accuracy import best_final
from lib.experiments.lnas import SPARSITIES, VARIANTS, LnasConfig
from lib.experiments.random_architecture import SAMPLES, RandomArchitectureConfig
from lib.experiments.search_cost import SearchCostConfig
from lib.pipeline import results
from lib.pipeline.results import Record
from lib.pipeline.runner import default_processes, run_all

RANDOM = "random"
REWIND = "rewind"
REWIND_ONLY = 1e-9  # the rewind-only control's sparsity: round(p * n) = 0 weights pruned in every layer (p must be > 0)
ROWS = ("baseline", *VARIANTS, RANDOM, REWIND)
RUNS: dict[str, Callable] = {"baseline": darts_cifar10.run, "variant1": lnas_variant1.run,
                             "variant2": lnas_variant2.run, "algorithm3": lnas_algorithm3.run,
                             RANDOM: random_architecture.run, REWIND: lnas_variant1.run}
SEARCHES = ("baseline", "variant2")  # rows whose search the other rows reuse
SMOKE_SPARSITIES = (0.5, 0.95)
Job = tuple[CifarConfig, Callable]


def row_of(record: Record | CifarConfig) -> str:
    """The row a record (or a config) belongs to: ``"baseline"``, its LNAS variant, ``"random"`` or ``"rewind"``."""
    config = record.config if isinstance(record, Record) else vars(record)
    if record.experiment == "lnas" and config.get("variant") == "variant1" and config.get("sparsity") == REWIND_ONLY:
        return REWIND
    return {"lnas": config.get("variant"), "random_architecture": RANDOM}.get(record.experiment, "baseline")


def best_and_worst(records: Sequence[Record]) -> list[tuple[str, float]]:
    """The pruned (variant, sparsity) rows with the best and the worst mean final validation accuracy (the
    tables' :func:`~lib.experiments.final_accuracy.best_final`); none when no pruned row has run."""
    finals: dict[tuple[str, float], list[float]] = {}
    for r in records:
        if row_of(r) not in ("baseline", RANDOM, REWIND) and r.status == "ok":
            finals.setdefault((row_of(r), r.config["sparsity"]), []).append(best_final(r.metrics))
    means = {key: fmean(values) for key, values in sorted(finals.items())}
    return [max(means, key=means.__getitem__), min(means, key=means.__getitem__)] if means else []


@dataclass(frozen=True)
class Sweep:
    """The runs of one chapter: ``rows`` x ``seeds`` x ``sparsities``, then ``extra_seeds`` for the spread.

    ``extra_seeds`` re-run the baseline and the best and the worst pruned row. ``settings`` go to every
    config (``device`` and the notebook's ``overrides``, shaped like a profile's changes).
    """

    profile: str
    rows: tuple[str, ...]
    seeds: tuple[int, ...]
    sparsities: tuple[float, ...]
    extra_seeds: tuple[int, ...] = ()
    processes: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rows) - set(ROWS))
        if unknown:
            raise ValueError(f"unknown row(s) {unknown}; choose from {list(ROWS)}")

    @classmethod
    def for_profile(cls, profile: str, rows: Sequence[str], seeds: Sequence[int] = (0,), extra_seeds: Sequence[int] = (),
                    sparsities: Sequence[float] | None = None, processes: int = 0, device: str = "auto",
                    overrides: Mapping[str, Any] | None = None) -> "Sweep":
        """All eight sparsities of the report (two at ``smoke``) unless given; one process per core (one at smoke)."""
        sparsities = tuple(sparsities or (SMOKE_SPARSITIES if profile == "smoke" else SPARSITIES))
        processes = processes or (1 if profile == "smoke" else default_processes())
        extra = tuple(s for s in extra_seeds if s not in seeds)
        return cls(profile, tuple(rows), tuple(seeds), sparsities, extra, processes, {**(overrides or {}), "device": device})

    def config(self, row: str = "variant1", sparsity: float = 0.5, seed: int = 0, sample: int = 0) -> CifarConfig:
        """The config of one run (the baseline's has no variant and no sparsity; the random row's a ``sample``; the
        rewind row's is Variant 1's at :data:`REWIND_ONLY`)."""
        variant = row if row in VARIANTS else "variant1"
        sparsity = REWIND_ONLY if row == REWIND else sparsity
        cfg = LnasConfig.for_profile(self.profile, **{**self.settings, "variant": variant, "sparsity": sparsity, "seed": seed})
        if row == RANDOM:
            shared = {f.name: getattr(cfg, f.name) for f in fields(CifarConfig) if f.name != "experiment"}
            return RandomArchitectureConfig(**shared, sample=sample)
        return cfg.baseline() if row == "baseline" else cfg

    def jobs(self, rows: Sequence[str], seeds: Sequence[int]) -> list[Job]:
        """Per seed: the baseline (if among ``rows``), each variant of ``rows`` at every sparsity, the random samples,
        the rewind-only run."""
        jobs: list[Job] = []
        for seed in seeds:
            jobs += [(self.config("baseline", seed=seed), RUNS["baseline"])] if "baseline" in rows else []
            jobs += [(self.config(row, p, seed), RUNS[row]) for row in rows if row in VARIANTS for p in self.sparsities]
            jobs += [(self.config(RANDOM, seed=seed, sample=k), RUNS[RANDOM]) for k in SAMPLES] if RANDOM in rows else []
            jobs += [(self.config(REWIND, seed=seed), RUNS[REWIND])] if REWIND in rows else []
        return jobs

    def _run(self, jobs: list[Job], force: bool, desc: str) -> list[Record]:
        """Records of ``jobs`` in order; only the missing ones (all with ``force``) go to the runner's processes."""
        found = [None if force else results.stored(cfg) for cfg, _ in jobs]
        missing = [job for job, record in zip(jobs, found) if record is None]
        ran = iter(run_all(missing, self.processes, force, desc=desc) if missing else [])
        return [record or next(ran) for record in found]

    def run(self, force: bool = False, only_stored: Sequence[str] = ()) -> list[Record]:
        """Run (or load) every record: searches first, then the rows reusing them, then the extra seeds.

        Rows in ``only_stored`` are loaded, never run: a missing run of ``seeds`` stays in :meth:`pending`, a missing
        extra-seed run is left out (the extra seeds only widen the spread of rows that have runs).
        """
        searches = [r for r in self.rows if r in SEARCHES and r not in only_stored]
        reusers = [r for r in self.rows if r not in SEARCHES and r not in only_stored]
        stored = [r for r in self.rows if r in only_stored]
        records = self._run(self.jobs(searches, self.seeds), force, f"{'+'.join(searches)} runs")
        records += self._run(self.jobs(reusers, self.seeds), force, f"{'+'.join(reusers)} runs")
        records += [r for r in (results.stored(cfg) for cfg, _ in self.jobs(stored, self.seeds)) if r is not None]
        if not self.extra_seeds:
            return records
        picked = best_and_worst(records)
        extra_searches = [(self.config("baseline", seed=s), RUNS["baseline"]) for s in self.extra_seeds]
        extra_searches += [(self.config(v, p, s), RUNS[v]) for v, p in picked if v in SEARCHES for s in self.extra_seeds]
        extra_reusers = [(self.config(v, p, s), RUNS[v]) for v, p in picked if v not in SEARCHES for s in self.extra_seeds]
        records += self._run_or_load(extra_searches, force, "extra seeds: searches", only_stored)
        return records + self._run_or_load(extra_reusers, force, "extra seeds: reusing a search", only_stored)

    def _run_or_load(self, jobs: list[Job], force: bool, desc: str, only_stored: Sequence[str]) -> list[Record]:
        """:meth:`_run` for the jobs of rows not in ``only_stored``; the others are loaded (missing ones left out)."""
        loaded = [r for r in (results.stored(cfg) for cfg, _ in jobs if row_of(cfg) in only_stored) if r is not None]
        return loaded + self._run([job for job in jobs if row_of(job[0]) not in only_stored], force, desc)

    def stored(self) -> list[Record]:
        """The records of ``rows`` x ``seeds`` already cached; nothing runs (the scorecard reads the cache so)."""
        found = [results.stored(cfg) for cfg, _ in self.jobs(self.rows, self.seeds)]
        return [r for r in found if r is not None]

    def pending(self) -> list[CifarConfig]:
        """The configs of ``rows`` x ``seeds`` requested but not in the cache (shown as "pending", never run here)."""
        return [cfg for cfg, _ in self.jobs(self.rows, self.seeds) if results.stored(cfg) is None]

    def step_cost_configs(self, steps: int) -> list[SearchCostConfig]:
        """LNAS Sec. 5.3: one search-step measurement of the unpruned supernet and one per sparsity."""
        names = {f.name for f in fields(SearchCostConfig)}
        settings = {k: v for k, v in self.settings.items() if k in names}
        return [SearchCostConfig.for_profile(self.profile, **settings, steps=steps, sparsity=p)
                for p in (0.0, *self.sparsities)]

    def step_costs(self, steps: int, force: bool = False, only_stored: bool = False) -> list[Record]:
        """The step-cost records, measured in turn (one process: timings); ``only_stored``: the cached ones only."""
        configs = self.step_cost_configs(steps)
        if only_stored:
            return [r for r in map(results.stored, configs) if r is not None]
        return [results.cached(cfg, search_cost.run, force=force) for cfg in configs]
