"""Where a result came from: code version, software, hardware, date."""

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> dict[str, object]:
    """The commit of this checkout and whether the code that computes results (lib/) has local edits.

    A copy of the tree run elsewhere (a lent GPU machine, a Ray worker) has no or stale git metadata: there
    the launcher names the commit in ``COMPANION_GIT_COMMIT``, which then wins (edits unknown: ``None``).
    Without either the commit is "unknown".
    """
    named = os.environ.get("COMPANION_GIT_COMMIT")
    commit = named or _git("rev-parse", "HEAD")
    if named or commit is None:
        return {"commit": commit or "unknown", "lib_dirty": None}
    dirty = _git("status", "--porcelain", "--", "lib")
    return {"commit": commit, "lib_dirty": bool(dirty) if dirty is not None else None}


def hardware(device: torch.device) -> dict[str, object]:
    """The machine a run used: CPU, core count, torch threads, accelerator name."""
    info: dict[str, object] = {
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["accelerator"] = torch.cuda.get_device_name(device)
    return info


def made_on(provenance: dict) -> str:
    """The device a run was made on, from its record's ``provenance`` (as :func:`collect` wrote it): ``CPU``,
    or the accelerator's name (``NVIDIA H200``)."""
    hardware = provenance.get("hardware", {})
    return hardware.get("accelerator") or str(hardware.get("device", "?")).upper()


def software() -> dict[str, str]:
    """Versions of the interpreter and of torch."""
    import torchvision

    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__}


def collect(device: torch.device, data_source: dict, wall_time_s: float, resumed: bool) -> dict[str, object]:
    """Everything a run record carries besides its config and metrics."""
    return {
        "git": git_state(),
        "software": software(),
        "hardware": hardware(device),
        "data": data_source,
        "wall_time_s": round(wall_time_s, 2),
        "resumed_from_checkpoint": resumed,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
