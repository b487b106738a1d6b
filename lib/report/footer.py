"""Where every table and figure comes from: one API for the whole book.

``source = Source(notebook, globals())`` is made once per notebook; ``source.show(obj, records)`` displays a
table or figure with a one-line source under it (notebook cell, parameters, commit, data, device, time),
and ``source.provenance(records)`` ends the notebook with one line per run. The cell link points at the ``cell-<n>`` anchor that the
book's ``cell_anchors`` extension gives every executed code cell (``n`` is its execution count).
"""

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from lib.pipeline import notebook, provenance
from lib.pipeline.results import Record


def current_cell() -> int | None:
    """The execution count of the running notebook cell (IPython has already counted it), else None."""
    shell = get_ipython()
    return None if shell is None else shell.execution_count - 1


def _unique(values: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(values)) or "-"


def run_line(record: Record) -> str:
    """One run: key, profile and seed, commit, data and checksum, device, torch, wall time and date."""
    p, data = record.provenance, record.provenance["data"]
    return (f"run `{record.key}` ({record.config.get('profile', '?')}, seed {record.config.get('seed', '?')}): "
            f"commit `{p['git']['commit'][:10]}`{' (lib edited)' if p['git']['lib_dirty'] else ''}, "
            f"data {data.get('name')} [{data.get('kind')}] sha256 `{str(data.get('checksum'))[:12]}`, "
            f"{p['hardware']['device']} ({p['hardware']['cpu_count']} cores, {p['hardware']['torch_threads']} threads), "
            f"torch {p['software']['torch']}, {p['wall_time_s'] / 60:.1f} min, {p['date']}")


def provenance_markdown(records: Sequence[Record]) -> str:
    """A markdown list of the runs behind a notebook (a line saying so when there are none)."""
    if not records:
        return "**Provenance**\n\nNo run record: nothing here was computed from a cached run."
    return "**Provenance**\n\n" + "\n".join(f"- {run_line(r)}" for r in records)


def runs_summary(records: Sequence[Record]) -> str:
    """Commit(s), data and checksum, device and total wall time of the runs behind one table or figure."""
    if not records:
        git = provenance.git_state()
        return f"computed here at commit `{str(git['commit'])[:10]}`{' (lib edited)' if git['lib_dirty'] else ''}"
    prov = [r.provenance for r in records]
    commits = _unique([p["git"]["commit"][:10] + (" (lib edited)" if p["git"]["lib_dirty"] else "") for p in prov])
    data = _unique([f"{p['data'].get('name')} [{p['data'].get('kind')}] sha256 {str(p['data'].get('checksum'))[:12]}"
                    for p in prov])
    devices = _unique([f"{p['hardware']['device']}, {p['hardware']['torch_threads']} thread(s)" for p in prov])
    minutes = sum(p["wall_time_s"] for p in prov) / 60
    return f"{len(records)} run(s), commit {commits}; data {data}; {devices}; {minutes:.1f} min of runs{trust_marks(records)}"


def trust_marks(records: Sequence[Record]) -> str:
    """What the reader must know about the runs' trust: stale/altered/unsealed marks, vouched code, divergence."""
    notes = [r.mark for r in records if r.mark]
    notes += [f"code {r.provenance['code']['computed_with']} vouched equal to {r.provenance['code']['fingerprint']}: "
              f"{r.provenance['code']['vouched']}" for r in records if "vouched" in (r.provenance.get("code") or {})]
    notes += [f"diverged at {r.metrics['diverged']['where']}" for r in records if r.status == "diverged"]
    counted = {note: notes.count(note) for note in notes}
    return "".join(f"; **{note}** ({n} run(s))" for note, n in counted.items())


@dataclass
class Source:
    """Where a notebook's outputs come from: its name and the parameters it runs with."""

    notebook: str
    namespace: Mapping[str, Any] = field(repr=False)

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

    def provenance(self, records: Sequence[Record]) -> None:
        """Display one line per run behind the notebook (its closing section)."""
        display(Markdown(provenance_markdown(records)))

    def show(self, obj: Any, records: Sequence[Record] = ()) -> None:
        """Display a table or figure with its source line under it (a figure is closed, so it shows once)."""
        display(obj, self.caption(records))
        if isinstance(obj, Figure):
            plt.close(obj)
