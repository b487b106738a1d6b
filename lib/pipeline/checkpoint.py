"""Resumable runs: a run saves its state after each stage and picks up from there when restarted."""

from pathlib import Path
from typing import Any

import torch

from lib.pipeline.atomic import save_torch


class Checkpoint:
    """A single-file checkpoint next to a run record (``<key>.ckpt.pt``, never committed).

    The run decides what goes in the state dict (model/optimizer ``state_dict``s, epoch counters,
    partial metrics); this class only makes saving atomic and loading safe.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The last saved state, or ``None`` when the run starts from scratch."""
        if not self.path.exists():
            return None
        return torch.load(self.path, map_location="cpu", weights_only=False)

    def save(self, state: dict[str, Any]) -> None:
        """Replace the checkpoint with ``state`` atomically."""
        save_torch(self.path, state)

    def clear(self) -> None:
        """Remove the checkpoint once the run's record is written."""
        self.path.unlink(missing_ok=True)
