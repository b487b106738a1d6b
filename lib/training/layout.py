"""The memory format a network trains in: channels_last where it is safe, NCHW elsewhere.

channels_last is the largest plain speed-up of a search or training step on the CPU (oneDNN), 0.57-0.7x
per step. It is an execution setting: it changes rounding, never what is computed, so it is not part of
a run's cache key. On this CPU stack the backward pass of a stride-2 1x1 convolution (the
FactorizedReduce of DARTS) with few input channels and an odd batch returns wrong weight gradients or
hangs (STYLE pitfall 10, oneDNN issue #6035); channels_last is therefore used only where every
FactorizedReduce sees at least ``MIN_SAFE_CHANNELS`` input channels and every training batch is even.
On CUDA channels_last has not been measured here, so "auto" keeps NCHW there.
"""

from collections.abc import Iterable
from typing import Literal

import torch
from torch import nn

from lib.darts.ops import FactorizedReduce

MIN_SAFE_CHANNELS = 16
ChannelsLast = bool | Literal["auto"]


def channels_last_safe(model: nn.Module, batch_sizes: Iterable[int]) -> bool:
    """STYLE pitfall 10: every FactorizedReduce of ``model`` has >= 16 input channels and every batch is even."""
    reduces = [m for m in model.modules() if isinstance(m, FactorizedReduce)]
    return (all(b % 2 == 0 for b in batch_sizes)
            and all(m.conv_a.in_channels >= MIN_SAFE_CHANNELS for m in reduces))


def memory_format(setting: ChannelsLast, model: nn.Module, batch_sizes: Iterable[int],
                  device: torch.device) -> torch.memory_format:
    """The format to train ``model`` in on ``device`` with ``batch_sizes`` (the training batches).

    ``"auto"``: channels_last on the CPU where :func:`channels_last_safe`, else NCHW. ``True``: channels_last,
    refused with a ValueError where it is unsafe on the CPU. ``False``: NCHW.
    """
    if setting not in (True, False, "auto"):
        raise ValueError(f"channels_last must be True, False or 'auto', got {setting!r}")
    safe = device.type != "cpu" or channels_last_safe(model, list(batch_sizes))
    if setting is True and not safe:
        raise ValueError("channels_last is unsafe here (STYLE pitfall 10: a FactorizedReduce with fewer than "
                         f"{MIN_SAFE_CHANNELS} input channels or an odd batch); use 'auto' or False")
    on = setting is True or (setting == "auto" and device.type == "cpu" and safe)
    return torch.channels_last if on else torch.contiguous_format
