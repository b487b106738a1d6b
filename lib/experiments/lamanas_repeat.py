"""A LAMANAS run repeated on another device: how much the device moves a LAMANAS run.

Seed s gives a run the same initial supernet, meta-training tasks and meta-test tasks on every device, but a
lent GPU computes with other kernels than this machine's CPU (and a GPU's are not deterministic), so two runs
of one seed on different devices share their seed, not their arithmetic. A record's key leaves the device
out (``lib.pipeline.results``), so a run cannot be cached twice under its own experiment; a repeat holds the
Table-1 run it repeats (``original``, the sweep's config: ``lamanas_sweep.repeat_configs``) under the experiment
``lamanas_device_repeat`` and runs exactly that config. The original record and its repeat, made on different devices, differ by what the
devices did to that run; :func:`lib.report.lamanas.device_offset_bound` turns these differences over seeds
into the margin LAMANAS comparisons across devices are widened by (the scorecard's rule 'Devices'), as the
LNAS Table 1 chapter does for LNAS from Variant 1 before its pruning.
"""

from dataclasses import dataclass, replace

from lib.experiments import lamanas
from lib.experiments.checks import ConfigError, at_least, check, one_of
from lib.experiments.lamanas_config import LamanasConfig
from lib.pipeline.checkpoint import Checkpoint
from lib.pipeline.results import RunOutput

ROW = "baseline"  # the row repeated: the one every comparison shares


@dataclass(frozen=True)
class DeviceRepeatConfig:
    """The run ``original`` (a Table-1 run's config, device "auto"), repeated on ``device``."""

    original: LamanasConfig
    experiment: str = "lamanas_device_repeat"
    device: str = "auto"
    threads: int = 0

    def __post_init__(self) -> None:
        check(self, {"experiment": one_of("lamanas_device_repeat"), "threads": at_least(0)})
        if self.original.device != "auto":  # the key holds the original whole: one key per run repeated
            raise ConfigError(f"DeviceRepeatConfig.original.device = {self.original.device!r}: give the sweep's config "
                              "(device 'auto'; the repeat's own device field says where it runs)")

    @property
    def seed(self) -> int:
        return self.original.seed

    def to_run(self) -> LamanasConfig:
        """The original's config on this repeat's device and threads (0: the original's); neither is part of a key."""
        return replace(self.original, device=self.device, threads=self.threads or self.original.threads)


def run(cfg: DeviceRepeatConfig, checkpoint: Checkpoint) -> RunOutput:
    """Algorithm 2 on the original's config, here; resumes from ``checkpoint``."""
    return lamanas.algorithm2(cfg.to_run(), checkpoint)
