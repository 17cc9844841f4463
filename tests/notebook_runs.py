"""Each notebook executed once for every test that reads what its cells show (tests/test_notebook_runs.py): the
figure and widget-state checks, the table checks and the answer-leak checks each ran their own kernel over every
notebook, and CI ran the suite twice, so one shared run per notebook saved minutes (issue 29).

run(path) executes the notebook cell by cell in one kernel, as Run All does, after one setup cell that installs
everything the three checks watch:
- pandas' own repr of a DataFrame or Series carries a mark (RAW_MARK), wherever its text goes (a bare Series as a
  cell's result, print(frame), an f-string); the mark never appears in anything the course made;
- the kernel's CPU time per cell (time.process_time between IPython's pre- and post-execute events), which a busy
  machine does not inflate the way it inflates wall-clock time;
- after every cell, each open figure is checked with qwen_lessons.plotting.figure_problems, its text is kept, it
  is saved for the review gallery (screenshots/figures/, git-ignored; scripts/write_gallery.py lays it out) and
  closed. plt.show() is made a no-op and the hook is registered before pyplot's (and the inline backend's), so it
  sees each figure exactly as it was drawn (setting MPLBACKEND=agg instead breaks matplotlib 3.8 with a newer
  IPython);
- a picture a widget renders with savefig keeps its text too.

After each code cell one more execution (SNAPSHOT) reads the cell's CPU time first (the snapshot's own execution
would overwrite it), then every live widget twice over: its value (for "widgets stay what their cell showed") and
its text-bearing state (for "no answer above its exercise"), and the figure texts since the last snapshot. The
widget state a front end would hold at the end (each widget's last synced state, closed widgets included, as
nbclient's store_widget_state keeps it) is rebuilt from the kernel's comm messages.

The record is cached for the test session, so the three tests of a notebook share one execution; pytest-xdist's
--dist loadfile keeps them on one worker.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import notebook_kernel

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "screenshots" / "figures"  # git-ignored; scripts/write_gallery.py lays them out
RAW_MARK = "\u2063raw-pandas-repr\u2063"
# What the checks read of a display: text and the widget view (a widget's own text/plain is not what it shows).
KEPT_DATA = ("text/plain", "text/html", "application/vnd.jupyter.widget-view+json")

SETUP = r"""
from IPython import get_ipython
import sys as _qwen_sys
import time as _qwen_time
import json as _qwen_json
import hashlib as _qwen_hashlib

_qwen_cpu = {"start": 0.0, "cell": 0.0}
def _qwen_cpu_start(*_):
    _qwen_cpu["start"] = _qwen_time.process_time()
def _qwen_cpu_stop(*_):
    _qwen_cpu["cell"] = _qwen_time.process_time() - _qwen_cpu["start"]
get_ipython().events.register("pre_execute", _qwen_cpu_start)
get_ipython().events.register("post_execute", _qwen_cpu_stop)  # first, so checking figures is not counted

import pandas as _qwen_pd
def _qwen_marked(original):
    return lambda self: _qwen_raw_mark + original(self)
for _qwen_kind in (_qwen_pd.DataFrame, _qwen_pd.Series):
    _qwen_kind.__repr__ = _qwen_marked(_qwen_kind.__repr__)
    _qwen_kind.__str__ = _qwen_kind.__repr__

import matplotlib.figure as _qwen_figure_module
from qwen_lessons.plotting import figure_problems as _qwen_figure_problems
_qwen_figure_report = []
_qwen_figure_texts = []
_qwen_figures_saved = [0]

def _qwen_texts(figure):
    import matplotlib.text
    ticks = {id(label) for ax in figure.axes for axis in (ax.xaxis, ax.yaxis) for label in axis.get_ticklabels(which="both")}
    return [t.get_text() for t in figure.findobj(matplotlib.text.Text)
            if id(t) not in ticks and t.get_visible() and t.get_text().strip()]

_qwen_savefig = _qwen_figure_module.Figure.savefig
def _qwen_recording_savefig(self, *args, **kwargs):  # a widget's picture
    _qwen_figure_texts.extend(_qwen_texts(self))
    return _qwen_savefig(self, *args, **kwargs)
_qwen_figure_module.Figure.savefig = _qwen_recording_savefig

def _qwen_after_cell(*_):
    if "matplotlib.pyplot" not in _qwen_sys.modules:
        return
    import matplotlib.pyplot as plt
    for number in plt.get_fignums():
        figure = plt.figure(number)
        title = figure._suptitle.get_text() if figure._suptitle else (figure.axes[0].get_title() if figure.axes else "")
        _qwen_figure_report.extend(f"figure {title!r}: {problem}" for problem in _qwen_figure_problems(figure))
        _qwen_figure_texts.extend(_qwen_texts(figure))
        _qwen_figures_saved[0] += 1  # for the review gallery; the original savefig: its text is kept once
        _qwen_savefig(figure, f"{_qwen_gallery_prefix}_{_qwen_figures_saved[0]:02d}.png", dpi=80)
    plt.close("all")
get_ipython().events.register("post_execute", _qwen_after_cell)
import matplotlib.pyplot as _qwen_plt
_qwen_plt.show = lambda *args, **kwargs: None

from ipywidgets.widgets.widget import _instances as _qwen_instances
def _qwen_value(widget):
    value = widget.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _qwen_hashlib.sha1(bytes(value)).hexdigest()
    return repr(value)[:4000]
