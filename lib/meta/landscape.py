"""LAMANAS Figure 3: a learned loss network evaluated as a function of two logits (INCONSISTENCIES #29-31).

The values only; the panels are drawn by ``lib/plots/landscape.py``.

Both recipes reduce the loss network's first layer W1 (hidden, width) -- ``fc1`` of the FNN, ``fcz`` of
the LSTM -- whose columns are the ``n_classes`` logits followed by the label input (one float class-index
column, or ``n_classes`` one-hot columns; #17a).

``recipe="ours"`` (default) is an exact slice of the loss function:

* the plane is spanned by the top-2 right singular vectors v1, v2 of the *logit block* W1[:, :n_classes],
  centred over its rows, from ``torch.linalg.svd`` (exact, no randomness); each vector's sign is fixed so
  that its largest-magnitude entry is positive (#31);
* a grid point (z1, z2) is the logit vector ``z = z1 v1 + z2 v2`` (n_classes,), evaluated with a fixed label
  ``y``: the value is the network's own per-example loss ``L_phi(z, y)``. The label enters through the label
  columns in the network's own encoding (index or one-hot), and the residual is the network's
  n_classes-way cross-entropy of ``z``; nothing is projected that is not a logit;
* the image is oriented so that the horizontal axis varies z1 (#30 fixed).

``recipe="authors"`` is ``metanas_main.pca_viz``, the code that drew the paper's panels (#29):

* a randomized, centred ``torch.pca_lowrank(W1, q=min(6, *W1.shape), center=True, niter=3)`` over the whole
  W1 (label columns included), under a fixed ``seed`` here (#31);
* W1 is replaced by ``W1 V[:, :3]`` (hidden, 3) with the bias unchanged; the three inputs are (z1, z2, label),
  with the label a random 0/1 drawn independently at every grid point and fed as a raw number whatever
  the network's encoding (as in ``pca_viz``, written for the index encoding);
* the residual is the 2-class cross-entropy of (z1, z2); for the LSTM the initial states are that 0/1 label;
* grid ``linspace(-1e4, 1e4, 200)``, values divided by 1e4, and the transposed image (#30 reproduced).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib.meta.losses import FNNLoss, LSTMLoss, build_loss, encode_labels

Recipe = Literal["ours", "authors"]
LossNet = FNNLoss | LSTMLoss


@dataclass(frozen=True)
class RecipeDefaults:
    """Grid half-width, points per axis, the divisor of the plotted values, and whether the image is transposed."""

    extent: float
    resolution: int
    scale: float
    transpose: bool


RECIPES: dict[str, RecipeDefaults] = {
    "ours": RecipeDefaults(extent=10.0, resolution=101, scale=1.0, transpose=False),
    "authors": RecipeDefaults(extent=1e4, resolution=200, scale=1e4, transpose=True),
}


@dataclass(frozen=True)
class Landscape:
    """Values on a square grid, ready for ``contourf(x, y, z)``.

    ``x``, ``y``: (G,) grid axes. ``z``: (G, G) the loss network; ``ce``: (G, G) the cross-entropy on exactly
    the same inputs (same logits, labels and scale), for comparison. Unless ``transposed``, ``z[j, i]`` is the
    value at (z1, z2) = (x[i], y[j]); with ``transposed`` (the authors' image, #30) it is the value at
    (x[j], y[i]).
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    ce: np.ndarray
    recipe: str
    transposed: bool


def first_layer(net: LossNet) -> nn.Linear:
    """The layer Figure 3 reduces: ``fc1`` of the FNN, the embedding ``fcz`` of the LSTM."""
    if isinstance(net, FNNLoss):
        return net.fc1
    if isinstance(net, LSTMLoss):
        return net.fcz
    raise TypeError(f"expected an FNNLoss or LSTMLoss, got {type(net).__name__}")


def _centred_logit_block(weight: Tensor, n_classes: int) -> Tensor:
    """(hidden, width) -> (hidden, n_classes) in float64, each column minus its mean over the hidden units."""
    block = weight[:, :n_classes].detach().double()
    return block - block.mean(dim=0, keepdim=True)


def logit_singular_values(weight: Tensor, n_classes: int) -> Tensor:
    """(hidden, width) -> (min(hidden, n_classes),) singular values of the centred logit block, descending.

    The plane of :func:`exact_basis` is well defined only if the second exceeds the third clearly; with the
    orthogonal initialisation they are all about equal (#31), and a tiny change of phi can turn the plane.
    """
    return torch.linalg.svdvals(_centred_logit_block(weight, n_classes))


def exact_basis(weight: Tensor, n_classes: int, k: int = 2) -> Tensor:
    """(hidden, width) -> (n_classes, k): top-k right singular vectors of the centred logit block, signs fixed."""
    _, _, vh = torch.linalg.svd(_centred_logit_block(weight, n_classes), full_matrices=False)
    basis = vh[:k].T
    peak = basis.abs().argmax(dim=0)
    signs = torch.sign(basis[peak, torch.arange(k)])
    return (basis * signs).to(weight.dtype)


def authors_basis(weight: Tensor, seed: int, k: int = 3) -> Tensor:
    """(hidden, width) -> (width, k): the first k columns of V from the authors' randomized, centred PCA."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, _, v = torch.pca_lowrank(weight, q=min(6, *weight.shape), center=True, niter=3)
    return v[:, :k]


def per_example(net: LossNet, pre: Tensor, labels: Tensor, residual: Tensor) -> Tensor:
    """The network after its first layer, one loss per example before the batch mean.

    ``pre``: (N, hidden) first-layer outputs; ``labels``: int64 (N,) (the LSTM's initial states);
    ``residual``: (N,) added where the network adds its cross-entropy residual (zeros without one). -> (N,).
    """
    r = residual.unsqueeze(1) if net.residual else torch.zeros_like(residual).unsqueeze(1)
    if isinstance(net, FNNLoss):
        return net.fc2(F.elu(pre + r)).squeeze(1)
    state = net.initial_state(labels)
    with torch.backends.cudnn.flags(enabled=False):
        out, _ = net.lstm(F.elu(pre).unsqueeze(0), (state, state))
    return net.fc2(F.elu(net.fc1(out.squeeze(0)) + r)).squeeze(1)


def _ours(net: LossNet, z1: Tensor, z2: Tensor, label: int, basis: Tensor) -> tuple[Tensor, Tensor]:
    """Flat grid coordinates (M,) -> (loss, cross-entropy) (M,) on the plane of ``basis`` (n_classes, 2)."""
    logits = torch.stack([z1, z2], dim=1) @ basis.T
    labels = torch.full_like(z1, label, dtype=torch.long)
    pre = first_layer(net)(torch.cat([logits, encode_labels(labels, net.n_classes, net.label_encoding)], dim=1))
    ce = F.cross_entropy(logits, labels, reduction="none")
    return per_example(net, pre, labels, ce), ce


def _authors(net: LossNet, z1: Tensor, z2: Tensor, seed: int) -> tuple[Tensor, Tensor]:
    """Flat grid coordinates (M,) -> (loss, cross-entropy) (M,) as ``pca_viz`` computes them (unscaled)."""
    layer = first_layer(net)
    projected = layer.weight @ authors_basis(layer.weight, seed)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, z1.shape, generator=generator)
    two_logits = torch.stack([z1, z2], dim=1)
    pre = torch.cat([two_logits, labels.unsqueeze(1).float()], dim=1) @ projected.T + layer.bias
    ce = F.cross_entropy(two_logits, labels, reduction="none")
    return per_example(net, pre, labels, ce), ce


def landscape(net: LossNet, recipe: Recipe = "ours", *, extent: float | None = None, resolution: int | None = None,
              transpose: bool | None = None, label: int = 0, seed: int = 0, basis: Tensor | None = None) -> Landscape:
    """Evaluate ``net`` on a (resolution x resolution) grid over [-extent, extent]^2 of two logits.

    ``None`` takes the recipe's value from :data:`RECIPES`. ``label`` is the fixed class of ``"ours"``;
    ``basis`` (n_classes, 2) replaces its plane (default: :func:`exact_basis` of ``net``; pass one network's
    basis to draw several snapshots on the same plane). ``seed`` fixes the authors' randomized PCA and
    random labels. The network is not modified.
    """
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    if basis is not None and recipe != "ours":
        raise ValueError("a fixed basis only applies to recipe='ours'; the authors' recipe computes its own")
    defaults = RECIPES[recipe]
    extent = defaults.extent if extent is None else extent
    resolution = defaults.resolution if resolution is None else resolution
    transpose = defaults.transpose if transpose is None else transpose
    axis = torch.linspace(-extent, extent, resolution)
    grid_x, grid_y = torch.meshgrid(axis, axis, indexing="ij")
    with torch.no_grad():
        if recipe == "ours":
            plane = exact_basis(first_layer(net).weight, net.n_classes) if basis is None else basis
            values, ce = _ours(net, grid_x.flatten(), grid_y.flatten(), label, plane)
        else:
            values, ce = _authors(net, grid_x.flatten(), grid_y.flatten(), seed)
    return Landscape(x=axis.numpy(), y=axis.numpy(), z=_image(values, defaults.scale, transpose),
                     ce=_image(ce, defaults.scale, transpose), recipe=recipe, transposed=transpose)


def _image(values: Tensor, scale: float, transpose: bool) -> np.ndarray:
    """Flat (G*G,) values in [x index, y index] order -> (G, G) for contourf: [y, x], or [x, y] if ``transpose``."""
    side = math.isqrt(len(values))
    grid = (values / scale).reshape(side, side).numpy()
    return grid if transpose else grid.T


def ce_landscape(extent: float = RECIPES["ours"].extent, resolution: int = RECIPES["ours"].resolution,
                 label: int = 0) -> Landscape:
    """The 2-class cross-entropy ``CE([z1, z2], label)`` on the grid: the reference panel (no network)."""
    axis = torch.linspace(-extent, extent, resolution)
    grid_x, grid_y = torch.meshgrid(axis, axis, indexing="xy")
    two_logits = torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1)
    ce = F.cross_entropy(two_logits, torch.full((len(two_logits),), label), reduction="none")
    image = ce.reshape(resolution, resolution).numpy()
    return Landscape(x=axis.numpy(), y=axis.numpy(), z=image, ce=image, recipe="ce", transposed=False)


def summary(ls: Landscape) -> dict[str, float]:
    """Colour-bar range and the Pearson correlation of the loss with the cross-entropy on the same inputs."""
    corr = np.corrcoef(ls.z.ravel(), ls.ce.ravel())[0, 1] if ls.z.std() > 0 else float("nan")
    return {"min": float(ls.z.min()), "max": float(ls.z.max()), "corr_with_ce": float(corr)}


def loss_network(state: Mapping[str, Any], kind: Literal["fnn", "lstm"], n_classes: int,
                 residual: bool) -> LossNet:
    """Rebuild a loss network from a stored snapshot {parameter name: nested lists}.

    The label encoding is read off the first layer's width: ``2 * n_classes`` one-hot, ``n_classes + 1`` index.
    The network is returned in eval mode with gradients off (it is only evaluated).
    """
    tensors = {name: torch.as_tensor(value, dtype=torch.float32) for name, value in state.items()}
    width = tensors[f"{'fc1' if kind == 'fnn' else 'fcz'}.weight"].shape[1]
    encodings = {2 * n_classes: "one_hot", n_classes + 1: "index"}
    if width not in encodings:
        raise ValueError(f"first-layer width {width} fits neither encoding of {n_classes} classes")
    net = build_loss(kind, n_classes, residual=residual, label_encoding=encodings[width])
    net.load_state_dict(tensors)
    return net.eval().requires_grad_(False)
