import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.meta import landscape
from lib.meta.losses import FNNLoss, build_loss


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _known_fnn(residual: bool) -> FNNLoss:
    """2 classes, index label, hidden 4: fc1's logit block [[2,0],[-2,0],[0,1],[0,-1]] has basis e1, e2."""
    net = FNNLoss(2, hidden=4, residual=residual, label_encoding="index")
    with torch.no_grad():
        net.fc1.weight.copy_(torch.tensor([[2.0, 0, 0.5], [-2, 0, 0], [0, 1, 0], [0, -1, -0.5]]))
        net.fc1.bias.zero_()
        net.fc2.weight.copy_(torch.tensor([[1.0, 2, 3, 4]]))
        net.fc2.bias.fill_(0.5)
    return net


def _elu(v: float) -> float:
    return v if v > 0 else float(np.expm1(v))


def _by_hand(z1: float, z2: float, label: int, residual: bool) -> float:
    r = np.logaddexp(z1, z2) - (z1, z2)[label] if residual else 0.0
    pre = [2 * z1 + 0.5 * label, -2 * z1, z2, -z2 - 0.5 * label]
    return sum(w * _elu(p + r) for w, p in zip([1, 2, 3, 4], pre)) + 0.5


def test_exact_basis_is_deterministic_orthonormal_and_sign_fixed():
    weight = torch.nn.init.orthogonal_(torch.empty(64, 21))
    basis = landscape.exact_basis(weight, n_classes=20)
    assert basis.shape == (20, 2)
    torch.testing.assert_close(basis.T @ basis, torch.eye(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(landscape.exact_basis(weight.clone(), 20), basis, atol=0, rtol=0)
    torch.testing.assert_close(landscape.exact_basis(-weight, 20), basis, atol=1e-5, rtol=0)
    peaks = basis[basis.abs().argmax(dim=0), torch.arange(2)]
    assert (peaks > 0).all()


@pytest.mark.parametrize("residual,label", [(False, 0), (True, 1)])
def test_ours_matches_a_hand_computation(residual, label):
    net = _known_fnn(residual)
    torch.testing.assert_close(landscape.exact_basis(net.fc1.weight, 2), torch.eye(2))
    ls = landscape.landscape(net, extent=2.0, resolution=5, label=label)
    np.testing.assert_allclose(ls.x, [-2, -1, 0, 1, 2])
    for i, j in [(0, 0), (4, 1), (1, 4), (3, 2)]:
        assert ls.z[j, i] == pytest.approx(_by_hand(ls.x[i], ls.y[j], label, residual), rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("kind", ["fnn", "lstm"])
@pytest.mark.parametrize("encoding", ["index", "one_hot"])
def test_ours_is_the_network_on_the_logit_plane(kind, encoding):
    torch.manual_seed(0)
    net = build_loss(kind, 5, residual=True, label_encoding=encoding)
    ls = landscape.landscape(net, extent=3.0, resolution=7, label=2)
    basis = landscape.exact_basis(landscape.first_layer(net).weight, 5)
    i, j = 1, 5
    logits = torch.tensor([[ls.x[i], ls.y[j]]]) @ basis.T
    with torch.no_grad():
        assert ls.z[j, i] == pytest.approx(float(net(logits, torch.tensor([2]))), rel=1e-5)
        assert ls.ce[j, i] == pytest.approx(float(F.cross_entropy(logits, torch.tensor([2]))), rel=1e-5)


@pytest.mark.parametrize("recipe", ["ours", "authors"])
def test_transpose_option_transposes(recipe):
    torch.manual_seed(0)
    net = build_loss("fnn", 4, residual=True, label_encoding="index")
    plain = landscape.landscape(net, recipe, resolution=9, transpose=False)
    flipped = landscape.landscape(net, recipe, resolution=9, transpose=True)
    np.testing.assert_array_equal(flipped.z, plain.z.T)
    np.testing.assert_array_equal(flipped.ce, plain.ce.T)
    assert flipped.transposed and not plain.transposed


def test_recipe_defaults_are_the_papers_and_the_fixes():
    assert landscape.RECIPES["authors"] == landscape.RecipeDefaults(extent=1e4, resolution=200, scale=1e4,
                                                                    transpose=True)
    assert landscape.RECIPES["ours"].transpose is False


def test_authors_recipe_is_reproducible_under_a_seed_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    net = build_loss("fnn", 20, residual=True, label_encoding="index")
    state = torch.get_rng_state()
    first = landscape.landscape(net, "authors", resolution=20, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(landscape.landscape(net, "authors", resolution=20, seed=3).z, first.z)
    assert not np.array_equal(landscape.landscape(net, "authors", resolution=20, seed=4).z, first.z)
    assert first.z.shape == (20, 20) and first.x[0] == -1e4


def test_authors_basis_uses_the_whole_first_layer():
    weight = torch.randn(64, 21)
    basis = landscape.authors_basis(weight, seed=0)
    assert basis.shape == (21, 3)
    torch.testing.assert_close(basis.T @ basis, torch.eye(3), atol=1e-5, rtol=0)


def test_ce_landscape_is_softplus_of_the_logit_gap():
    ls = landscape.ce_landscape(extent=2.0, resolution=5, label=0)
    i, j = 1, 3
    assert ls.z[j, i] == pytest.approx(np.log1p(np.exp(ls.y[j] - ls.x[i])), rel=1e-6)


@pytest.mark.parametrize("encoding", ["index", "one_hot"])
def test_loss_network_round_trips_a_snapshot_and_reads_the_encoding(encoding):
    torch.manual_seed(0)
    net = build_loss("lstm", 5, residual=True, label_encoding=encoding)
    snapshot = {name: p.detach().tolist() for name, p in net.named_parameters()}
    rebuilt = landscape.loss_network(snapshot, "lstm", 5, residual=True)
    assert rebuilt.label_encoding == encoding
    for (name, p), q in zip(net.named_parameters(), rebuilt.parameters()):
        torch.testing.assert_close(p, q, msg=name)
    with pytest.raises(ValueError, match="width"):
        landscape.loss_network(snapshot, "lstm", 7, residual=True)


def test_summary_reports_correlation_with_cross_entropy():
    stats = landscape.summary(landscape.ce_landscape())
    assert stats["corr_with_ce"] == pytest.approx(1.0)
    assert stats["min"] >= 0.0


def test_a_fixed_basis_is_used_for_every_snapshot_and_only_by_our_recipe():
    torch.manual_seed(0)
    net = build_loss("fnn", 5, residual=True, label_encoding="index")
    other = build_loss("fnn", 5, residual=True, label_encoding="index")
    plane = landscape.exact_basis(other.fc1.weight, 5)
    shared = landscape.landscape(net, resolution=7, basis=plane)
    own = landscape.landscape(net, resolution=7)
    assert not np.allclose(shared.z, own.z)
    np.testing.assert_allclose(landscape.landscape(other, resolution=7).z,
                               landscape.landscape(other, resolution=7, basis=plane).z)
    with pytest.raises(ValueError, match="basis"):
        landscape.landscape(net, "authors", basis=plane)


def test_singular_values_of_an_orthogonal_first_layer_are_nearly_equal():
    weight = torch.nn.init.orthogonal_(torch.empty(64, 21))
    values = landscape.logit_singular_values(weight, 20)
    assert values.shape == (20,) and (values[:-1] >= values[1:]).all()
    assert float(values[1] / values[2]) < 1.1


def test_seeds_at_a_glance_turns_the_landscape_with_the_sign_of_fc2():
    """Negating fc2 (weight and bias) negates the FNN's loss exactly, so its landscape's correlation with the
    cross-entropy must flip sign and ``sum fc2`` with it; the accuracy column is read against 100 / ways."""
    from lib.pipeline.results import Record
    from lib.report.lamanas import seeds_at_a_glance

    torch.manual_seed(0)
    net = FNNLoss(5, residual=True)
    state = {k: v.tolist() for k, v in net.state_dict().items()}
    flipped = {**state, **{k: (-v).tolist() for k, v in net.state_dict().items() if k.startswith("fc2.")}}
    config = lambda seed: {"seed": seed, "loss": "fnn", "residual": True, "data": {"ways": 5}}
    records = [Record("lamanas", f"k{i}", config(i), {"test_acc": acc, "test_accuracies": [acc] * 4,
                                                      "loss_snapshots": {"0": state, "4": snap}}, {})
               for i, (acc, snap) in enumerate([(40.0, state), (10.0, flipped)])]  # every task at acc: no spread
    table = seeds_at_a_glance(records, extent=5.0, label=0)
    assert table["meta-epoch"].tolist() == [4, 4] and table["vs chance"].tolist() == ["above", "below"]
    assert table.loc[0, "sum fc2"] == pytest.approx(float(net.state_dict()["fc2.weight"].sum()))
    assert table.loc[1, "sum fc2"] == pytest.approx(-table.loc[0, "sum fc2"])
    assert table.loc[1, "corr with CE"] == pytest.approx(-table.loc[0, "corr with CE"], abs=1e-6)
    assert abs(table.loc[0, "corr with CE"]) > 0.1  # a real correlation, not a degenerate flat landscape


@pytest.mark.parametrize("recipe", ["ours", "authors", "ce"])
def test_a_panel_says_what_its_colour_and_its_axes_are(recipe):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from lib.plots import landscape as landscape_plots

    torch.manual_seed(0)
    net = build_loss("fnn", 5, residual=True, label_encoding="index")
    ls = landscape.ce_landscape(resolution=5) if recipe == "ce" else landscape.landscape(net, recipe, resolution=9)
    fig, ax = plt.subplots()
    landscape_plots.draw_landscape(ax, ls, "panel")
    colour_bar = fig.axes[1]
    expected = {"ours": "learned loss", "authors": "learned loss / 10,000", "ce": "cross-entropy"}[recipe]
    assert colour_bar.get_ylabel().startswith(expected)
    horizontal, vertical = ax.get_xlabel(), ax.get_ylabel()
    # the authors' image is transposed (#30): its horizontal axis varies the second coordinate, and says so
    assert horizontal.startswith("$z_2$" if recipe == "authors" else "$z_1$")
    assert vertical.startswith("$z_1$" if recipe == "authors" else "$z_2$")
    assert ("transposed" in horizontal) == (recipe == "authors")
    direction = {"ours": "logit-space direction", "authors": "PCA direction", "ce": "logit of class"}[recipe]
    assert direction in horizontal and direction in vertical
    if recipe == "ours":
        assert "top singular vector" in horizontal and "2nd singular vector" in vertical
    plt.close(fig)
