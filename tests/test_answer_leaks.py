"""Asks before it tells: no lesson shows an exercise's answer above the exercise.

Every lesson notebook is run cell by cell in its own kernel. For each exercise, the answers its self-check accepts
(``check.accepted_answers()``, computed by the package: see ``qwen_lessons.checks.answer_check``) are looked for
in everything the cells above the exercise show: printed lines, cell results (text and HTML tables), the first
state of every widget those cells build (its value, description, options, placeholder, tooltip) and the text of
every figure they draw (figures shown by the cell and pictures a widget renders with savefig), axis tick labels
aside: they are a scale, not a result.

What is looked for, and why:
- A number is written the usual ways: an integer as 312, 312.0 and "32,768"; any number rounded to 1, 2 and 3
  decimals with and without thousands separators (5.0, 5.03, 5.028); a share between 0 and 1 also as a
  percentage (9 %, 9.4 %, 9.36 %). A number is found only as a whole number: 312 is not found in 1312, 3,312,
  312.5 or -312. A rendering found is a leak when the self-check accepts it (a learner could copy it and pass); a
  percentage is a leak whenever its share is the answer, since only the unit would be left to change.
- Integer answers from 0 to 20 are not looked for: such small numbers appear in every lesson as counts, ranks and
  sizes, and finding them would say nothing. Renderings with fewer than two significant digits (0.1, 5) are not
  looked for either, for the same reason.
- Durations (a number followed by s, ms or µs) are not looked in: they are the timings of this run, which change
  from run to run and could match an answer by chance, or clip lengths the lesson gives. No exercise asks for
  seconds (test_no_exercise_asks_for_seconds keeps it so).
- A text answer is looked for only when it is a whole prompt (it spans lines): such a text shown above its
  exercise is the answer. A name (model id, GPU id, a verdict word, a stage) is not: the lesson has to show the
  names the learner chooses among.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import io
import json
import math
import re
from pathlib import Path

import nbformat
import pytest

import notebook_kernel

from qwen_lessons.checks import exercise_checks

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0*_*.ipynb"))
SMALL_INTEGERS = range(0, 21)

# Runs in the kernel before the notebook. After every cell the text of each open figure is kept and the figure
# closed (plt.show() does nothing, so the hook, registered before pyplot's own, sees every figure); a picture a
# widget renders with savefig keeps its text too.
SETUP = r"""
from IPython import get_ipython
import matplotlib.figure as _leak_figure_module

_leak_figure_texts = []

def _leak_texts(figure):
    import matplotlib.text
    ticks = {id(label) for ax in figure.axes for axis in (ax.xaxis, ax.yaxis) for label in axis.get_ticklabels(which="both")}
    return [t.get_text() for t in figure.findobj(matplotlib.text.Text)
            if id(t) not in ticks and t.get_visible() and t.get_text().strip()]

_leak_savefig = _leak_figure_module.Figure.savefig
def _leak_recording_savefig(self, *args, **kwargs):
    _leak_figure_texts.extend(_leak_texts(self))
    return _leak_savefig(self, *args, **kwargs)
_leak_figure_module.Figure.savefig = _leak_recording_savefig

def _leak_after_cell(*_):
    import sys
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt
    for number in plt.get_fignums():
        _leak_figure_texts.extend(_leak_texts(plt.figure(number)))
    plt.close("all")
get_ipython().events.register("post_execute", _leak_after_cell)
import matplotlib.pyplot as _leak_plt
_leak_plt.show = lambda *args, **kwargs: None
"""
# Prints, as JSON, the figure texts since the last call and the text-bearing state of every widget alive now.
SNAPSHOT = r"""
import json as _leak_json
from ipywidgets.widgets.widget import _instances as _leak_instances
def _leak_widget_texts(widget):
    state = widget.get_state()
    texts = [state.get(key) for key in ("value", "description", "placeholder", "tooltip", "description_tooltip")]
    texts += list(state.get("_options_labels") or ())
    return [str(text) for text in texts if isinstance(text, (str, int, float)) and not isinstance(text, bool)]
