"""MAC and parameter counts against formulas written out by hand, and hooks against FlopCounterMode."""

import pytest
import torch
from torch import nn

from lib.darts.network import DiscreteNetwork
from lib.darts.flops import FlopsReport, count_macs, count_params, flops_report, layer_macs
from lib.darts.published import DARTS_V2


def conv_linear_net() -> nn.Sequential:
    """Input (B, 3, 8, 8) -> logits (B, 10)."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 8 * 8, 10),
    )


def mixed_conv_net() -> nn.Sequential:
    """Strided, depthwise, dilated, grouped and 1x1 convs, pooling and BN; input (B, 4, 16, 16) -> (B, 5)."""
    return nn.Sequential(
        nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False),  # -> (B, 8, 8, 8)
        nn.BatchNorm2d(8),
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),  # depthwise
        nn.Conv2d(8, 12, 3, padding=2, dilation=2),  # dilated, keeps 8x8
        nn.Conv2d(12, 12, 3, groups=3),  # grouped, -> 6x6
        nn.MaxPool2d(2),  # -> 3x3
        nn.Conv2d(12, 6, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 5),
    )


def test_conv_and_linear_macs_equal_the_hand_count() -> None:
    model = conv_linear_net()
    conv = 8 * 8 * 8 * 3 * 3 * 3  # H_out * W_out * C_out * C_in * k * k
    linear = 8 * 8 * 8 * 10
    assert count_macs(model, (1, 3, 8, 8)) == conv + linear
    assert count_macs(model, torch.randn(2, 3, 8, 8)) == 2 * (conv + linear)


def test_mixed_convs_equal_the_hand_count_per_layer() -> None:
    model = mixed_conv_net()
    b = 2
    expected = {
        "0.weight": b * 8 * 8 * 8 * 4 * 9,
        "2.weight": b * 8 * 8 * 8 * 1 * 9,
        "3.weight": b * 8 * 8 * 12 * 8 * 9,
        "4.weight": b * 6 * 6 * 12 * 4 * 9,
        "6.weight": b * 3 * 3 * 6 * 12,
        "9.weight": b * 5 * 6,
    }
    assert layer_macs(model, (b, 4, 16, 16)) == expected
    assert count_macs(model, (b, 4, 16, 16)) == sum(expected.values())


def test_dense_hook_count_equals_flop_counter_half() -> None:
    model = mixed_conv_net()
    x = torch.randn(3, 4, 16, 16)
    assert sum(layer_macs(model, x).values()) == count_macs(model, x)


def half_mask(weight: torch.Tensor) -> torch.Tensor:
    mask = torch.zeros(weight.numel(), dtype=torch.bool)
    mask[torch.randperm(weight.numel())[: weight.numel() // 2]] = True
    return mask.view_as(weight)


@pytest.mark.parametrize("layer", ["0.weight", "2.weight", "4.weight", "9.weight"])
def test_masking_half_of_a_layer_halves_its_macs(layer: str) -> None:
    torch.manual_seed(0)
    model = mixed_conv_net()
    shape = (2, 4, 16, 16)
    weight = dict(model.named_parameters())[layer]
    masks = {layer: half_mask(weight)}
    dense = layer_macs(model, shape)
    sparse = layer_macs(model, shape, masks)
    assert 2 * sparse[layer] == dense[layer]
    assert all(sparse[name] == dense[name] for name in dense if name != layer)
    assert count_macs(model, shape, masks) == count_macs(model, shape) - dense[layer] // 2


def test_float_and_all_ones_masks() -> None:
    torch.manual_seed(0)
    model = mixed_conv_net()
    shape = (1, 4, 16, 16)
    ones = {name: torch.ones_like(p) for name, p in model.named_parameters()}
    assert count_macs(model, shape, ones) == count_macs(model, shape)
    mask = half_mask(model[3].weight)
    assert count_macs(model, shape, {"3.weight": mask.float()}) == count_macs(model, shape, {"3.weight": mask})


def test_param_counts_with_and_without_masks() -> None:
    torch.manual_seed(0)
    model = conv_linear_net()
    conv, bn, linear = 8 * 3 * 9 + 8, 2 * 8, 512 * 10 + 10
    assert count_params(model) == conv + bn + linear
    masks = {"0.weight": half_mask(model[0].weight), "4.bias": torch.zeros(10)}
    assert count_params(model, masks) == conv + bn + linear - 8 * 3 * 9 // 2 - 10


def test_report_gives_both_counts() -> None:
    torch.manual_seed(0)
    model = conv_linear_net()
    masks = {"4.weight": half_mask(model[4].weight)}
    report = flops_report(model, (1, 3, 8, 8), masks)
    linear = 512 * 10
    assert report == FlopsReport(
        dense_macs=8 * 8 * 8 * 27 + linear,
        sparse_macs=8 * 8 * 8 * 27 + linear // 2,
        params=count_params(model),
        nonzero_params=count_params(model) - linear // 2,
    )


def test_modes_and_running_stats_are_restored() -> None:
    model = conv_linear_net().train()
    model[1].eval()
    stats = model[1].running_mean.clone()
    count_macs(model, torch.randn(2, 3, 8, 8))
    assert [m.training for m in model] == [True, False, True, True, True]
    assert model.training
    assert torch.equal(model[1].running_mean, stats)
    assert all(p.grad is None for p in model.parameters())


def test_bad_masks_are_rejected() -> None:
    model = conv_linear_net()
    with pytest.raises(KeyError):
        count_macs(model, (1, 3, 8, 8), {"nope.weight": torch.ones(1)})
    with pytest.raises(ValueError):
        count_params(model, {"0.weight": torch.ones(3)})


def test_darts_v2_cifar_network_matches_the_published_size() -> None:
    """DARTS V2 (quark0 genotype), C=36, 20 cells, no auxiliary head: 3.3 M parameters, 528.4 M MACs."""
    net = DiscreteNetwork(DARTS_V2, C=36, n_classes=10, n_cells=20)
    assert round(count_params(net) / 1e6, 1) == 3.3
    assert count_macs(net, (1, 3, 32, 32)) == pytest.approx(528.4e6, rel=2e-4)
