"""The discrete network built from a genotype, trained from scratch (quark0's NetworkCIFAR semantics)."""

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lib.darts.genotype import INPUTS_PER_NODE, Genotype
from lib.darts.ops import OPS, FactorizedReduce, ReLUConvBN, drop_path
from lib.darts.search import resolve_reduction_cells


class DiscreteCell(nn.Module):
    """A cell from a genotype: each node sums two ops, each applied to one earlier state.

    ``s0`` / ``s1`` are the outputs of cells k-2 / k-1, preprocessed as in :class:`SearchCell`.
    ``s0``: (B, C_pp, H0, W0), ``s1``: (B, C_p, H, W) -> (B, len(concat) * C, H / r, W / r), r = 2 if reducing.
    """

    def __init__(self, genotype: Genotype, C_pp: int, C_p: int, C: int, reduction: bool,
                 reduction_prev: bool) -> None:
        super().__init__()
        gene, self.concat = ((genotype.reduce, genotype.reduce_concat) if reduction
                             else (genotype.normal, genotype.normal_concat))
        self.reduction = reduction
        self.preproc0 = FactorizedReduce(C_pp, C) if reduction_prev else ReLUConvBN(C_pp, C, 1, 1, 0)
        self.preproc1 = ReLUConvBN(C_p, C, 1, 1, 0)
        self.inputs = tuple(index for _, index in gene)
        self.ops = nn.ModuleList(OPS[name](C, 2 if reduction and index < 2 else 1, True) for name, index in gene)
        self._droppable = tuple(not isinstance(op, nn.Identity) for op in self.ops)

    def forward(self, s0: Tensor, s1: Tensor, drop_prob: float = 0.0) -> Tensor:
        """Drop-path with ``drop_prob`` on every non-identity op, in training only (STYLE pitfall 4)."""
        drop = drop_prob if self.training else 0.0
        states = [self.preproc0(s0), self.preproc1(s1)]
        for first in range(0, len(self.ops), INPUTS_PER_NODE):
            a, b = (self._edge(e, states[self.inputs[e]], drop) for e in (first, first + 1))
            states.append(a + b)
        return torch.cat([states[i] for i in self.concat], dim=1)

    def _edge(self, e: int, x: Tensor, drop: float) -> Tensor:
        y = self.ops[e](x)
        return drop_path(y, drop, True) if drop and self._droppable[e] else y


class AuxiliaryHead(nn.Sequential):
    """quark0's CIFAR auxiliary classifier: (B, C, H, W) with H, W >= 8 (8x8 on CIFAR) -> (B, n_classes).

    A global average pool before the classifier lets it take maps larger than 8x8 (few-shot: 14x14).
    """

    def __init__(self, C: int, n_classes: int) -> None:
        super().__init__(
            nn.ReLU(),
            nn.AvgPool2d(5, stride=3, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(768, n_classes),
        )


class DiscreteNetwork(nn.Module):
    """Stem, genotype cells (affine BatchNorm), global average pool, linear classifier.

    Channels multiply by ``channel_growth`` at each reduction cell (1 for MetaNAS, INCONSISTENCIES #15).
    ``drop_path_prob`` is a plain attribute so a schedule can change it between epochs. With
    ``auxiliary``, a head after cell ``2 * n_cells // 3`` also returns logits in training.
    """

    def __init__(self, genotype: Genotype, C: int, n_classes: int, n_cells: int, in_channels: int = 3,
                 stem_multiplier: int = 3, reduction_cells: Sequence[int] | None = None, channel_growth: int = 2,
                 drop_path_prob: float = 0.0, auxiliary: bool = False) -> None:
        super().__init__()
        self.drop_path_prob = drop_path_prob
        self.aux_index = 2 * n_cells // 3
        reductions = resolve_reduction_cells(n_cells, reduction_cells)
        C_stem = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C_stem, 3, padding=1, bias=False), nn.BatchNorm2d(C_stem))
        self.cells = nn.ModuleList()
        self.auxiliary_head: AuxiliaryHead | None = None
        C_pp, C_p = C_stem, C_stem
        reduction_prev = False
        for index in range(n_cells):
            reduction = index in reductions
            C = C * channel_growth if reduction else C
            cell = DiscreteCell(genotype, C_pp, C_p, C, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            C_pp, C_p = C_p, len(cell.concat) * C
            if auxiliary and index == self.aux_index:
                self.auxiliary_head = AuxiliaryHead(C_p, n_classes)
        self.classifier = nn.Linear(C_p, n_classes)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """``x``: (B, in_channels, H, W) -> logits (B, n_classes); (logits, aux logits) in auxiliary training."""
        aux = None
        s0 = s1 = self.stem(x)
        for index, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if index == self.aux_index and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(s1.mean(dim=(2, 3)))
        return logits if aux is None else (logits, aux)
