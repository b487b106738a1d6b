"""Genotypes: the discrete cells derived from a supernet, their text form, and the derivation rules.

The format is quark0's: each cell is a flat list of ``(op_name, input_index)`` pairs, two per
intermediate node (node ``j`` owns entries ``2j`` and ``2j + 1``; inputs 0 and 1 are the cell inputs,
input ``2 + i`` is node ``i``), and ``*_concat`` lists the states concatenated into the cell output.
"""

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lib.darts.ops import OPS

Gene = tuple[tuple[str, int], ...]
INPUTS_PER_NODE = 2
# Fills a node slot when fewer than two eligible edges remain (see derive_genotype): a zero input.
EMPTY_SLOT = ("none", 0)


@dataclass(frozen=True)
class Genotype:
    """Normal and reduction cells; lists given by the caller are stored as tuples."""

    normal: Gene
    normal_concat: tuple[int, ...]
    reduce: Gene
    reduce_concat: tuple[int, ...]

    def __post_init__(self) -> None:
        for name in ("normal", "reduce"):
            gene = tuple((str(op), int(i)) for op, i in getattr(self, name))
            concat = tuple(int(i) for i in getattr(self, f"{name}_concat"))
            _validate_cell(name, gene, concat)
            object.__setattr__(self, name, gene)
            object.__setattr__(self, f"{name}_concat", concat)

    @property
    def n_nodes(self) -> int:
        """Intermediate nodes per cell."""
        return len(self.normal) // INPUTS_PER_NODE

    def to_string(self) -> str:
        """quark0-style text, e.g. ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3], ...)``."""
        return (f"Genotype(normal={list(self.normal)!r}, normal_concat={list(self.normal_concat)!r}, "
                f"reduce={list(self.reduce)!r}, reduce_concat={list(self.reduce_concat)!r})")

    @classmethod
    def from_string(cls, text: str) -> "Genotype":
        """Parse :meth:`to_string` output or a published quark0 genotype (``range(2, 6)`` allowed); no eval."""
        try:
            call = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as err:
            raise ValueError(f"not a genotype: {text!r}") from err
        func = getattr(call, "func", None)
        if not isinstance(call, ast.Call) or getattr(func, "attr", getattr(func, "id", None)) != "Genotype":
            raise ValueError(f"expected 'Genotype(...)', got {text!r}")
        fields = ("normal", "normal_concat", "reduce", "reduce_concat")
        values = dict(zip(fields, (_literal(a) for a in call.args)))
        values.update({kw.arg: _literal(kw.value) for kw in call.keywords})
        if sorted(values) != sorted(fields):
            raise ValueError(f"a genotype needs exactly the fields {fields}, got {sorted(values)}")
        return cls(**values)


def _literal(node: ast.expr) -> Any:
    """A Python literal, or ``range(a[, b])`` with literal ints, from an AST node."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "range" and not node.keywords:
        return tuple(range(*(ast.literal_eval(a) for a in node.args)))
    return ast.literal_eval(node)


def _validate_cell(name: str, gene: Gene, concat: tuple[int, ...]) -> None:
    """Check op names, two entries per node, input indices, and concat indices."""
    if not gene or len(gene) % INPUTS_PER_NODE:
        raise ValueError(f"{name}: need {INPUTS_PER_NODE} (op, input) pairs per node, got {len(gene)} pairs")
    n_nodes = len(gene) // INPUTS_PER_NODE
    for position, (op, index) in enumerate(gene):
        if op not in OPS:
            raise ValueError(f"{name}: unknown op {op!r}; known ops: {sorted(OPS)}")
        node = position // INPUTS_PER_NODE
        if not 0 <= index < 2 + node:
            raise ValueError(f"{name}: node {node} cannot take input {index} (valid: 0..{1 + node})")
    if not concat or any(not 2 <= i < 2 + n_nodes for i in concat):
        raise ValueError(f"{name}_concat {concat} must name intermediate nodes 2..{1 + n_nodes}")


def derive_genotype(weights_normal: Tensor, weights_reduce: Tensor, ops: Sequence[str], n_nodes: int,
                    active_normal: Tensor | None = None, active_reduce: Tensor | None = None) -> Genotype:
    """Discretise softmax edge weights with quark0's rules (STYLE pitfall 2).

    ``weights_*``: (n_edges, n_ops) softmax over *all* ops, 'none' included, edges ordered node by node
    (node ``j`` has ``2 + j`` incoming edges). ``active_*``: optional bool (n_edges, n_ops) path masks
    (INCONSISTENCIES #38: masked ops are never chosen). An edge's strength is its best active non-'none'
    weight; each node keeps its two strongest edges (strongest first) with that best op. An edge with no
    active non-'none' op is never chosen; a node with fewer than two such edges keeps those it has and
    fills the rest with ``EMPTY_SLOT`` (a 'none' op, i.e. a zero input) to keep the two-per-node format.
    """
    concat = tuple(range(2, 2 + n_nodes))
    return Genotype(_derive_cell(weights_normal, active_normal, ops, n_nodes), concat,
                    _derive_cell(weights_reduce, active_reduce, ops, n_nodes), concat)


def _derive_cell(weights: Tensor, active: Tensor | None, ops: Sequence[str], n_nodes: int) -> Gene:
    """One cell's gene from (n_edges, n_ops) weights and an optional bool mask of the same shape."""
    n_edges = n_nodes * (n_nodes + 3) // 2
    if weights.shape != (n_edges, len(ops)):
        raise ValueError(f"weights have shape {tuple(weights.shape)}, expected ({n_edges}, {len(ops)})")
    eligible = torch.tensor([op != "none" for op in ops], device=weights.device).expand(n_edges, -1)
    if active is not None:
        eligible = eligible & active.to(device=weights.device, dtype=torch.bool)
    best_weight, best_op = weights.detach().masked_fill(~eligible, float("-inf")).max(dim=1)
    has_op, best_weight, best_op = eligible.any(dim=1).tolist(), best_weight.tolist(), best_op.tolist()
    gene: list[tuple[str, int]] = []
    first = 0
    for node in range(n_nodes):
        edges = [first + i for i in range(2 + node) if has_op[first + i]]
        kept = sorted(edges, key=lambda e: -best_weight[e])[:INPUTS_PER_NODE]
        gene += [(ops[best_op[e]], e - first) for e in kept]
        gene += [EMPTY_SLOT] * (INPUTS_PER_NODE - len(kept))
        first += 2 + node
    return tuple(gene)
