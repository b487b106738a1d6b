"""Sphinx extension: an anchor ``cell-<n>`` on every executed notebook code cell (n = execution count).

The source line under each table and figure (lib/footer.py) links to the cell that made it this way.
"""

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx


def add_cell_anchors(app: Sphinx, doctree: nodes.document) -> None:
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") == "cell_code" and cell.get("exec_count"):
            cell["ids"].append(f"cell-{cell['exec_count']}")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", add_cell_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
