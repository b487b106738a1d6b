"""The DARTS supernet: mixed ops, search cells, and the network that owns the architecture parameters.

Architecture parameters (alphas) are registered ``nn.Parameter``s kept apart from the weights
(``weights()`` / ``alphas()``, STYLE pitfall 5). Pruned paths live in boolean mask buffers: masked logits
are set to -inf before the softmax and masked ops are not computed at all (STYLE pitfall 7,
INCONSISTENCIES #38).

Two MetaNAS options (INCONSISTENCIES #15), both off by default:

* ``op_prune_threshold``: ops whose softmax weight is below the threshold are skipped in the forward
  pass (not computed, no renormalisation of the others). The comparison is on detached weights, so the
  forward stays a function of the alphas that ``torch.func`` can differentiate.
* ``pairwise_inputs``: node ``j`` gets a parameter vector over the ``C(2 + j, 2)`` pairs of its inputs and
  computes ``sum_pairs softmax(pw / T)[pair] * (edge_i1 + edge_i2)``. Pairs whose weight is below
  ``op_prune_threshold`` are skipped, and so is an edge that is in no remaining pair. The genotype keeps,
  per node, the two inputs of its strongest pair (MetaNAS's ``parse_pairwise``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import torch
from torch import Tensor, nn

from lib.darts.genotype import Genotype, derive_genotype
from lib.darts.ops import OPS, SEARCH_SPACES, FactorizedReduce, ReLUConvBN, batch_norm, drop_path, zeros_output

CELL_TYPES = ("normal", "reduce")


def resolve_reduction_cells(n_cells: int, reduction_cells: Sequence[int] | None) -> tuple[int, ...]:
    """Indices of the reduction cells; ``None`` gives the DARTS rule ``n // 3`` and ``2n // 3``."""
    if reduction_cells is None:
        return tuple(sorted({n_cells // 3, 2 * n_cells // 3}))
    cells = tuple(reduction_cells)
    if len(set(cells)) != len(cells) or any(not 0 <= i < n_cells for i in cells):
        raise ValueError(f"reduction_cells {cells} must be distinct indices in 0..{n_cells - 1}")
    return tuple(sorted(cells))


@dataclass(frozen=True)
class SearchSpec:
    """Shape of a supernet. The defaults are DARTS's; MetaNAS uses ``channel_growth=1`` (INCONSISTENCIES #15)."""

    space: str
    C: int
    n_classes: int
    n_cells: int
    n_nodes: int = 4
    in_channels: int = 3
    stem_multiplier: int = 3
    reduction_cells: tuple[int, ...] | None = None
    channel_growth: int = 2
    affine: bool = False
    track_running_stats: bool = True
    op_prune_threshold: float = 0.0
    pairwise_inputs: bool = False

    def __post_init__(self) -> None:
        if self.space not in SEARCH_SPACES:
            raise ValueError(f"unknown search space {self.space!r}; known spaces: {sorted(SEARCH_SPACES)}")
        for name in ("C", "n_classes", "n_cells", "in_channels", "stem_multiplier", "channel_growth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_nodes < 2:
            raise ValueError(f"n_nodes must be >= 2, got {self.n_nodes}")
        if not 0.0 <= self.op_prune_threshold < 1.0:
            raise ValueError(f"op_prune_threshold must be in [0, 1), got {self.op_prune_threshold}")
        if self.reduction_cells is not None:
            object.__setattr__(self, "reduction_cells", tuple(self.reduction_cells))
        resolve_reduction_cells(self.n_cells, self.reduction_cells)

    @property
    def ops(self) -> tuple[str, ...]:
        """Candidate op names, in alpha column order."""
        return SEARCH_SPACES[self.space]

    @property
    def reductions(self) -> tuple[int, ...]:
        """Indices of the reduction cells."""
        return resolve_reduction_cells(self.n_cells, self.reduction_cells)

    @property
    def n_edges(self) -> int:
        """Edges per cell: node ``j`` has ``2 + j`` inputs."""
        return self.n_nodes * (self.n_nodes + 3) // 2

    @property
    def pairs_per_node(self) -> tuple[int, ...]:
        """``C(2 + j, 2)`` input pairs of node ``j``."""
        return tuple((2 + j) * (1 + j) // 2 for j in range(self.n_nodes))


def input_pairs(n_nodes: int) -> list[tuple[int, int]]:
    """All input pairs of a cell as pairs of cell-wide edge indices, node by node.

    Node ``j``'s pairs come in MetaNAS's order (``i1 < i2`` over its ``2 + j`` inputs, ``i1`` outer), so
    entry ``k`` of a node's pairwise alphas weighs pair ``k`` of that node.
    """
    pairs, first = [], 0
    for node in range(n_nodes):
        pairs += [(first + i1, first + i2) for i1, i2 in combinations(range(2 + node), 2)]
        first += 2 + node
    return pairs


def pair_incidence(n_nodes: int) -> Tensor:
    """float (n_pairs, n_edges): 1 where the edge is one of the pair's two inputs."""
    pairs = input_pairs(n_nodes)
    incidence = torch.zeros(len(pairs), n_nodes * (n_nodes + 3) // 2)
    for k, (i1, i2) in enumerate(pairs):
        incidence[k, [i1, i2]] = 1.0
    return incidence


def _search_op(name: str, C: int, stride: int, affine: bool, track_running_stats: bool) -> nn.Module:
    """A registry op; pools get a BatchNorm after them, as in quark0's search MixedOp."""
    op = OPS[name](C, stride, affine, track_running_stats)
    if "pool" in name:
        return nn.Sequential(op, batch_norm(C, affine, track_running_stats))
    return op


class MixedOp(nn.Module):
    """One edge: the weighted sum of its candidate ops, ``(B, C, H, W) -> (B, C, H / stride, W / stride)``."""

    def __init__(self, C: int, stride: int, ops: Sequence[str], affine: bool = False,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.stride = stride
        self.ops = nn.ModuleList(_search_op(name, C, stride, affine, track_running_stats) for name in ops)
        self._computed = tuple(i for i, name in enumerate(ops) if name != "none")
        self._droppable = tuple(not isinstance(op, nn.Identity) for op in self.ops)
        self.compute_every_op = False

    def forward(self, x: Tensor, weights: Tensor, active: Sequence[bool], drop_prob: float = 0.0) -> Tensor:
        """``sum_i weights[i] * op_i(x)`` over active ops; 'none' and masked ops are never called.

        ``weights``: (n_ops,), ``active``: n_ops bools. 'none' adds exactly zero, so it is skipped; if no
        other op is active the result is zeros. Drop-path (training only) hits every op but the identity.
        With ``compute_every_op`` (the reference implementations' way, see
        :meth:`SearchNetwork.compute_every_op`) every op runs, 'none' as ``x * 0``, inactive ops with weight 0.
        """
        drop = drop_prob if self.training else 0.0
        w = weights.unbind()
        if self.compute_every_op:
            return sum((w[i] if active[i] else 0.0 * w[i]) * self._every_op_output(i, x, drop)
                       for i in range(len(self.ops)))
        out = None
        for i in self._computed:
            if not active[i]:
                continue
            y = self.ops[i](x)
            if drop and self._droppable[i]:
                y = drop_path(y, drop, True)
            out = w[i] * y if out is None else out + w[i] * y
        return zeros_output(x, self.stride) if out is None else out

    def _every_op_output(self, i: int, x: Tensor, drop: float) -> Tensor:
        """Op ``i`` on ``x`` as quark0/MetaNAS compute it: 'none' is ``x[:, :, ::s, ::s] * 0``."""
        if i not in self._computed:
            return x[:, :, :: self.stride, :: self.stride] * 0.0
        y = self.ops[i](x)
        return drop_path(y, drop, True) if drop and self._droppable[i] else y


class SearchCell(nn.Module):
    """A DARTS search cell: a DAG of ``n_nodes`` intermediate nodes fed by two cell inputs.

    ``s0`` is the output of cell k-2 and ``s1`` that of cell k-1 (the stem output stands in for both at
    the start). Each is first mapped to ``C`` channels by a 1x1 ReLUConvBN; if cell k-1 was a reduction
    cell, ``s0`` has twice the resolution of ``s1`` and a FactorizedReduce halves it instead. Node ``j``
    sums one MixedOp edge from each earlier state (the two inputs and nodes ``0..j-1``), so a cell has
    ``sum_j (2 + j)`` edges, ordered node by node like the rows of the alphas. In a reduction cell the
    edges that read the cell inputs have stride 2.

    ``s0``: (B, C_pp, H0, W0), ``s1``: (B, C_p, H, W) -> (B, n_nodes * C, H / r, W / r), r = 2 if reducing.
    """

    def __init__(self, n_nodes: int, C_pp: int, C_p: int, C: int, reduction: bool, reduction_prev: bool,
                 ops: Sequence[str], affine: bool = False, track_running_stats: bool = True) -> None:
        super().__init__()
        self.reduction = reduction
        self.n_nodes = n_nodes
        if reduction_prev:
            self.preproc0: nn.Module = FactorizedReduce(C_pp, C, affine, track_running_stats)
        else:
            self.preproc0 = ReLUConvBN(C_pp, C, 1, 1, 0, affine, track_running_stats)
        self.preproc1 = ReLUConvBN(C_p, C, 1, 1, 0, affine, track_running_stats)
        self.edges = nn.ModuleList(
            MixedOp(C, 2 if reduction and i < 2 else 1, ops, affine, track_running_stats)
            for node in range(n_nodes) for i in range(2 + node)
        )

    def forward(self, s0: Tensor, s1: Tensor, weights: Tensor, active: Sequence[Sequence[bool]],
                drop_prob: float = 0.0, edge_scale: Tensor | None = None) -> Tensor:
        """``weights``: (n_edges, n_ops) softmax weights; ``active``: n_edges rows of n_ops bools.

        ``edge_scale``: optional (n_edges,) factor per edge. With pairwise input weights ``w_p`` it is
        ``sum_{p containing i} w_p``, because ``sum_p w_p (e_i1 + e_i2) = sum_i (sum_{p containing i} w_p) e_i``.
        """
        states = [self.preproc0(s0), self.preproc1(s1)]
        w = weights.unbind()
        scale = edge_scale.unbind() if edge_scale is not None else None
        first = 0
        for _ in range(self.n_nodes):
            inputs = [self.edges[first + i](s, w[first + i], active[first + i], drop_prob)
                      for i, s in enumerate(states)]
            if scale is not None:
                inputs = [scale[first + i] * y for i, y in enumerate(inputs)]
            first += len(states)
            states.append(sum(inputs[1:], inputs[0]))
        return torch.cat(states[2:], dim=1)


class SearchNetwork(nn.Module):
    """The supernet: stem, search cells, global average pool, linear classifier.

    ``alpha_normal`` / ``alpha_reduce``: (n_edges, n_ops) parameters shared by all cells of a type;
    ``mask_normal`` / ``mask_reduce``: bool buffers of the same shape, True = active path. With
    ``spec.pairwise_inputs`` also ``alpha_pw_normal`` / ``alpha_pw_reduce``: (n_pairs,) parameters, the
    per-node pair vectors concatenated node by node (see :func:`input_pairs`).
    """

    def __init__(self, spec: SearchSpec) -> None:
        super().__init__()
        self.spec = spec
        self.ops = spec.ops
        self.drop_path_prob = 0.0
        C_stem = spec.stem_multiplier * spec.C
        self.stem = nn.Sequential(
            nn.Conv2d(spec.in_channels, C_stem, 3, padding=1, bias=False),
            batch_norm(C_stem, True, spec.track_running_stats),
        )
        self.cells = nn.ModuleList()
        C_pp, C_p, C = C_stem, C_stem, spec.C
        reduction_prev = False
        for index in range(spec.n_cells):
            reduction = index in spec.reductions
            C = C * spec.channel_growth if reduction else C
            self.cells.append(SearchCell(spec.n_nodes, C_pp, C_p, C, reduction, reduction_prev, spec.ops,
                                         spec.affine, spec.track_running_stats))
            reduction_prev = reduction
            C_pp, C_p = C_p, spec.n_nodes * C
        self.classifier = nn.Linear(C_p, spec.n_classes)
        shape = (spec.n_edges, len(spec.ops))
        self.alpha_normal = nn.Parameter(1e-3 * torch.randn(shape))
        self.alpha_reduce = nn.Parameter(1e-3 * torch.randn(shape))
        self.register_buffer("mask_normal", torch.ones(shape, dtype=torch.bool))
        self.register_buffer("mask_reduce", torch.ones(shape, dtype=torch.bool))
        if spec.pairwise_inputs:
            n_pairs = sum(spec.pairs_per_node)
            self.alpha_pw_normal = nn.Parameter(1e-3 * torch.randn(n_pairs))
            self.alpha_pw_reduce = nn.Parameter(1e-3 * torch.randn(n_pairs))
            self.register_buffer("pair_incidence", pair_incidence(spec.n_nodes), persistent=False)

    def forward(self, x: Tensor, temperature: float = 1.0) -> Tensor:
        """``x``: (B, in_channels, H, W) -> logits (B, n_classes); op weights are softmax(alpha / temperature).

        Ops (and, with pairwise inputs, pairs) below ``spec.op_prune_threshold`` are not computed.
        """
        weights, pairs = self.edge_weights(temperature), self._pair_weights_or_none(temperature)
        threshold = self.spec.op_prune_threshold
        active = {t: self._active(t, weights[t], pairs[t], threshold).tolist() for t in CELL_TYPES}
        scale = {t: None if pairs[t] is None else self._edge_scale(pairs[t], threshold) for t in CELL_TYPES}
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            kind = "reduce" if cell.reduction else "normal"
            s0, s1 = s1, cell(s0, s1, weights[kind], active[kind], self.drop_path_prob, scale[kind])
        return self.classifier(s1.mean(dim=(2, 3)))

    def compute_every_op(self, enabled: bool = True) -> "SearchNetwork":
        """Compute every candidate op of every edge, as the reference implementations do (in place).

        Masked paths and ops below ``spec.op_prune_threshold`` still get weight 0 in the mixture (the
        softmax masking is unchanged), but they are computed, and 'none' is computed as ``x * 0``. The
        logits equal those of the default (skipping) forward; only time and memory differ. LNAS Sec. 5.3
        measures this mode as what path pruning costs without skipping.
        """
        for module in self.modules():
            if isinstance(module, MixedOp):
                module.compute_every_op = enabled
        return self

    def pair_weights(self, temperature: float = 1.0) -> dict[str, Tensor]:
        """Per cell type, (n_pairs,) pairwise input weights: a softmax of ``alpha_pw / temperature`` per node."""
        if not self.spec.pairwise_inputs:
            raise ValueError("this supernet has no pairwise input alphas (SearchSpec.pairwise_inputs=False)")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        return {
            t: torch.cat([torch.softmax(a / temperature, dim=0)
                          for a in getattr(self, f"alpha_pw_{t}").split(self.spec.pairs_per_node)])
            for t in CELL_TYPES
        }

    def active_ops(self, temperature: float = 1.0, threshold: float | None = None) -> dict[str, Tensor]:
        """Per cell type, bool (n_edges, n_ops): the ops a forward pass at ``temperature`` computes.

        An op is active if its path mask allows it, its softmax weight is >= ``threshold`` (default
        ``spec.op_prune_threshold``) and, with pairwise inputs, its edge is in a pair whose weight is
        >= ``threshold``. 'none' counts as active where allowed, although it is never computed.
        """
        threshold = self.spec.op_prune_threshold if threshold is None else threshold
        with torch.no_grad():
            weights, pairs = self.edge_weights(temperature), self._pair_weights_or_none(temperature)
            return {t: self._active(t, weights[t], pairs[t], threshold) for t in CELL_TYPES}

    def _pair_weights_or_none(self, temperature: float) -> dict[str, Tensor | None]:
        """:meth:`pair_weights`, or None per cell type without pairwise inputs."""
        return self.pair_weights(temperature) if self.spec.pairwise_inputs else dict.fromkeys(CELL_TYPES)

    def _active(self, cell_type: str, weights: Tensor, pairs: Tensor | None, threshold: float) -> Tensor:
        """bool (n_edges, n_ops) from detached (n_edges, n_ops) op weights and optional (n_pairs,) pair weights."""
        active = getattr(self, f"mask_{cell_type}") & (weights.detach() >= threshold)
        if pairs is not None:
            reached = (pairs.detach() >= threshold).to(self.pair_incidence.dtype) @ self.pair_incidence > 0
            active = active & reached.unsqueeze(1)
        return active

    def _edge_scale(self, pairs: Tensor, threshold: float) -> Tensor:
        """(n_edges,) summed weight of the pairs (>= ``threshold``) each edge belongs to."""
        kept = (pairs.detach() >= threshold).to(pairs.dtype)
        return (pairs * kept) @ self.pair_incidence.to(pairs.dtype)

    def edge_weights(self, temperature: float = 1.0) -> dict[str, Tensor]:
        """Per cell type, (n_edges, n_ops) softmax of ``alpha / temperature`` with masked entries at -inf."""
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        return {
            t: torch.softmax(getattr(self, f"alpha_{t}").masked_fill(~getattr(self, f"mask_{t}"), float("-inf"))
                             / temperature, dim=-1)
            for t in CELL_TYPES
        }

    def set_path_mask(self, cell_type: str, mask: Tensor) -> None:
        """Replace the path mask of ``cell_type`` ("normal" | "reduce") with a bool (n_edges, n_ops) tensor.

        Every edge must keep at least one active op (it may be 'none' alone, which zeroes the edge).
        """
        if cell_type not in CELL_TYPES:
            raise ValueError(f"cell_type must be one of {CELL_TYPES}, got {cell_type!r}")
        if mask.dtype != torch.bool:
            raise TypeError(f"path mask must be a bool tensor, got {mask.dtype}")
        expected = (self.spec.n_edges, len(self.ops))
        if tuple(mask.shape) != expected:
            raise ValueError(f"path mask has shape {tuple(mask.shape)}, expected {expected} (n_edges, n_ops)")
        dead = (~mask.any(dim=1)).nonzero().flatten().tolist()
        if dead:
            raise ValueError(f"{cell_type} edges {dead} would have no active op; keep at least one per edge")
        getattr(self, f"mask_{cell_type}").copy_(mask)

    def derivation_weights(self) -> dict[str, Tensor]:
        """Per cell type, the detached (n_edges, n_ops) weights the derivation ranks by: the softmax of ``alpha``
        over *all* ops (DARTS's rule), path-masked entries set to 0. Without masks it is :meth:`edge_weights`.

        Not the masked softmax: where path pruning leaves an edge one op, that op's masked weight is exactly 1
        on every such edge, and each node's choice of inputs would be a tie decided by input order.
        """
        with torch.no_grad():
            return {t: torch.softmax(getattr(self, f"alpha_{t}"), dim=-1) * getattr(self, f"mask_{t}")
                    for t in CELL_TYPES}

    def genotype(self) -> Genotype:
        """The discrete cells under quark0's rules (edges ranked by :meth:`derivation_weights`), never
        choosing a masked op.

        With pairwise inputs each node takes the two inputs of its strongest pair (MetaNAS's
        ``parse_pairwise``), each with its best active op; otherwise its two strongest edges.
        """
        with torch.no_grad():
            weights = self.derivation_weights()
            eligible = {t: getattr(self, f"mask_{t}") for t in CELL_TYPES}
            if self.spec.pairwise_inputs:
                pairs = self.pair_weights()
                eligible = {t: eligible[t] & self._best_pair_edges(pairs[t]).unsqueeze(1) for t in CELL_TYPES}
        return derive_genotype(weights["normal"], weights["reduce"], self.ops, self.spec.n_nodes,
                               eligible["normal"], eligible["reduce"])

    def _best_pair_edges(self, pairs: Tensor) -> Tensor:
        """bool (n_edges,): the two inputs of each node's highest-weight pair."""
        best = [first + int(w.argmax()) for first, w in zip(_offsets(self.spec.pairs_per_node),
                                                               pairs.split(self.spec.pairs_per_node))]
        return self.pair_incidence[best].sum(dim=0) > 0

    def named_alphas(self) -> list[tuple[str, nn.Parameter]]:
        """``[("alpha_normal", ...), ("alpha_reduce", ...)]``, then ``alpha_pw_*`` with pairwise inputs."""
        names = [f"alpha_{t}" for t in CELL_TYPES]
        if self.spec.pairwise_inputs:
            names += [f"alpha_pw_{t}" for t in CELL_TYPES]
        return [(name, getattr(self, name)) for name in names]

    def alphas(self) -> list[nn.Parameter]:
        """The architecture parameters: keep them out of the weight optimizer, decay and clipping."""
        return [p for _, p in self.named_alphas()]

    def named_weights(self) -> list[tuple[str, nn.Parameter]]:
        """All named parameters except the alphas."""
        alpha_names = {name for name, _ in self.named_alphas()}
        return [(name, p) for name, p in self.named_parameters() if name not in alpha_names]

    def weights(self) -> list[nn.Parameter]:
        """All parameters except the alphas."""
        return [p for _, p in self.named_weights()]


def _offsets(sizes: Sequence[int]) -> list[int]:
    """Start index of each block of a concatenation of blocks of ``sizes``."""
    return [sum(sizes[:i]) for i in range(len(sizes))]
