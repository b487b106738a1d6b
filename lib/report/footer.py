"""Where every table and figure comes from: one API for the whole book.

``source = Source(notebook, globals())`` is made once per notebook; ``source.show(obj, records)`` displays a
table or figure with a one-line source under it (notebook cell, parameters, commit, data, device, time),
and ``source.provenance(records)`` ends the notebook with one line per run, folded (a ``<details>`` block).
A table is styled by :mod:`lib.report.display` and written as CSV (:func:`lib.report.export.write_table`)
with a download link under it; a figure (matplotlib, or a Graphviz drawing) is shown as the PNG of
:mod:`lib.plots.style`, which records its smallest font size for the browser test. The cell link points at the ``cell-<n>`` anchor that the
book's ``cell_anchors`` extension gives every executed code cell (``n`` is its execution count).
"""

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import graphviz
import torch
import matplotlib.pyplot as plt
import pandas as pd
from IPython import get_ipython
from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from lib.pipeline import fingerprint, notebook, provenance
from lib.pipeline.results import Record
from lib.plots.style import figure_png, graph_png
from lib.report import display as tables, export

VOUCHED_BRIEF = "code vouched equal to the current: why, in the chapter's [provenance](#provenance)"
EMPTY_TABLE = "*No rows yet: the runs this table reads are pending at this profile (the evidence sweep fills them).*"


def current_cell() -> int | None:
    """The execution count of the running notebook cell (IPython has already counted it), else None."""
    shell = get_ipython()
    return None if shell is None else shell.execution_count - 1


def _unique(values: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(values)) or "-"


def _commits_text(commits: Sequence[str], named: int = 3) -> str:
    """``commit a, b`` for up to ``named`` distinct commits; more are counted, not listed (a caption naming 90
    commits says nothing a reader can use: each run's commit is in the chapter's provenance, one line per run)."""
    distinct = list(dict.fromkeys(commits))
    if len(distinct) <= named:
        return f"commit {_unique(distinct)}"
    edited = sum(c.endswith("(lib edited)") for c in distinct)
    return (f"{len(distinct)} commits{f' ({edited} with lib edited)' if edited else ''}, each run's in the "
            "chapter's provenance")


def _data_text(data: dict[str, Any], code: str = "") -> str:
    """``name [kind] sha256 <12 hex>``; data without a checksum (synthetic timing inputs) says so."""
    checksum = data.get("checksum")
    return f"{data.get('name')} [{data.get('kind')}] " + (f"sha256 {code}{str(checksum)[:12]}{code}" if checksum
                                                          else "no checksum")


def _device_text(hardware: dict[str, Any]) -> str:
    """``cuda (NVIDIA H200)`` for an accelerator, else the device alone."""
    accelerator = hardware.get("accelerator")
    return f"{hardware['device']} ({accelerator})" if accelerator else str(hardware["device"])


def run_line(record: Record) -> str:
    """One run: key, profile and seed, commit, data and checksum, device, torch, wall time and date."""
    p, data = record.provenance, record.provenance["data"]
    return (f"run `{record.key}` ({record.config.get('profile', '?')}, seed {record.config.get('seed', '?')}): "
            f"commit `{p['git']['commit'][:10]}`{' (lib edited)' if p['git']['lib_dirty'] else ''}, "
            f"data {_data_text(data, '`')}, "
            f"{_device_text(p['hardware'])}, {p['hardware']['cpu_count']} cores, {p['hardware']['torch_threads']} thread(s), "
            f"torch {p['software']['torch']}, {p['wall_time_s'] / 60:.1f} min, {p['date']}"
            + (f"; vouched: {p['code']['vouched']}" if "vouched" in (p.get("code") or {}) else ""))


def folded(summary: str, body: str) -> str:
    """Markdown that the book shows folded: ``summary`` visible, ``body`` (Markdown) on a click."""
    return f"<details class=\"folded\">\n<summary>{summary}</summary>\n\n{body}\n\n</details>"


