"""Non-finite values stop a run: :func:`check_finite` raises :class:`Diverged`, and ``results.cached`` turns
that into a record whose ``status`` is ``"diverged"`` (with where it happened), never a table of NaN.

The training loops call ``check_finite`` where a value is cheap to read: in the search, the loss and the
architecture parameters of every step with one device read (:func:`check_finite_tensors`; a non-finite
alpha must stop the search at once, since it would mask every op of the next step); in retraining, the
epoch's mean loss (the step losses are summed on the device, so one non-finite step makes it non-finite);
all weights at the end of each epoch; and the meta-parameters after each Reptile update. A leaf module (torch only), so the science
layer may call it like :mod:`lib.pipeline.atomic`.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor


class Diverged(ArithmeticError):
    """A run produced a non-finite value. ``where``: the point of the run (``"search epoch 2 step 7"``);
    ``what``: the value (``"train loss = nan"``)."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"diverged at {where}: {what}")
        self.where, self.what = where, what

    def within(self, outer: str) -> "Diverged":
        """The same divergence with ``outer`` prepended to ``where`` (a caller adds its own position)."""
        return Diverged(f"{outer}, {self.where}", self.what)


def _non_finite(value: Any) -> tuple[int, int]:
    """(non-finite count, total count) of a number, a tensor, or an iterable/mapping of them."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            return 0, value.numel()
        return int((~torch.isfinite(value.detach())).sum()), value.numel()
    if isinstance(value, (int, float)):
        return (0 if math.isfinite(value) else 1), 1
    if isinstance(value, Mapping):
        value = value.values()
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        counts = [_non_finite(v) for v in value]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)
    return 0, 0


def check_finite(name: str, value: Any, where: str) -> None:
    """Raise :class:`Diverged` if ``value`` (a float, a tensor, parameters, a dict of them) holds NaN or inf."""
    if isinstance(value, Mapping):  # name the entry: "meta-training metrics query_ce = nan"
        for key, entry in value.items():
            check_finite(f"{name} {key}", entry, where)
        return
    bad, total = _non_finite(value)
    if bad:
        shown = f"{name} = {value}" if isinstance(value, (int, float)) else f"{name}: {bad} of {total} values non-finite"
        raise Diverged(where, shown)


def check_finite_tensors(values: Mapping[str, Tensor | Iterable[Tensor]], where: str) -> None:
    """:func:`check_finite` of each named tensor (or tensors) with one device read when all are finite.

    The flag is computed on the tensors' device and read once (one GPU sync, instead of one per value);
    only when something is non-finite is each value checked by name for the message.
    """
    tensors = [t.detach() for v in values.values() for t in ([v] if isinstance(v, Tensor) else v)]
    if bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all()):
        return
    for name, value in values.items():
        check_finite(name, value, where)


def null_non_finite(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """``value`` (plain JSON-like data) with every NaN/inf replaced by None, and the paths where it did so."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, [path or "value"]
    if isinstance(value, Mapping):
        pairs = [(k, null_non_finite(v, f"{path}.{k}" if path else str(k))) for k, v in value.items()]
        return {k: v for k, (v, _) in pairs}, [p for _, (_, found) in pairs for p in found]
    if isinstance(value, (list, tuple)):
        items = [null_non_finite(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], [p for _, found in items for p in found]
    return value, []
