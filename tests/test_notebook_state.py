"""Every notebook, run cell by cell in a kernel as Run All does: each figure reads cleanly, and each widget still
shows, at the end, what its own cell produced (a later cell that demonstrates or times a widget uses its own
instance). Figures are checked with qwen_lessons.plotting.figure_problems, from matplotlib's bounding boxes.
A cell that computes for long shows progress (qwen_lessons.progress): measured as the kernel's CPU time per cell
(time.process_time between IPython's pre- and post-execute events), which a busy machine does not inflate the way
it inflates wall-clock time, so the rule holds on a loaded CI runner as on a laptop."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

import notebook_kernel

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # executes every notebook in a kernel
FIGURES = ROOT / "screenshots" / "figures"  # git-ignored; scripts/write_gallery.py lays them out
# notebooks/zh_CN/ runs the English code cells byte for byte (tests/test_translation.py), so its figures and tables
# are these; executing them twice more would add minutes to CI.
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if not {".ipynb_checkpoints", "zh_CN"} & set(p.parts))

# Runs once in the kernel before the notebook: after every cell, check and close the open figures. plt.show() is
# made a no-op and this hook is registered before pyplot (and the inline backend's own hook), so the check sees
# each figure exactly as it was drawn. (Setting MPLBACKEND=agg instead breaks matplotlib 3.8 with a newer IPython.)
SETUP = r"""
from IPython import get_ipython
import time as _qwen_time
_qwen_cpu = {"start": 0.0, "cell": 0.0}
def _qwen_cpu_start(*_):
    _qwen_cpu["start"] = _qwen_time.process_time()
def _qwen_cpu_stop(*_):
    _qwen_cpu["cell"] = _qwen_time.process_time() - _qwen_cpu["start"]
get_ipython().events.register("pre_execute", _qwen_cpu_start)
get_ipython().events.register("post_execute", _qwen_cpu_stop)  # first, so checking figures is not counted
from qwen_lessons.plotting import figure_problems as _qwen_figure_problems
_qwen_figure_report = []
_qwen_figures_saved = [0]
def _qwen_after_cell(*_):
    import sys
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt
    for number in plt.get_fignums():
        figure = plt.figure(number)
        title = figure._suptitle.get_text() if figure._suptitle else (figure.axes[0].get_title() if figure.axes else "")
        _qwen_figure_report.extend(f"figure {title!r}: {problem}" for problem in _qwen_figure_problems(figure))
        _qwen_figures_saved[0] += 1  # for the review gallery (screenshots/, git-ignored)
        figure.savefig(f"{_qwen_gallery_prefix}_{_qwen_figures_saved[0]:02d}.png", dpi=80)
    plt.close("all")
get_ipython().events.register("post_execute", _qwen_after_cell)
import matplotlib.pyplot as _qwen_plt
_qwen_plt.show = lambda *args, **kwargs: None
"""
SNAPSHOT = r"""
import json as _qwen_json, hashlib as _qwen_hashlib
from ipywidgets.widgets.widget import _instances as _qwen_instances
def _qwen_value(widget):
    value = widget.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _qwen_hashlib.sha1(bytes(value)).hexdigest()
    return repr(value)[:4000]
print(_qwen_json.dumps({model_id: [type(w).__name__, str(getattr(w, "description", "")), _qwen_value(w)]
                        for model_id, w in list(_qwen_instances.items()) if hasattr(w, "value")}))
