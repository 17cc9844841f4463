"""Every notebook, executed once (tests/notebook_runs.py) and read three ways: its figures and widgets, its tables,
and (the lessons) what it shows above each exercise. The three checks once ran three kernels over every notebook;
one shared run per notebook (cached for the session, and --dist loadfile keeps this file on one worker) took minutes
off CI (issue 29). notebooks/zh_CN/ runs the English code cells byte for byte (tests/test_translation.py), so its
figures and tables are these; executing them again would add minutes to CI.

Figures and widgets (test_figures_read_cleanly_and_widgets_stay_what_their_cell_showed): each figure reads cleanly,
and each widget still shows, at the end, what its own cell produced (a later cell that demonstrates or times a widget
uses its own instance). Figures are checked with qwen_lessons.plotting.figure_problems, from matplotlib's bounding
boxes. A cell that computes for long shows progress (qwen_lessons.progress): measured as the kernel's CPU time per
cell (time.process_time between IPython's pre- and post-execute events), which a busy machine does not inflate the
way it inflates wall-clock time, so the rule holds on a loaded CI runner as on a laptop. Output a reader cannot read
fails too: a displayed table longer than MAX_TABLE_ROWS, printed markup.

Tables (test_every_displayed_table_reads_cleanly): every HTML table a learner sees, in a cell's output or inside a
widget, read as a learner reads it; the rules are in tests/test_tables_display.py, with the tests that show each
rule catches its defect.

Answers (test_no_answer_is_shown_above_its_exercise): no lesson shows an exercise's answer above the exercise; the
rules are in tests/test_answer_leaks.py, with the tests of the matching itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import notebook_runs
import test_answer_leaks as answers
import test_tables_display as tables

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if not {".ipynb_checkpoints", "zh_CN"} & set(p.parts))

# Printed text that is really markup: the learner would read the tags instead of the formatting.
RAW_MARKUP = re.compile(r"<(span|div|table|b|i|p)[\s>]|&#x27;|&lt;")
# A displayed table longer than this is a wall: a lesson shows the rows its prose discusses (or the head with a
# count), and widgets use ui.table_html's top rows with "Show all".
MAX_TABLE_ROWS = 25
# A cell that keeps the kernel busy longer than this (CPU seconds; about the same in wall-clock seconds on an idle
# laptop, and one OpenBLAS thread computes the course's long cells) shows a progress bar.
SLOW_CELL_CPU_S = 3.0
TEXT_BAR = re.compile(r"\[[#.]{20}\] \d+/\d+")  # qwen_lessons.progress's bar on stderr


def body_rows(html: str) -> int:
    """Rows a reader sees at first: those behind a "Show all" (a closed <details>) are one click away."""
    body = html.split("<details", 1)[0].split("<tbody>", 1)[-1]
    return body.count("<tr")


def showed_progress(cell: notebook_runs.Cell) -> bool:
    for kind, content in cell.outputs:
        if kind == "stream" and content["name"] == "stderr" and TEXT_BAR.search(content["text"]):
            return True  # qwen_lessons.progress's text bar, outside a widget front end
        if kind == "display_data" and "IntProgress(" in content["data"].get("text/plain", ""):
            return True  # qwen_lessons.progress's bar
    return False


def reading_problems(cell: notebook_runs.Cell) -> list[str]:
    """A long computation without a progress bar, a wall of a table, printed markup."""
    problems = []
    number = cell.number
    if cell.cpu_seconds > SLOW_CELL_CPU_S and not showed_progress(cell):
        problems.append(f"code cell {number} computes for {cell.cpu_seconds:.1f} s of CPU with no progress bar "
                        f"(qwen_lessons.progress)")
    shown_html = [content["data"]["text/html"] for kind, content in cell.outputs
                  if kind in ("execute_result", "display_data") and "<table" in content["data"].get("text/html", "")]
    problems += [f"code cell {number} displays a table of {body_rows(html)} rows"
                 for html in shown_html if body_rows(html) > MAX_TABLE_ROWS]
    printed = "".join(content["text"] for kind, content in cell.outputs
                      if kind == "stream" and content["name"] == "stdout")
    if RAW_MARKUP.search(printed):
        problems.append(f"code cell {number} prints markup: {printed[:120]!r}")
    return problems


def moved_widgets(run: notebook_runs.Run) -> list[str]:
    """Widgets whose value at the end differs from their value after the cell that made them."""
    first_seen: dict[str, tuple[int, list]] = {}
    for cell in run.cells:
        for model_id, entry in cell.widget_values.items():
            first_seen.setdefault(model_id, (cell.number, entry))
    last = run.cells[-1].widget_values if run.cells else {}
    return [f"{kind} {description!r} (made in code cell {number}): {value[:80]!r} became {last[model_id][2][:80]!r}"
            for model_id, (number, (kind, description, value)) in first_seen.items()
            if model_id in last and last[model_id][2] != value]


def notebook_id(path: Path) -> str:
    return str(path.relative_to(ROOT / "notebooks"))


@pytest.mark.slow  # executes every notebook in a kernel (once for the three)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_figures_read_cleanly_and_widgets_stay_what_their_cell_showed(path):
    run = notebook_runs.run(path)
    assert run.error is None, run.failure()
    print(f"{path.name}: CPU seconds per code cell {[(c.number, round(c.cpu_seconds, 2)) for c in run.cells]}")
    problems = [problem for cell in run.cells for problem in reading_problems(cell)]
    moved = moved_widgets(run)
    assert not problems, f"{path.name}: output a reader cannot read:\n" + "\n".join(problems)
    assert not moved, f"{path.name}: later cells changed widgets above them:\n" + "\n".join(moved)
    assert not run.figure_report, f"{path.name}: figures a reader trips over:\n" + "\n".join(run.figure_report)


@pytest.mark.slow  # executes every notebook in a kernel (once for the three)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_every_displayed_table_reads_cleanly(path):
    run = notebook_runs.run(path)
    assert run.error is None, run.failure()
    problems = tables.run_problems(run)
    assert not problems, f"{path.name}: {len(problems)} table problem(s):\n" + "\n".join(dict.fromkeys(problems))


@pytest.mark.slow  # executes every notebook in a kernel (once for the three)
@pytest.mark.parametrize("path", answers.LESSONS, ids=lambda p: p.stem)
def test_no_answer_is_shown_above_its_exercise(path):
    run = notebook_runs.run(path)
    assert run.error is None, run.failure()
    leaks = answers.leaks_above_exercises(path, answers.shown_in_each_cell(run))
    assert not leaks, f"{path.name}: {len(leaks)} answers shown above their exercise:\n" + "\n".join(leaks)


# ------------------------------------------------------------------ the checks themselves catch what they must

def a_cell(number=1, outputs=(), cpu_seconds=0.0, widget_values=None) -> notebook_runs.Cell:
    return notebook_runs.Cell(number, list(outputs), cpu_seconds, widget_values or {})


def test_reading_problems_catch_a_long_cell_without_progress_a_wall_of_a_table_and_printed_markup():
    rows = "".join(f"<tr><td>{i}</td></tr>" for i in range(40))
    wall = ("display_data", {"data": {"text/html": f"<table><tbody>{rows}</tbody></table>"}, "metadata": {}})
    found = "\n".join(reading_problems(a_cell(3, [wall, ("stream", {"name": "stdout", "text": "<b>x</b>"})], 5.0)))
    assert "code cell 3 computes for 5.0 s" in found and "a table of 40 rows" in found and "prints markup" in found
    bar = ("stream", {"name": "stderr", "text": "[##########..........] 5/10"})
    shown_all = ("display_data", {"data": {"text/html": f"<table><tbody><tr><td>1</td></tr><details>{rows}"},
                                  "metadata": {}})
    assert reading_problems(a_cell(3, [bar, shown_all], 5.0)) == []


def test_a_widget_a_later_cell_changes_is_caught():
    made = {"m1": ["IntSlider", "layers", "28"]}
    run = notebook_runs.Run(Path("x.ipynb"), [a_cell(1, widget_values=made),
                                              a_cell(2, widget_values={**made, "m1": ["IntSlider", "layers", "4"]})])
    assert moved_widgets(run) == ["IntSlider 'layers' (made in code cell 1): '28' became '4'"]
    run.cells[1].widget_values = made
    assert moved_widgets(run) == []
