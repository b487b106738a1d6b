"""Resolve the device named in a config."""

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """Turn a config's device string into a ``torch.device``.

    ``"auto"`` picks CUDA when it is available, else the CPU. Any other value is passed to
    ``torch.device`` after checking that CUDA exists when it is asked for. On CUDA, cuDNN benchmarks its
    convolution algorithms once per input shape and keeps the fastest (every step of a run has the same shapes),
    and computes convolutions in float32, not TF32 (PyTorch's default for cuDNN), so that a GPU run computes what
    a CPU run computes up to rounding (the reports' K80 had no TF32 either).
    """
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} was asked for but CUDA is not available here; use device='cpu' or 'auto'.")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False
    return device
