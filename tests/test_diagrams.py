import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from lib.plots import diagrams


def _texts(fig: Figure) -> set[str]:
    """The figure's texts, line breaks as spaces (a box may break its label to fit)."""
    return {t.get_text().replace("\n", " ") for t in fig.findobj(Text) if t.get_text()}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_algorithm_overview_has_the_boxes_and_the_yellow_additions():
    fig = diagrams.algorithm_overview()
    texts = _texts(fig)
    for label in ["Loss Agnostic Meta Learning of Neural Architectures", "Meta learning", "Task Learning",
                  "Compute meta loss", "Compute task loss", "Task", "& meta loss NN weights", "& loss NN weights"]:
        assert label in texts
    highlighted = {t.get_text() for t in fig.findobj(Text) if t.get_bbox_patch() is not None
                   and matplotlib.colors.same_color(t.get_bbox_patch().get_facecolor(), diagrams.HIGHLIGHT)}
    assert highlighted == {"& meta loss NN weights", "& loss NN weights"}


def test_lstm_flow_as_drawn_has_figure_2s_labels():
    texts = _texts(diagrams.lstm_loss_flow())
    for label in ["Train_X (N×C×H×W)", "Meta Neural Architecture Search", "Logits (N×C)", "Labels Y (N)",
                  "Concat.", "FC + ELU", "Input", "LSTM", "$H_0, c_0$", "FC-ELU-FC-MEAN", "CE", "Proxy (MSE)",
                  "Self-Supervised Loss", "$\\hat{L}$", "$L$"]:
        assert label in texts


def test_lstm_flow_as_code_shows_the_codes_choices():
    texts = _texts(diagrams.lstm_loss_flow(as_code=True))
    assert "Labels y: N×1 float class index" in texts
    assert "$H_0 = c_0 = y$ broadcast 5×N×64" in texts
    assert {"FC 64→32", "+ CE (residual)", "ELU, FC 32→1, mean"} <= texts
    assert "FC-ELU-FC-MEAN" not in texts
    assert {"Logits (N×K)", "Concat. N×(K+1)"} <= texts and "Logits (N×C)" not in texts  # C stays the channels


def test_fnn_flow_has_its_layers():
    texts = _texts(diagrams.fnn_loss_flow())
    assert {"Logits (N×K)", "Concat.", "FC (K+1→64)", "+ CE (residual)", "ELU", "FC (64→1)", "mean", "Proxy (MSE)"} <= texts


def test_diagram_labels_list_the_title_then_the_texts_in_drawing_order():
    fig = diagrams.fnn_loss_flow()
    labels = diagrams.diagram_labels(fig)
    assert labels[0] == fig.axes[0].get_title() and "Proxy (MSE)" in labels
    assert all("\n" not in label and "$" not in label for label in labels)
    assert set(labels) <= {diagrams.plain(t) for t in _texts(fig)} and "L̂" in labels