def here_markdown(note: str) -> str:
    """Provenance of what a notebook computed itself (no run record): commit, machine, torch, and ``note``."""
    git, hw = provenance.git_state(), provenance.hardware(torch.device("cpu"))
    edited = " (lib edited)" if git["lib_dirty"] else ""
    return (f"**Provenance**: computed here at commit `{str(git['commit'])[:10]}`{edited}, {hw['cpu']} "
            f"({hw['cpu_count']} cores, {hw['torch_threads']} threads), torch {provenance.software()['torch']}; {note}.")


def provenance_markdown(records: Sequence[Record], note: str = "") -> str:
    """The runs behind a notebook, one line each, folded under a summary; with no records, what was computed
    here (:func:`here_markdown` with ``note``) or a line saying nothing was."""
    if not records:
        return here_markdown(note) if note else "**Provenance**\n\nNo run record: nothing here was computed from a cached run."
    trust = "".join(f"- **{text}** ({n} run(s))\n" for text, n in trust_notes(records).items())
    return (f"Trust marks of these runs, each said once:\n\n{trust}\n" if trust else "") + folded(
        f"<b>Provenance</b>: {len(records)} run record(s), one line each", "\n".join(f"- {run_line(r)}" for r in records))


def runs_summary(records: Sequence[Record]) -> str:
    """Commit(s), data and checksum, device and total wall time of the runs behind one table or figure."""
    if not records:
        git = provenance.git_state()
        return f"computed here at commit `{str(git['commit'])[:10]}`{' (lib edited)' if git['lib_dirty'] else ''}"
    prov = [r.provenance for r in records]
    commits = _commits_text([p["git"]["commit"][:10] + (" (lib edited)" if p["git"]["lib_dirty"] else "") for p in prov])
    data = _unique([_data_text(p["data"]) for p in prov])
    devices = _unique([f"{_device_text(p['hardware'])}, {p['hardware']['torch_threads']} thread(s)" for p in prov])
    minutes = sum(p["wall_time_s"] for p in prov) / 60
    return f"{len(records)} run(s), {commits}; data {data}; {devices}; {minutes:.1f} min of runs{trust_marks(records, brief=True)}"


def trust_notes(records: Sequence[Record], brief: bool = False) -> dict[str, int]:
    """What the reader must know about the runs' trust, each note with the number of runs it concerns:
    stale/altered/unsealed marks, vouched code, divergence. ``brief``: every vouch is one note, :data:`VOUCHED_BRIEF`
    (a vouch's reason is a person's paragraph: a source line under each table says it exists, and the chapter's
    provenance, :func:`provenance_markdown`, says it once in full)."""
    notes = [r.mark for r in records if r.mark]
    codes = [r.provenance["code"] for r in records if "vouched" in (r.provenance.get("code") or {})]
    if brief:
        notes += [VOUCHED_BRIEF for _ in codes]
    else:
        notes += [_vouched(code, codes) for code in codes]
        replaced = [link for code in codes for link in _earlier_vouches(code)]
        notes += [_vouched(code, replaced, earlier=True) for code in replaced]
    notes += [f"diverged at {r.metrics['diverged']['where']}" for r in records if r.status == "diverged"]
    return {note: notes.count(note) for note in notes}


def trust_marks(records: Sequence[Record], brief: bool = False) -> str:
    """:func:`trust_notes` as the tail of a source line: ``; **note** (n run(s))`` each."""
    return "".join(f"; **{note}** ({n} run(s))" for note, n in trust_notes(records, brief).items())


def _earlier_vouches(code: dict) -> list[dict]:
    """The vouches ``code`` replaced (``tools/seal_records.py`` keeps each under ``earlier``), newest first: with
    them the chain of fingerprints back to the code that ran is read whole."""
    chain = []
    while "vouched" in (code := code.get("earlier") or {}):
        chain.append(code)
    return chain