"""
REPORT = "print(_qwen_json.dumps(_qwen_figure_report))"


# Printed text that is really markup: the learner would read the tags instead of the formatting.
RAW_MARKUP = re.compile(r"<(span|div|table|b|i|p)[\s>]|&#x27;|&lt;")
# A displayed table longer than this is a wall: a lesson shows the rows its prose discusses (or the head with a
# count), and widgets use ui.table_html's top rows with "Show all".
MAX_TABLE_ROWS = 25
# A cell that keeps the kernel busy longer than this (CPU seconds; about the same in wall-clock seconds on an idle
# laptop, and one OpenBLAS thread computes the course's long cells) shows a progress bar.
SLOW_CELL_CPU_S = 3.0
TEXT_BAR = re.compile(r"\[[#.]{20}\] \d+/\d+")  # qwen_lessons.progress's bar on stderr
CPU_OF_LAST_CELL = 'print(_qwen_cpu["cell"])'


def body_rows(html: str) -> int:
    """Rows a reader sees at first: those behind a "Show all" (a closed <details>) are one click away."""
    body = html.split("<details", 1)[0].split("<tbody>", 1)[-1]
    return body.count("<tr")


class Kernel(notebook_kernel.Kernel):
    def run(self, code: str) -> tuple[str, str | None]:
        """Run code; return (stdout, error text or None). The HTML tables it displays are kept in self.tables."""
        out: list[str] = []
        self.tables = []
        self.showed_progress = False

        def keep(kind, content):
            if kind == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            elif kind == "stream" and content["name"] == "stderr" and TEXT_BAR.search(content["text"]):
                self.showed_progress = True  # qwen_lessons.progress's text bar, outside a widget front end
            elif kind == "display_data" and "IntProgress(" in content["data"].get("text/plain", ""):
                self.showed_progress = True  # qwen_lessons.progress's bar
            elif kind in ("execute_result", "display_data") and "<table" in content["data"].get("text/html", ""):
                self.tables.append(content["data"]["text/html"])

        error = self.execute(code, keep)
        return "".join(out), error


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_figures_read_cleanly_and_widgets_stay_what_their_cell_showed(path):
    notebook = nbformat.read(path, as_version=4)
    kernel = Kernel(path.parent)
    try:
        FIGURES.mkdir(parents=True, exist_ok=True)
        prefix = FIGURES / "_".join(path.relative_to(ROOT / "notebooks").with_suffix("").parts)
        assert kernel.run(f"_qwen_gallery_prefix = {str(prefix)!r}\n" + SETUP)[1] is None
        first_seen: dict[str, tuple[int, list]] = {}
        last: dict[str, list] = {}
        number = 0
        reading_problems = []
        cell_cpu: list[tuple[int, float]] = []
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            number += 1
            printed, error = kernel.run(cell.source)
            assert error is None, f"{path.name} code cell {number}: {error}"
            showed_progress = kernel.showed_progress
            cpu_seconds = float(kernel.run(CPU_OF_LAST_CELL)[0])
            if cpu_seconds > SLOW_CELL_CPU_S and not showed_progress:
                reading_problems.append(f"code cell {number} computes for {cpu_seconds:.1f} s of CPU with no "
                                        f"progress bar (qwen_lessons.progress)")
            cell_cpu.append((number, round(cpu_seconds, 2)))
            reading_problems += [f"code cell {number} displays a table of {body_rows(html)} rows"
                                 for html in kernel.tables if body_rows(html) > MAX_TABLE_ROWS]
            if RAW_MARKUP.search(printed):
                reading_problems.append(f"code cell {number} prints markup: {printed[:120]!r}")
            state = json.loads(kernel.run(SNAPSHOT)[0])
            for model_id, entry in state.items():
                first_seen.setdefault(model_id, (number, entry))
            last = state
        figure_report = json.loads(kernel.run(REPORT)[0])
        print(f"{path.name}: CPU seconds per code cell {cell_cpu}")
    finally:
        kernel.close()
    moved = [f"{kind} {description!r} (made in code cell {cell}): {value[:80]!r} became {last[model_id][2][:80]!r}"
             for model_id, (cell, (kind, description, value)) in first_seen.items()
             if model_id in last and last[model_id][2] != value]
    assert not reading_problems, f"{path.name}: output a reader cannot read:\n" + "\n".join(reading_problems)
    assert not moved, f"{path.name}: later cells changed widgets above them:\n" + "\n".join(moved)
    assert not figure_report, f"{path.name}: figures a reader trips over:\n" + "\n".join(figure_report)
