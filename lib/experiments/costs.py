"""What a run costs before it has run: a model of one-core seconds from a config, for the evidence queue.

The queue (:mod:`lib.experiments.evidence`) prefers measured wall times of records of the same kind and
scales this model by the measured/model ratio of the same row's records at other seeds and sparsities (else
of the experiment's records, else of all records) where it has no record of the kind (:class:`lib.pipeline.worklist.Estimator`), so
only the model's *proportions* matter much. Its unit
costs were measured on the build machine (2-core EPYC VM, one thread per process, NCHW, loaded by other
sessions) from the committed ``cpu`` records and the timings of issue 15:

- LAMANAS: a meta-training task-learner step (batch 20, alpha + theta + phi) ~1.0 s at C=8; a meta-test
  adaptation step (batch 10) ~0.3 s at C=8 (records: ~165 s for 8 x 4 x 5 steps, ~130 s for 8 x 30
  steps); width scales both by (C/8)^0.65 (issue 15: C=28 costs 1.8x (meta-training) to 2.6x (meta-test)).
- DARTS / LNAS: a search epoch ~0.16 s per image of one search half (first order, C=8, 5 cells, batch 32;
  records: ~250 s for 800 images x 2 epochs); a training image-epoch ~7.5 ms and an evaluated image
  ~2.5 ms (C=8, 5 cells; records: ~195 s for 2,560 x 6 plus 6 x 2,000 validation and 2 x 10,000 test
  images); both scale with (C/8) x (cells/5) (issue 15: C=16/8 cells trains at 3.2x the per-image cost).
"""

from dataclasses import asdict
from typing import Any, Callable, Mapping

from lib.experiments.lamanas_curve import LamanasCurveConfig

Config = Mapping[str, Any]  # a config as stored in a record (dataclasses.asdict)

META_TRAIN_STEP_S = 1.0
META_TEST_STEP_S = 0.3
WIDTH_EXPONENT = 0.65
SEARCH_IMAGE_EPOCH_S = 0.16
TRAIN_IMAGE_EPOCH_S = 0.0075
EVAL_IMAGE_S = 0.0025
EVAL_BATCH_TEST_RUNS = 2  # the test split is evaluated twice (last epoch, best validation epoch)
STARTUP_S = 10.0


def _width(C: int, base: int = 8) -> float:
    return (C / base) ** WIDTH_EXPONENT


def lamanas_seconds(cfg: Config) -> float:
    """Algorithm 2: meta-training steps plus two meta-test adaptations per test task (test and task steps)."""
    task, reptile, test = cfg["task"], cfg["reptile"], cfg["meta_test"]
    train = reptile["meta_epochs"] * reptile["meta_batch_size"] * task["steps"] * task["batch_size"] / 20
    tests = test["tasks"] * (test["steps"] + task["steps"]) * test["batch_size"] / 10
    return STARTUP_S + _width(cfg["supernet"]["C"]) * (META_TRAIN_STEP_S * train + META_TEST_STEP_S * tests)


def lamanas_curve_seconds(cfg: Config) -> float:
    """A learning curve: its row meta-trained to the last point, and one meta-test at every point."""
    fields = {k: v for k, v in cfg.items() if k not in ("experiment",)}
    row = asdict(LamanasCurveConfig(**fields).lamanas())
    one_test = lamanas_seconds({**row, "reptile": {**row["reptile"], "meta_epochs": 0}}) - STARTUP_S
    return lamanas_seconds(row) + (len(cfg["curve_at"]) - 1) * one_test


def lamanas_repeat_seconds(cfg: Config) -> float:
    """A device repeat runs its original LAMANAS config."""
    return lamanas_seconds(cfg["original"])


def search_seconds(cfg: Config) -> float:
    """The DARTS search of a CIFAR config (both halves, every epoch)."""
    s = cfg["search"]
    return SEARCH_IMAGE_EPOCH_S * s["epochs"] * cfg["data"]["n_search"] * (s["C"] / 8) * (s["cells"] / 5)


def training_seconds(cfg: Config) -> float:
    """Retraining the derived network: training image-epochs, validation every epoch, the test split twice."""
    t, d = cfg["training"], cfg["data"]
    scale = (t["C"] / 8) * (t["cells"] / 5)
    evaluated = t["epochs"] * d["n_val"] + EVAL_BATCH_TEST_RUNS * d["n_test"]
    return scale * (TRAIN_IMAGE_EPOCH_S * t["epochs"] * d["n_train"] + EVAL_IMAGE_S * evaluated)


def cifar_seconds(cfg: Config) -> float:
    """A DARTS baseline or Variant 2 searches and trains; Variant 1 and Algorithm 3 reuse a search and only train."""
    searches = cfg.get("experiment") == "darts_cifar10" or cfg.get("variant") == "variant2"
    return STARTUP_S + (search_seconds(cfg) if searches else 0.0) + training_seconds(cfg)


def random_architecture_seconds(cfg: Config) -> float:
    """The random-architecture control trains a sampled genotype with the baseline's recipe: no search."""
    return STARTUP_S + training_seconds(cfg)


def search_cost_seconds(cfg: Config) -> float:
    """LNAS Sec. 5.3: a few timed search steps (the records took 10-40 s)."""
    return STARTUP_S + 4.0 * (cfg.get("steps", 5) + 2)


MODELS: dict[str, Callable[[Config], float]] = {
    "lamanas": lamanas_seconds, "lamanas_curve": lamanas_curve_seconds, "lamanas_device_repeat": lamanas_repeat_seconds,
    "darts_cifar10": cifar_seconds,
    "lnas": cifar_seconds, "lnas_search_cost": search_cost_seconds, "random_architecture": random_architecture_seconds,
}


def model_seconds(cfg: Config) -> float:
    """One-core seconds the model expects for the run of ``cfg`` (a stored config dict)."""
    return MODELS[cfg["experiment"]](cfg)
