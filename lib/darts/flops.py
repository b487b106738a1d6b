"""Multiply-accumulates (MACs) and parameter counts of dense and weight-masked networks.

Every number here is a count of **multiply-accumulates** of one forward pass, in eval mode and without
autograd: ``torch.utils.flop_counter.FlopCounterMode``'s total divided by 2 (it counts a multiply-add
as 2 FLOPs; STYLE pitfall 12). Papers that print "FLOPs" for DARTS networks mean these MACs.

What is counted is what ``FlopCounterMode`` counts: convolutions and matrix products (linear layers,
``bmm``, attention). Pooling, BatchNorm, activations, element-wise additions and bias additions are not
counted, which is the DARTS convention of counting conv/linear MACs only.

Masked networks (lottery-ticket pruning). With ``masks`` (parameter name -> bool or 0/1 tensor of the
parameter's shape) two numbers are reported, since they answer different questions (INCONSISTENCIES #33):

* ``dense_macs``: what a dense kernel executes. Unstructured sparsity does not reduce it on real hardware.
* ``sparse_macs``: multiply-adds with a kept weight. In a ``Conv1d/2d/3d`` or ``Linear`` each weight entry
  is used ``output.numel() / out_channels`` times (``B * H_out * W_out`` for a 2-d conv, grouped and
  depthwise convs included), so a layer's MACs are (kept entries) x (uses per entry), counted with forward
  hooks. ``sparse_macs = dense_macs - (MACs of the masked-out entries)``: operations outside these modules
  stay counted in full.

Masks on other tensors (biases, BatchNorm) change only the parameter count.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

Masks = Mapping[str, Tensor]
WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


@dataclass(frozen=True)
class FlopsReport:
    """Forward-pass MACs and parameter counts of one network; ``nonzero_params`` counts entries the masks keep."""

    dense_macs: int
    sparse_macs: int
    params: int
    nonzero_params: int


def count_macs(model: nn.Module, example: Tensor | Sequence[int], masks: Masks | None = None) -> int:
    """MACs of one forward pass on ``example`` (a tensor, or a shape such as ``(1, 3, 32, 32)``).

    Without ``masks`` this is the dense count; with them, multiply-adds with a kept weight (module docstring).
    """
    if masks is not None:
        _check_masks(model, masks)
    dense, uses = _forward_counts(model, example)
    return dense if masks is None else _sparse_macs(model, dense, uses, masks)


def layer_macs(model: nn.Module, example: Tensor | Sequence[int], masks: Masks | None = None) -> dict[str, int]:
    """MACs of each conv/linear weight, keyed by parameter name (e.g. ``"stem.0.weight"``), from hooks only."""
    if masks is not None:
        _check_masks(model, masks)
    _, uses = _forward_counts(model, example)
    weights = dict(model.named_parameters(remove_duplicate=False))
    masks = masks or {}
    return {name: n * _kept(weights[name], masks.get(name)) for name, n in uses.items()}


def count_params(model: nn.Module, masks: Masks | None = None) -> int:
    """Entries of all parameters of ``model``; with ``masks``, only the entries the masks keep."""
    masks = masks or {}
    if masks:
        _check_masks(model, masks)
    return sum(_kept(p, masks.get(name)) for name, p in model.named_parameters())


def flops_report(model: nn.Module, example: Tensor | Sequence[int], masks: Masks | None = None) -> FlopsReport:
    """Dense and sparse MACs, all and kept parameters (one forward pass); without ``masks`` the pairs coincide."""
    masks = masks or {}
    _check_masks(model, masks)
    dense, uses = _forward_counts(model, example)
    return FlopsReport(
        dense_macs=dense,
        sparse_macs=_sparse_macs(model, dense, uses, masks),
        params=count_params(model),
        nonzero_params=count_params(model, masks),
    )


def _sparse_macs(model: nn.Module, dense: int, uses: Mapping[str, int], masks: Masks) -> int:
    """``dense`` minus the MACs of masked-out conv/linear weight entries (``uses``: per entry, by weight name)."""
    weights = dict(model.named_parameters(remove_duplicate=False))
    masked_out = sum(n * (weights[name].numel() - _kept(weights[name], masks.get(name))) for name, n in uses.items())
    return dense - masked_out


def _forward_counts(model: nn.Module, example: Tensor | Sequence[int]) -> tuple[int, dict[str, int]]:
    """(dense MACs, uses per weight entry of each conv/linear weight by parameter name) of one forward pass."""
    x = example if isinstance(example, Tensor) else _zeros_like_input(model, example)
    uses: dict[str, int] = {}
    handles = [
        module.register_forward_hook(_use_counter(uses, _join(name, "weight")))
        for name, module in model.named_modules()
        if isinstance(module, WEIGHTED)
    ]
    try:
        with _eval_mode(model), torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return counter.get_total_flops() // 2, uses


def _use_counter(uses: dict[str, int], weight_name: str) -> Callable[[nn.Module, tuple[Tensor, ...], Tensor], None]:
    """A forward hook adding ``output.numel() / out_channels`` (uses of each weight entry) to ``uses``."""

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        uses[weight_name] = uses.get(weight_name, 0) + output.numel() // module.weight.shape[0]

    return hook


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode, then give each its own previous mode back."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _zeros_like_input(model: nn.Module, shape: Sequence[int]) -> Tensor:
    reference = next(model.parameters())
    return torch.zeros(tuple(shape), dtype=reference.dtype, device=reference.device)


def _kept(param: Tensor, mask: Tensor | None) -> int:
    return param.numel() if mask is None else int(torch.count_nonzero(mask))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_masks(model: nn.Module, masks: Masks) -> None:
    params = dict(model.named_parameters(remove_duplicate=False))
    for name, mask in masks.items():
        if name not in params:
            raise KeyError(f"mask for unknown parameter {name!r}")
        if mask.shape != params[name].shape:
            raise ValueError(f"mask {name!r} has shape {tuple(mask.shape)}, parameter {tuple(params[name].shape)}")


__all__ = ["FlopsReport", "count_macs", "count_params", "flops_report", "layer_macs"]
