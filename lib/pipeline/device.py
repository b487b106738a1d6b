"""Resolve the device named in a config, and apply the execution settings that go with it."""

import ctypes
import ctypes.util
import sys

import torch

# glibc mallopt(3) parameters and the values used by keep_freed_memory
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
TRIM_THRESHOLD = 1 << 30  # bytes of free memory at the top of the heap kept before any is returned
MMAP_THRESHOLD = 1 << 25  # 32 MiB (glibc's largest): smaller blocks come from the heap, not from mmap


def resolve_device(name: str = "auto") -> torch.device:
    """Turn a config's device string into a ``torch.device``.

    ``"auto"`` picks CUDA when it is available, else the CPU. Any other value is passed to
    ``torch.device`` after checking that CUDA exists when it is asked for. On CUDA, cuDNN benchmarks its
    convolution algorithms once per input shape and keeps the fastest (every step of a run has the same shapes).
    On the CPU, freed memory is kept for reuse (:func:`keep_freed_memory`).
    """
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} was asked for but CUDA is not available here; use device='cpu' or 'auto'.")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    else:
        keep_freed_memory()
    return device


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory in the process for reuse; True where it applied (glibc Linux).

    PyTorch's CPU tensors come from malloc. With glibc's defaults, blocks above a (self-adjusting) mmap
    threshold are mapped per allocation and unmapped when freed, and free memory at the top of the heap
    is handed back to the kernel, so every step faults the same activations in again and the kernel
    zeroes their pages: about 150 000 page faults and 0.35 s of system time per LAMANAS meta-training
    task at the paper width (C=28, batch 20; issue 9). With blocks below ``MMAP_THRESHOLD`` taken from the
    heap and up to ``TRIM_THRESHOLD`` of free heap kept, the faults are gone. It changes where memory
    comes from, never a value; the resident size stays at the run's peak instead of shrinking between
    steps. Process-wide, and lasts until the process ends.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
