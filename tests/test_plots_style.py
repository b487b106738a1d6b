"""The figure style: PNGs that record their smallest text, genotype drawings named like the heatmap rows."""
import io

import matplotlib.pyplot as plt
from PIL import Image

from lib.darts.published import DARTS_V2
from lib.plots import style


def test_figure_png_records_the_smallest_font_and_the_dpi():
    style.use_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("title", fontsize=11)
    ax.text(0.5, 0.5, "small", fontsize=7.5)
    ax.text(5.0, 5.0, "outside the figure", fontsize=2)  # not drawn inside the figure: ignored
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    info = Image.open(io.BytesIO(style.figure_png(fig))).info
    plt.close(fig)
    assert float(info["min_font_pt"]) == 7.5


def test_png_text_chunks_are_read_back_and_the_image_still_decodes():
    fig, _ = plt.subplots(figsize=(1, 1))
    png = style.png_text_chunks(style.figure_png(fig), {"note": "x"})
    plt.close(fig)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.info["note"] == "x"


def test_genotype_nodes_and_heatmap_rows_use_one_naming():
    source = style.draw_genotype(DARTS_V2, "DARTS V2").source
    for name in ("c_{k-2}", "c_{k-1}", "c_{k}", "0", "3"):
        assert f'label="{name}"' in source or f"label={name} " in source or f"label={name}]" in source
    labels = style.edge_labels(4)
    assert labels[:3] == ["c_{k-2} → 0", "c_{k-1} → 0", "c_{k-2} → 1"] and labels[-1] == "2 → 3"
    assert len(labels) == 14