print(_leak_json.dumps({"figures": _leak_figure_texts,
                        "widgets": {key: _leak_widget_texts(w) for key, w in list(_leak_instances.items())}}))
_leak_figure_texts.clear()
"""

TAG = re.compile(r"<[^>]+>")
DURATION = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:ms|µs|s|seconds?)\b")


def readable(text: str) -> str:
    """What a reader sees of an HTML or plain text: tags become spaces, entities characters."""
    return html.unescape(TAG.sub(" ", text))


def number_pattern(rendering: str) -> re.Pattern:
    """A rendering found only as a whole number: not inside 1312, 3,312, 312.5, 0.312 or -312."""
    return re.compile(r"(?<![\d.\-−])(?<!\d,)" + re.escape(rendering) + r"(?!\d)(?![.,]\d)")


def significant_digits(rendering: str) -> int:
    return len(rendering.replace(",", "").replace(".", "").lstrip("-0"))


def renderings(value: float) -> dict[str, float]:
    """The usual ways a number is written, each with the value a learner copying it would type."""
    shown: dict[str, float] = {}
    if float(value).is_integer():
        whole = int(value)
        shown.update({f"{whole}": whole, f"{whole:,}": whole, f"{whole}.0": whole, f"{whole:,}.0": whole})
    for decimals in (1, 2, 3):
        rounded = round(value, decimals)
        shown.update({f"{value:.{decimals}f}": rounded, f"{value:,.{decimals}f}": rounded})
    if abs(value) >= 100 and not float(value).is_integer():
        shown.update({f"{round(value)}": round(value), f"{round(value):,}": round(value)})
    return {text: typed for text, typed in shown.items() if significant_digits(text) >= 2}


def percent_renderings(value: float) -> list[str]:
    """A share between 0 and 1 written as a percentage (9 %, 9.4 %, 9.36 %)."""
    if not 0 < value < 1:
        return []
    return sorted({f"{100 * value:.{decimals}f}" for decimals in (0, 1, 2)})


def accepted_by(check, typed: float) -> bool:
    with contextlib.redirect_stdout(io.StringIO()):
        return bool(check(typed))


def leaks_in(text: str, check, answers) -> list[str]:
    """The renderings of a check's accepted answers that a text shows (and the check would accept)."""
    found = []
    text = DURATION.sub(" ", text)
    for answer in answers:
        if isinstance(answer, str):
            if "\n" in answer and answer in text:
                found.append(answer.splitlines()[0] + " ...")
            continue
        if isinstance(answer, bool) or not isinstance(answer, int | float) or not math.isfinite(answer):
            continue
        if float(answer).is_integer() and int(answer) in SMALL_INTEGERS:
            continue
        for rendering, typed in renderings(float(answer)).items():
            if number_pattern(rendering).search(text) and accepted_by(check, typed):
                found.append(rendering)
        for rendering in percent_renderings(float(answer)):
            if significant_digits(rendering) >= 2 and re.search(number_pattern(rendering).pattern + r"\s?%", text):
                found.append(rendering + " %")
    return found


def exercise_cells(notebook, checks: dict) -> dict[str, int]:
    """For each check, the index of the first code cell that names it: the exercise's cell."""
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    where = {}
    for name in checks:
        pattern = re.compile(rf"\b{name}\b")
        where[name] = next(i for i, source in enumerate(code) if pattern.search(source))
    return where


class Kernel(notebook_kernel.Kernel):
    def run(self, code: str) -> tuple[list[tuple[str, str]], str | None]:
        """Run code; return what it showed as (kind, text) pairs, and the error or None."""
        shown: list[tuple[str, str]] = []

        def keep(kind, content):
            if kind == "stream":
                shown.append(("printed line", content["text"]))
            elif kind in ("execute_result", "display_data"):
                data = content["data"]
                if "text/html" in data:
                    shown.append(("HTML", readable(data["text/html"])))
                elif "text/plain" in data and "application/vnd.jupyter.widget-view+json" not in data:
                    shown.append(("result", data["text/plain"]))

        return shown, self.execute(code, keep)


