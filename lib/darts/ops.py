"""Candidate operations of the two DARTS search spaces, and drop-path.

Every op maps ``(B, C, H, W)`` to ``(B, C, ceil(H / stride), ceil(W / stride))``. Convolutions use the
ReLU - Conv - BN ordering of DARTS. ``OPS[name](C, stride, affine)`` builds one op; a fourth argument
``track_running_stats`` (default True) is passed to every BatchNorm, so functional meta-learning can
use batch statistics only (STYLE pitfall 3).
"""

from typing import Protocol

import torch
from torch import Tensor, nn
from torchvision.ops import stochastic_depth


class OpFactory(Protocol):
    """``(C, stride, affine, track_running_stats=True) -> nn.Module``."""

    def __call__(self, C: int, stride: int, affine: bool, track_running_stats: bool = True) -> nn.Module: ...


def batch_norm(C: int, affine: bool, track_running_stats: bool = True) -> nn.BatchNorm2d:
    """The BatchNorm used by every op: ``(B, C, H, W) -> (B, C, H, W)``."""
    return nn.BatchNorm2d(C, affine=affine, track_running_stats=track_running_stats)


class ReLUConvBN(nn.Sequential):
    """ReLU - Conv(k x k) - BN: ``(B, C_in, H, W) -> (B, C_out, H', W')``."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(C_in, C_out, kernel_size, stride, padding, bias=False),
            batch_norm(C_out, affine, track_running_stats),
        )


class DilConv(nn.Sequential):
    """ReLU - depthwise Conv(k x k, dilation) - pointwise Conv - BN: ``(B, C_in, H, W) -> (B, C_out, H', W')``."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(C_in, C_in, kernel_size, stride, padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            batch_norm(C_out, affine, track_running_stats),
        )


class SepConv(nn.Sequential):
    """Two stacked separable convs (the first strided): ``(B, C_in, H, W) -> (B, C_out, H', W')``."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__(
            DilConv(C_in, C_in, kernel_size, stride, padding, 1, affine, track_running_stats),
            DilConv(C_in, C_out, kernel_size, 1, padding, 1, affine, track_running_stats),
        )


class FacConv(nn.Sequential):
    """ReLU - Conv(1 x k, strided) - Conv(k x 1) - BN, as MetaNAS: ``(B, C_in, H, W) -> (B, C_out, H', W')``."""

    def __init__(self, C_in: int, C_out: int, kernel_length: int, stride: int, padding: int,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(C_in, C_in, (1, kernel_length), stride, (0, padding), bias=False),
            nn.Conv2d(C_in, C_out, (kernel_length, 1), 1, (padding, 0), bias=False),
            batch_norm(C_out, affine, track_running_stats),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1x1 stride-2 convs on offset grids.

    ``(B, C_in, H, W) -> (B, C_out, ceil(H / 2), ceil(W / 2))``. The second conv sees the input shifted by
    one pixel; for odd sizes the shifted input is zero-padded at the bottom/right so both halves agree.
    """

    def __init__(self, C_in: int, C_out: int, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_a = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(C_in, C_out - C_out // 2, 1, stride=2, bias=False)
        self.bn = batch_norm(C_out, affine, track_running_stats)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(x)
        shifted = x[:, :, 1:, 1:]
        if x.shape[2] % 2 or x.shape[3] % 2:
            shifted = nn.functional.pad(shifted, (0, x.shape[3] % 2, 0, x.shape[2] % 2))
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


class MaxPool(nn.MaxPool2d):
    """``nn.MaxPool2d`` computed in channels_last on the CPU, returned in the input's layout.

    On this CPU stack the NCHW max-pool kernel is 2-5x slower than the channels_last one, even counting
    the two layout copies (3x3, stride 1, 8-28 channels; issue 9). A maximum does not round, so the values
    are the same; only which of several exactly equal inputs receives the gradient may differ.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type != "cpu" or x.dim() != 4 or x.is_contiguous(memory_format=torch.channels_last):
            return super().forward(x)
        return super().forward(x.contiguous(memory_format=torch.channels_last)).contiguous()


def zeros_output(x: Tensor, stride: int) -> Tensor:
    """Zeros shaped like an op's output: ``(B, C, H, W) -> (B, C, ceil(H / stride), ceil(W / stride))``."""
    return torch.zeros_like(x[:, :, ::stride, ::stride])


class Zero(nn.Module):
    """The 'none' op: zeros of the (possibly reduced) output shape."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        return zeros_output(x, self.stride)


def _skip(C: int, stride: int, affine: bool, track_running_stats: bool = True) -> nn.Module:
    """Identity at stride 1, FactorizedReduce at stride 2."""
    return nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine, track_running_stats)


OPS: dict[str, OpFactory] = {
    "none": lambda C, stride, affine, track_running_stats=True: Zero(stride),
    "max_pool_3x3": lambda C, stride, affine, track_running_stats=True: MaxPool(3, stride, 1),
    "avg_pool_3x3": lambda C, stride, affine, track_running_stats=True: nn.AvgPool2d(
        3, stride, 1, count_include_pad=False),
    "skip_connect": _skip,
    "sep_conv_3x3": lambda C, stride, affine, track_running_stats=True: SepConv(
        C, C, 3, stride, 1, affine, track_running_stats),
    "sep_conv_5x5": lambda C, stride, affine, track_running_stats=True: SepConv(
        C, C, 5, stride, 2, affine, track_running_stats),
    "dil_conv_3x3": lambda C, stride, affine, track_running_stats=True: DilConv(
        C, C, 3, stride, 2, 2, affine, track_running_stats),
    "dil_conv_5x5": lambda C, stride, affine, track_running_stats=True: DilConv(
        C, C, 5, stride, 4, 2, affine, track_running_stats),
    # MetaNAS's conv_3x3 is a single separable conv (DilConv with dilation 1), not a dense conv;
    # we follow the code of the few-shot space (INCONSISTENCIES #14).
    "conv_3x3": lambda C, stride, affine, track_running_stats=True: DilConv(
        C, C, 3, stride, 1, 1, affine, track_running_stats),
    "conv_1x5_5x1": lambda C, stride, affine, track_running_stats=True: FacConv(
        C, C, 5, stride, 2, affine, track_running_stats),
}

DARTS_SPACE: tuple[str, ...] = (
    "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
    "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
)
# INCONSISTENCIES #14: the code's 7 ops; the report's "zero" op is not in the searched space.
FEWSHOT_SPACE: tuple[str, ...] = (
    "max_pool_3x3", "avg_pool_3x3", "skip_connect", "conv_1x5_5x1", "conv_3x3", "sep_conv_3x3", "dil_conv_3x3",
)
SEARCH_SPACES: dict[str, tuple[str, ...]] = {"darts": DARTS_SPACE, "fewshot": FEWSHOT_SPACE}


def drop_path(x: Tensor, drop_prob: float, training: bool) -> Tensor:
    """Zero whole samples of ``x`` (B, ...) with probability ``drop_prob``, scale survivors by 1/keep.

    One Bernoulli mask per sample, only when ``training`` and ``drop_prob > 0``; ``x`` is not modified
    (STYLE pitfall 4). This is torchvision's stochastic depth in "row" mode.
    """
    return stochastic_depth(x, drop_prob, "row", training)