def _qwen_widget_texts(widget):
    state = widget.get_state()
    texts = [state.get(key) for key in ("value", "description", "placeholder", "tooltip", "description_tooltip")]
    texts += list(state.get("_options_labels") or ())
    return [str(text) for text in texts if isinstance(text, (str, int, float)) and not isinstance(text, bool)]
"""
# The CPU time of the cell just run is read first, before anything else of the snapshot runs.
SNAPSHOT = r"""
print(_qwen_json.dumps({
    "cpu": _qwen_cpu["cell"],
    "values": {model_id: [type(w).__name__, str(getattr(w, "description", "")), _qwen_value(w)]
               for model_id, w in list(_qwen_instances.items()) if hasattr(w, "value")},
    "texts": {model_id: _qwen_widget_texts(w) for model_id, w in list(_qwen_instances.items())},
    "figures": _qwen_figure_texts}))
_qwen_figure_texts.clear()
"""
REPORT = "print(_qwen_json.dumps(_qwen_figure_report))"


@dataclass
class Cell:
    """One code cell's run: what it sent (message type, content) and what the snapshot after it read."""
    number: int  # counted from 1 among the code cells
    outputs: list[tuple[str, dict]]  # stream, display_data, execute_result, clear_output, ... (not errors)
    cpu_seconds: float = 0.0
    widget_values: dict[str, list] = field(default_factory=dict)  # model id -> [type, description, value]
    widget_texts: dict[str, list[str]] = field(default_factory=dict)  # model id -> texts of its state
    figure_texts: list[str] = field(default_factory=list)  # figures it drew and pictures widgets saved

    def notebook_outputs(self) -> list:
        """The outputs as a notebook stores them (consecutive stream text of one name joined), each version of an
        updated display and what a later clear_output removed included: everything a reader saw."""
        outputs = []
        for kind, content in self.outputs:
            if kind == "stream" and outputs and outputs[-1].output_type == "stream" \
                    and outputs[-1].name == content["name"]:
                outputs[-1].text += content["text"]
            elif kind in ("stream", "display_data", "execute_result", "update_display_data"):
                kind = "display_data" if kind == "update_display_data" else kind
                outputs.append(nbformat.v4.output_from_msg({"header": {"msg_type": kind}, "content": content}))
        return outputs


@dataclass
class Run:
    path: Path
    cells: list[Cell] = field(default_factory=list)
    error: str | None = None  # "code cell N: Name: value" when a cell (or the setup) failed; later cells did not run
    figure_report: list[str] = field(default_factory=list)
    widget_state: dict[str, dict] = field(default_factory=dict)  # comm id -> the widget's last synced state

    def failure(self) -> str | None:
        return f"{self.path.name} {self.error}" if self.error else None


class _Kernel(notebook_kernel.Kernel):
    def run(self, code: str, widget_state: dict[str, dict]) -> tuple[list[tuple[str, dict]], str | None]:
        outputs: list[tuple[str, dict]] = []

        def keep(kind, content):
            if kind in ("comm_open", "comm_msg") and "state" in content.get("data", {}):
                widget_state.setdefault(content["comm_id"], {}).update(content["data"]["state"])
            elif kind in ("stream", "display_data", "execute_result", "update_display_data", "clear_output"):
                if "data" in content:
                    content = {**content, "data": {k: v for k, v in content["data"].items() if k in KEPT_DATA}}
                outputs.append((kind, content))

        return outputs, self.execute(code, keep)


def _printed(outputs: list[tuple[str, dict]]) -> str:
    return "".join(content["text"] for kind, content in outputs if kind == "stream" and content["name"] == "stdout")


@functools.cache
def run(path: Path) -> Run:
    """The notebook at path, executed once per test session (see the module docstring)."""
    notebook = nbformat.read(path, as_version=4)
    record = Run(path)
    FIGURES.mkdir(parents=True, exist_ok=True)
    prefix = FIGURES / "_".join(path.relative_to(ROOT / "notebooks").with_suffix("").parts)
    kernel = _Kernel(path.parent)
    try:
        setup = f"_qwen_gallery_prefix = {str(prefix)!r}\n_qwen_raw_mark = {RAW_MARK!r}\n" + SETUP
        error = kernel.run(setup, record.widget_state)[1]
        if error:
            record.error = f"setup: {error}"
            return record
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        for number, source in enumerate((cell.source for cell in code_cells), start=1):
            outputs, error = kernel.run(source, record.widget_state)
            cell = Cell(number, outputs)
            record.cells.append(cell)
            if error:
                record.error = f"code cell {number}: {error}"
                return record
            printed, error = kernel.run(SNAPSHOT, record.widget_state)
            if error:
                record.error = f"snapshot after code cell {number}: {error}"
                return record
            snapshot = json.loads(_printed(printed))
            cell.cpu_seconds = snapshot["cpu"]
            cell.widget_values, cell.widget_texts = snapshot["values"], snapshot["texts"]
            cell.figure_texts = snapshot["figures"]
        printed, error = kernel.run(REPORT, record.widget_state)
        record.figure_report = json.loads(_printed(printed)) if error is None else [f"figure report: {error}"]
    except Exception as failure:  # a timeout or a dead kernel: recorded, so the other tests do not run it again
        record.error = f"{type(failure).__name__}: {failure}"
    finally:
        kernel.close()
    return record