def shown_above_each_cell(path: Path) -> list[list[tuple[str, str]]]:
    """Run a notebook; for each code cell, what it showed: outputs, its new widgets' first state, figure text."""
    notebook = nbformat.read(path, as_version=4)
    kernel = Kernel(path.parent)
    per_cell = []
    seen_widgets: set[str] = set()
    try:
        assert kernel.run(SETUP)[1] is None
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            shown, error = kernel.run(cell.source)
            assert error is None, f"{path.name} code cell {number}: {error}"
            printed, error = kernel.run(SNAPSHOT)
            assert error is None, error
            snapshot = json.loads("".join(text for _, text in printed))
            shown += [("figure text", text) for text in snapshot["figures"]]
            for model_id, texts in snapshot["widgets"].items():
                if model_id not in seen_widgets:
                    seen_widgets.add(model_id)
                    shown += [("widget's first state", readable(text)) for text in texts]
            per_cell.append(shown)
    finally:
        kernel.close()
    return per_cell


def checks_of(path: Path) -> dict:
    stem = path.stem.split("_", 1)[1]
    return exercise_checks(importlib.import_module(f"qwen_lessons.checks.{stem}"))


def test_every_lesson_declares_its_answers():
    """Each lesson's checks are found, and each exercise with a value for an answer declares it."""
    for path in LESSONS:
        checks = checks_of(path)
        assert checks, f"{path.name}: no exercise checks found"
        exercise_cells(nbformat.read(path, as_version=4), checks)  # every check is used by a cell
        declared = [name for name, check in checks.items() if check.accepted_answers()]
        assert declared, f"{path.name}: no check declares its accepted answers"


def test_no_exercise_asks_for_seconds():
    """The duration rule above would hide an answer given in seconds: no check may ask for one."""
    for path in LESSONS:
        for name, check in checks_of(path).items():
            assert not re.search(r"\b(in|how many) (milli)?seconds\b", check.__doc__ or "", re.IGNORECASE), \
                f"{name} asks for seconds: the duration rule of this test would hide its answer"


@pytest.mark.parametrize("rendered, shown, found", [
    (312, "the counter opens at 12.5 s -> 312 tokens", True),
    (312, "1312 tokens, 3,312 tokens, 312.5 s, 0.312", False),
    (312, "| 312.0 |", True),
    (32768, "context: 32,768 tokens", True),
    (32768, "context: 32768", True),
    (5.028, "Q4_K_M: 5.03 GB", True),
    (5.028, "Q4_K_M: 5.028 GB", True),
    (5.028, "Q4_K_M: 5.9 GB, 15.028 GB", False),
    (3.0, "error -3.0 %", False),
    (-1.19, "GSM8K: -1.19 points per doubling", True),
    (0.0936, "a token uses 9.36 % of the weights", True),
    (7, "7 images", False),  # a small integer: not looked for
    (33, "100,000 clip lengths counted in 33.0 ms", False),  # a timing of this run
])
def test_renderings_are_found_as_whole_numbers(rendered, shown, found):
    def accepts_close(answer):  # a check that accepts 0.5 % around the value, as the lessons' checks do
        return abs(answer - rendered) <= 0.005 * abs(rendered)

    accepts_close.accepted_answers = lambda: (rendered,)
    assert bool(leaks_in(shown, accepts_close, (rendered,))) is found


@pytest.mark.slow  # executes every lesson in a kernel
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_answer_is_shown_above_its_exercise(path):
    checks = checks_of(path)
    exercise_at = exercise_cells(nbformat.read(path, as_version=4), checks)
    shown = shown_above_each_cell(path)
    leaks = []
    for name, check in checks.items():
        answers = check.accepted_answers()
        for number, outputs in enumerate(shown[:exercise_at[name]]):
            for kind, text in outputs:
                for rendering in leaks_in(text, check, answers):
                    at = text.find(rendering.removesuffix(" %").removesuffix(" ..."))
                    context = " ".join(text[max(0, at - 60):at + 60].split())
                    leaks.append(f"{name} (code cell {exercise_at[name]}) accepts {rendering!r}, shown in a "
                                 f"{kind} of code cell {number}: ...{context}...")
    assert not leaks, f"{path.name}: {len(leaks)} answers shown above their exercise:\n" + "\n".join(leaks)