def _vouched(code: dict, codes: Sequence[dict], earlier: bool = False) -> str:
    """A vouched record's note: a reason a person declared, in full once for all the runs of ``codes`` it was
    given for (with each old -> new fingerprint pair); the checked "same source" of ``--refingerprint`` (each
    run's commit is in its provenance line) in one line for all such runs. ``earlier``: a vouch a later one
    replaced, said as such."""
    if fingerprint.is_same_source(code["vouched"]):
        return (f"{'earlier ' * earlier}fingerprint recomputed: the source at the run's commit is the "
                f"{'then-' * earlier}current source (tools/seal_records.py --refingerprint)")
    pairs = dict.fromkeys(f"{c['computed_with']} -> {c['fingerprint']}" for c in codes if c["vouched"] == code["vouched"])
    said = "earlier vouch" if earlier else "code vouched equal to the current"
    return f"{said} ({', '.join(pairs)}): {code['vouched']}"


@dataclass
class Source:
    """Where a notebook's outputs come from: its name and the parameters it runs with."""

    notebook: str
    namespace: Mapping[str, Any] = field(repr=False)
    tables_shown: int = field(default=0, init=False)

    def parameters(self) -> str:
        """The parameters that differ from the notebook's defaults (and always the profile)."""
        declared = notebook.declared_parameters(self.notebook)
        values = notebook.effective_parameters(self.notebook, self.namespace)
        shown = {k: v for k, v in values.items() if k == "profile" or v != declared[k]}
        return ", ".join(f"{k}={v!r}" for k, v in shown.items()) or "defaults"

    def caption(self, records: Sequence[Record] = ()) -> Markdown:
        """Which cell of which notebook, with which parameters, from which runs."""
        cell = current_cell()
        where = f"[cell {cell}](#cell-{cell}) of " if cell is not None else ""
        return Markdown(f"<small>Source: {where}`notebooks/{self.notebook}.ipynb` ({self.parameters()}); "
                        f"{runs_summary(records)}.</small>")

    def provenance(self, records: Sequence[Record] = (), note: str = "") -> None:
        """Display one line per run behind the notebook (its closing section); a notebook that computed its
        outputs itself passes no records and a ``note`` on its inputs."""
        display(Markdown(provenance_markdown(records, note)))

    def show(self, obj: Any, records: Sequence[Record] = (), csv: str | None = None, results: bool = False,
             data: pd.DataFrame | None = None) -> None:
        """Display a table or figure with its source line under it (a figure is closed, so it shows once).

        A table with no rows shows :data:`EMPTY_TABLE` instead (no CSV). A table (DataFrame or Styler) computed from runs (``records`` given) or named by ``csv`` is also written
        as CSV, named ``csv`` or ``table-<k>`` (the k-th table this notebook shows), with a download link under
        it; ``results=True`` makes it a results table, which :func:`lib.report.export.write_table` refuses
        without seeds and interval columns. ``data``, when given, is what the CSV holds (the numeric table behind
        a shown text table). A settings table (no records, no name) gets no CSV.
        """
        if isinstance(obj, (pd.DataFrame, Styler)) and tables.visible(obj.data if isinstance(obj, Styler) else obj).empty:
            self.tables_shown += bool(records or csv)  # later tables keep their CSV names
            display(Markdown(EMPTY_TABLE), self.caption(records))
        elif isinstance(obj, (pd.DataFrame, Styler)):
            table = tables.visible(obj.data if isinstance(obj, Styler) else obj)
            display({"text/plain": repr(table), "text/html": tables.to_html(obj)}, raw=True)
            if records or csv:
                self.tables_shown += 1
                name, root = csv or f"table-{self.tables_shown}", export.static_data_dir()
                export.write_table(table if data is None else data, self.notebook, name, root=root, results=results)
                link = export.site_link(export.table_path(self.notebook, name, root))
                display(Markdown(f"<small>{export.download_markdown(link)}</small>"))
            display(self.caption(records))
        elif isinstance(obj, Figure):
            display(Image(figure_png(obj), format="png"), self.caption(records))
            plt.close(obj)
        elif isinstance(obj, graphviz.Graph | graphviz.Digraph):
            display(Image(graph_png(obj), format="png"), self.caption(records))
        else:
            display(obj, self.caption(records))
