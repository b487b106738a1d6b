"""The discrete network for both search spaces: shapes, auxiliary head, drop-path."""

import pytest
import torch

from lib.darts.genotype import EMPTY_SLOT, Genotype
from lib.darts.network import DiscreteNetwork

DARTS_V2 = Genotype(
    normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    reduce_concat=[2, 3, 4, 5],
)
FEWSHOT = Genotype(
    normal=[("conv_3x3", 0), ("conv_1x5_5x1", 1), ("skip_connect", 2), ("avg_pool_3x3", 0),
            ("dil_conv_3x3", 3), EMPTY_SLOT],
    normal_concat=[2, 3, 4],
    reduce=[("max_pool_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("conv_3x3", 2),
            ("conv_1x5_5x1", 3), ("skip_connect", 1)],
    reduce_concat=[2, 3, 4],
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _darts(**kwargs) -> DiscreteNetwork:
    return DiscreteNetwork(DARTS_V2, C=8, n_classes=10, n_cells=5, **kwargs)


def _fewshot(**kwargs) -> DiscreteNetwork:
    return DiscreteNetwork(FEWSHOT, C=8, n_classes=20, n_cells=4, in_channels=1, reduction_cells=(1, 3),
                           channel_growth=1, **kwargs)


@pytest.mark.parametrize("build, shape", [(_darts, (2, 3, 32, 32)), (_fewshot, (2, 1, 28, 28))])
@pytest.mark.parametrize("auxiliary", [False, True])
def test_output_shapes(build, shape: tuple[int, ...], auxiliary: bool) -> None:
    net = build(auxiliary=auxiliary, drop_path_prob=0.2)
    n_classes = net.classifier.out_features
    x = torch.randn(shape)
    out = net(x)
    if auxiliary:
        logits, aux = out
        assert aux.shape == (2, n_classes)
        (logits.sum() + aux.sum()).backward()
    else:
        logits = out
    assert logits.shape == (2, n_classes)
    assert net.eval()(x).shape == (2, n_classes)


def test_channel_growth() -> None:
    assert _fewshot().classifier.in_features == 3 * 8  # growth 1: channels stay C
    assert _darts().classifier.in_features == 4 * 8 * 4  # two reductions, doubled each time


def test_drop_path_only_in_training() -> None:
    x = torch.randn(4, 1, 28, 28)
    net = _fewshot()
    net.eval()
    reference = net(x)
    net.drop_path_prob = 0.5
    assert torch.equal(net(x), reference)
    net.train()
    cell, s = net.cells[0], net.stem(x)
    assert not torch.allclose(cell(s, s, 0.5), cell(s, s, 0.0))


def test_drop_path_spares_identity_edges() -> None:
    """DARTS_V2 normal cell, everything but identities dropped: nodes 0, 1 vanish, nodes 2, 3 are input 0."""
    net = _darts().train()
    cell, s = net.cells[0], net.stem(torch.randn(2, 3, 8, 8))
    s0 = cell.preproc0(s)
    zeros = torch.zeros_like(s0)
    assert torch.allclose(cell(s, s, 1.0), torch.cat([zeros, zeros, s0, s0], dim=1))
