"""Candidate ops and drop-path: shapes, orderings and semantics checked against hand computations."""

import math

import pytest
import torch
from torch import nn

from lib.darts.ops import DARTS_SPACE, FEWSHOT_SPACE, OPS, SEARCH_SPACES, FactorizedReduce, drop_path


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("size", [7, 8])
def test_op_output_shape(name: str, stride: int, size: int) -> None:
    x = torch.randn(2, 4, size, size)
    out = OPS[name](4, stride, False)(x)
    side = math.ceil(size / stride)
    assert out.shape == (2, 4, side, side)


def test_spaces_use_registry_names() -> None:
    assert set(DARTS_SPACE) | set(FEWSHOT_SPACE) <= set(OPS)
    assert "none" in DARTS_SPACE and "none" not in FEWSHOT_SPACE  # INCONSISTENCIES #14
    assert len(DARTS_SPACE) == 8 and len(FEWSHOT_SPACE) == 7
    assert SEARCH_SPACES == {"darts": DARTS_SPACE, "fewshot": FEWSHOT_SPACE}


def test_skip_connect_is_identity_or_factorized_reduce() -> None:
    assert isinstance(OPS["skip_connect"](4, 1, True), nn.Identity)
    assert isinstance(OPS["skip_connect"](4, 2, True), FactorizedReduce)


def test_none_gives_zeros() -> None:
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(OPS["none"](3, 2, False)(x), torch.zeros(2, 3, 3, 3))


def test_avg_pool_excludes_padding() -> None:
    out = OPS["avg_pool_3x3"](1, 1, False)(torch.ones(1, 1, 4, 4))
    assert torch.allclose(out, torch.ones_like(out))  # count_include_pad=True would give 4/9 in a corner


@pytest.mark.parametrize("name", ["sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
                                  "conv_3x3", "conv_1x5_5x1"])
def test_conv_ops_start_with_relu(name: str) -> None:
    """ReLU first: a negative input becomes zeros, which bias-free convs and BN(affine=False) keep at zero."""
    out = OPS[name](3, 1, False)(-torch.rand(2, 3, 6, 6) - 0.1)
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("name", ["sep_conv_3x3", "dil_conv_5x5", "conv_3x3", "conv_1x5_5x1", "skip_connect"])
def test_track_running_stats_reaches_every_batch_norm(name: str) -> None:
    op = OPS[name](4, 2, False, False)
    norms = [m for m in op.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.running_mean is None and not m.affine for m in norms)


def test_factorized_reduce_matches_two_offset_grids() -> None:
    op = FactorizedReduce(3, 4, affine=False).eval()  # fresh running stats: BN is x / sqrt(1 + eps)
    x = torch.randn(2, 3, 6, 6)
    relu = x.clamp(min=0)
    wa, wb = op.conv_a.weight[:, :, 0, 0], op.conv_b.weight[:, :, 0, 0]
    expected = torch.cat([torch.einsum("oc,bchw->bohw", wa, relu[:, :, ::2, ::2]),
                          torch.einsum("oc,bchw->bohw", wb, relu[:, :, 1::2, 1::2])], dim=1)
    assert torch.allclose(op(x), expected / math.sqrt(1 + op.bn.eps), atol=1e-6)


def test_drop_path_is_identity_in_eval_and_at_zero() -> None:
    x = torch.randn(4, 2, 3, 3)
    assert torch.equal(drop_path(x, 0.5, training=False), x)
    assert torch.equal(drop_path(x, 0.0, training=True), x)


def test_drop_path_masks_whole_samples_and_rescales() -> None:
    x = torch.ones(64, 3, 2, 2)
    before = x.clone()
    version = x._version
    out = drop_path(x, 0.25, training=True)
    per_sample = out.flatten(1)
    dropped = (per_sample == 0).all(dim=1)
    kept = torch.isclose(per_sample, torch.tensor(1 / 0.75)).all(dim=1)
    assert bool((dropped | kept).all())
    assert 0 < int(dropped.sum()) < 64
    assert torch.equal(x, before) and x._version == version
