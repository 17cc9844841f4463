"""Asks before it tells: no lesson shows an exercise's answer above the exercise.

Every lesson notebook is run cell by cell in a kernel (once, for this and the other checks that read what cells
show: tests/notebook_runs.py; tests/test_notebook_runs.py applies leaks_above_exercises to each run). For each
exercise, the answers its self-check accepts (``check.accepted_answers()``, computed by the package: see
``qwen_lessons.checks.answer_check``) are looked for in everything the cells above the exercise show: printed lines,
cell results (text and HTML tables), the first state of every widget those cells build (its value, description,
options, placeholder, tooltip) and the text of every figure they draw (figures shown by the cell and pictures a
widget renders with savefig), axis tick labels aside: they are a scale, not a result.

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
import math
import re
from pathlib import Path

import nbformat
import pytest

import notebook_runs

from qwen_lessons.checks import exercise_checks

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0*_*.ipynb"))
SMALL_INTEGERS = range(0, 21)

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


def shown_in_each_cell(run: notebook_runs.Run) -> list[list[tuple[str, str]]]:
    """For each code cell of a run, what it showed as (kind, text) pairs: printed lines, results (HTML, else text),
    the first state of each widget it made, and the text of the figures it drew and of the pictures widgets saved.
    The run marks pandas' raw reprs (for the table checks); the mark is not something a learner reads."""
    per_cell = []
    seen_widgets: set[str] = set()
    for cell in run.cells:
        shown: list[tuple[str, str]] = []
        for kind, content in cell.outputs:
            if kind == "stream":
                shown.append(("printed line", content["text"]))
            elif kind in ("execute_result", "display_data"):
                data = content["data"]
                if "text/html" in data:
                    shown.append(("HTML", readable(data["text/html"])))
                elif "text/plain" in data and "application/vnd.jupyter.widget-view+json" not in data:
                    shown.append(("result", data["text/plain"]))
        shown += [("figure text", text) for text in cell.figure_texts]
        for model_id, texts in cell.widget_texts.items():
            if model_id not in seen_widgets:
                seen_widgets.add(model_id)
                shown += [("widget's first state", readable(text)) for text in texts]
        per_cell.append([(kind, text.replace(notebook_runs.RAW_MARK, "")) for kind, text in shown])
    return per_cell


def leaks_above_exercises(path: Path, shown: list[list[tuple[str, str]]]) -> list[str]:
    """Each rendering of an accepted answer that a code cell above the answer's exercise shows (cells counted from
    0), with its context."""
    checks = checks_of(path)
    exercise_at = exercise_cells(nbformat.read(path, as_version=4), checks)
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
    return leaks


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


def test_each_cell_shows_its_outputs_figures_and_new_widgets_first_state_without_the_raw_repr_mark():
    made = {"w1": ["<b>312</b> tokens", "context"]}
    first = notebook_runs.Cell(1, [("stream", {"name": "stdout", "text": notebook_runs.RAW_MARK + "0    312"}),
                                   ("execute_result", {"data": {"text/html": "<td>5.03&nbsp;GB</td>",
                                                                "text/plain": "frame"}}),
                                   ("display_data", {"data": {"text/plain": "HBox()",
                                                              "application/vnd.jupyter.widget-view+json": {}}})],
                               widget_texts=made, figure_texts=["peak 9.4 %"])
    later = notebook_runs.Cell(2, [], widget_texts={**made, "w2": ["later"]})
    shown = shown_in_each_cell(notebook_runs.Run(Path("x.ipynb"), [first, later]))
    assert shown == [[("printed line", "0    312"), ("HTML", " 5.03\xa0GB "), ("figure text", "peak 9.4 %"),
                      ("widget's first state", " 312  tokens"), ("widget's first state", "context")],
                     [("widget's first state", "later")]]
