"""The weight mask: which entries of which weights survive pruning.

Prunable tensors are the ``weight`` of every ``Conv1d/2d/3d`` and ``Linear`` module, stem and classifier
(and an auxiliary head) included: the report prunes "p parameters of the model" (LNAS Sec. 5.1) and names
no exception (NNI's default op types, open_lth's default). The classifier is under 0.2% of a DARTS
network's weights, so leaving it out (``exclude=("classifier.weight",)``) hardly changes the count; with
global scope it should be left out (``lib.pruning.weights``). Never prunable: BatchNorm parameters,
biases, the DARTS alphas (not module weights), buffers.
"""

from collections.abc import Iterable

import torch
from torch import Tensor, nn

PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def prunable_weights(model: nn.Module, exclude: Iterable[str] = ()) -> dict[str, nn.Parameter]:
    """Conv/linear weights by parameter name (e.g. ``"cells.0.preproc0.op.1.weight"``), minus ``exclude``."""
    excluded = set(exclude)
    weights = {f"{name}.weight" if name else "weight": module.weight
               for name, module in model.named_modules() if isinstance(module, PRUNABLE)}
    unknown = excluded - set(weights)
    if unknown:
        raise KeyError(f"exclude names {sorted(unknown)} that are not prunable weights of the model")
    return {name: w for name, w in weights.items() if name not in excluded}


class Mask(dict[str, Tensor]):
    """Parameter name -> bool tensor of that parameter's shape; True = the entry survives.

    Entries are checked on construction and assignment. Only the pruned tensors are keys; ``sparsity``
    and ``density`` are fractions of their entries. A ``Mask`` is a plain mapping, so it can be passed as
    ``masks=`` to ``lib.darts.flops``.
    """

    def __init__(self, masks: dict[str, Tensor] | None = None) -> None:
        super().__init__()
        for name, mask in (masks or {}).items():
            self[name] = mask

    def __setitem__(self, name: str, mask: Tensor) -> None:
        if not isinstance(name, str) or not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            found = f"{type(name).__name__} -> {getattr(mask, 'dtype', type(mask).__name__)}"
            raise TypeError(f"a Mask maps str -> bool Tensor, got {found}")
        super().__setitem__(name, mask)

    @classmethod
    def ones_like(cls, model: nn.Module, exclude: Iterable[str] = ()) -> "Mask":
        """All-True masks for :func:`prunable_weights` of ``model``, on each weight's device."""
        return cls({name: torch.ones_like(w, dtype=torch.bool) for name, w in prunable_weights(model, exclude).items()})

    @property
    def total(self) -> int:
        """Entries of all masked tensors."""
        return sum(m.numel() for m in self.values())

    @property
    def unpruned(self) -> int:
        """Surviving entries."""
        return sum(int(m.sum()) for m in self.values())

    @property
    def density(self) -> float:
        """Fraction of entries that survive."""
        return self.unpruned / self.total

    @property
    def sparsity(self) -> float:
        """Fraction of entries that are pruned."""
        return 1.0 - self.density

    def per_layer_sparsity(self) -> dict[str, float]:
        """Pruned fraction of each tensor, by parameter name."""
        return {name: 1.0 - int(m.sum()) / m.numel() for name, m in self.items()}

    def check(self, model: nn.Module) -> None:
        """Raise if a key is not a parameter of ``model`` or a mask's shape differs from its parameter's."""
        params = dict(model.named_parameters())
        for name, mask in self.items():
            if name not in params:
                raise KeyError(f"mask for unknown parameter {name!r}")
            if mask.shape != params[name].shape:
                raise ValueError(f"mask {name!r} has shape {tuple(mask.shape)}, parameter {tuple(params[name].shape)}")

    def is_nested_in(self, other: "Mask") -> bool:
        """Same keys, and every entry surviving here also survives in ``other``."""
        return self.keys() == other.keys() and all(bool((m <= other[k]).all()) for k, m in self.items())
