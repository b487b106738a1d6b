"""Resumable runs: a run saves its state after each stage and picks up from there when restarted."""

import pickle
import time
from pathlib import Path
from typing import Any

import torch

from lib.pipeline.atomic import DamagedFileError, save_torch

FORMAT = 2  # 1: a bare state saved with pickle (before fingerprints); 2: {format, fingerprint, elapsed_s, state}
# (and, since 2026-11-28, ``threads``: the torch threads of the save; a file without it was saved by one thread)


class Checkpoint:
    """A single-file checkpoint next to a run record (``<key>.ckpt.pt``, never committed).

    The run decides what goes in the state dict; it must be tensors, ``state_dict``s and plain containers
    (dict, list, tuple, str, numbers, None), since loading uses ``torch.load(weights_only=True)``: a file
    holding any other Python object is refused, never executed. Each save also records the code
    ``fingerprint`` of the writer, the wall time spent so far and the threads it ran on: a checkpoint written
    by other code is discarded (the run starts over and ``note`` says why), :meth:`elapsed` counts every part
    of a resumed run, and :meth:`saved_core_seconds` tells a work list how much of the run is behind it.
    """

    def __init__(self, path: Path, fingerprint: str | None = None) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.resumed = False
        self.note: str | None = None
        self.elapsed_before = 0.0
        self._started = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds of this run so far, including the parts before any resume."""
        return self.elapsed_before + time.perf_counter() - self._started

    def _read(self) -> Any:
        repair = f"delete it to start the run over: rm {self.path}"
        try:
            return torch.load(self.path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            raise DamagedFileError(self.path, "holds Python objects other than tensors and plain containers (an "
                                   "older checkpoint format, or not a checkpoint), so it was not loaded", repair) from error
        except (RuntimeError, EOFError, OSError, ValueError) as error:
            raise DamagedFileError(self.path, f"is damaged ({str(error).splitlines()[0]})", repair) from error

    def load(self) -> dict[str, Any] | None:
        """The last saved state, or ``None`` when the run starts from scratch (or the checkpoint's code differs)."""
        if not self.path.exists():
            return None
        saved = self._read()
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            self.note = f"checkpoint {self.path.name} in an older format was discarded: started over"
        elif saved["fingerprint"] != self.fingerprint:
            self.note = (f"checkpoint {self.path.name} was written by code {saved['fingerprint']}, now "
                         f"{self.fingerprint}: started over")
        else:
            self.resumed, self.elapsed_before = True, float(saved["elapsed_s"])
            return saved["state"]
        self.clear()
        return None

    def saved_core_seconds(self) -> float:
        """Core-seconds of the run the saved state holds (its wall time so far x the threads of the last save),
        read without resuming; 0.0 without a checkpoint, or with one :meth:`load` would discard or refuse."""
        try:
            saved = torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)
        except (FileNotFoundError, pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError):
            return 0.0
        if not isinstance(saved, dict) or saved.get("format") != FORMAT or saved.get("fingerprint") != self.fingerprint:
            return 0.0
        return float(saved["elapsed_s"]) * int(saved.get("threads", 1))

    def save(self, state: dict[str, Any]) -> None:
        """Replace the checkpoint with ``state`` atomically."""
        save_torch(self.path, {"format": FORMAT, "fingerprint": self.fingerprint, "elapsed_s": self.elapsed(),
                               "threads": torch.get_num_threads(), "state": state})

    def clear(self) -> None:
        """Remove the checkpoint once the run's record is written."""
        self.path.unlink(missing_ok=True)
