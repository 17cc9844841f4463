"""Every lesson notebook in a real JupyterLab + Chromium: runs clean, and its widgets answer like qwen_lessons.

For each notebook: open it, run all cells, wait for the kernel to go idle, check that no cell shows an
error or an unrendered widget, then act on widgets as a learner would (pick an option, type a number,
press a key on a slider) and check that each result shows exactly what the qwen_lessons function returns
for that input, and run axe-core over what the lesson draws. A screenshot per notebook goes to screenshots/
(git-ignored).
"""

from __future__ import annotations

import time

import pytest
from browser_harness import (
    LAB_FIGURE_WITHOUT_ALT,
    NOTEBOOKS,
    UNNAMED_SLIDER_HANDLE,
    accessibility_problems,
    check_widget_case,
    layout_problems,
    output_problems,
    run_all_cells,
    screenshot,
    unexecuted_cells,
)
from widget_cases import LESSON_CASES

pytestmark = pytest.mark.browser

# lessons are 00-89; 90-99 are apps (tested in test_voila_browser.py)
LESSONS = sorted(path.stem for path in NOTEBOOKS.glob("[0-8][0-9]_*.ipynb"))
LESSON_CONTENT = [".jp-Notebook .jp-MarkdownOutput", ".jp-Notebook .jp-OutputArea"]  # not Lab's own interface


@pytest.mark.parametrize("notebook", LESSONS)
def test_lesson_runs_clean_and_its_widgets_answer(notebook, lab, browser_context, timings):
    page = browser_context.new_page()
    try:
        opened = time.monotonic()
        page.goto(lab.url(f"lab/tree/notebooks/{notebook}.ipynb") + "&reset")
        timings[f"{notebook}: run all cells"] = run_all_cells(page, lab)

        not_run = unexecuted_cells(page)
        assert not not_run, f"{notebook}: code cells {not_run} did not run (an error stops Run All)"
        problems = output_problems(page)
        assert not problems, f"{notebook}:\n" + "\n".join(problems)
        # issue 25: what the lesson draws (its text and outputs, not JupyterLab's own menus) passes axe-core
        problems = accessibility_problems(page, include=LESSON_CONTENT, known=(UNNAMED_SLIDER_HANDLE, LAB_FIGURE_WITHOUT_ALT))
        assert not problems, f"{notebook}: accessibility:\n" + "\n".join(problems)
        layout = layout_problems(page)

        case = LESSON_CASES.get(notebook)
        if case is None:
            screenshot(page, notebook)
            pytest.fail(f"{notebook} runs clean but has no widget case: add one to LESSON_CASES in widget_cases.py")
        shown = check_widget_case(page, case, gallery_name=notebook)
        screenshot(page, f"{notebook}_after", focus=shown)
        layout += [f"after {case.actions}: {problem}" for problem in layout_problems(page)]
        assert not layout, f"{notebook}: widgets a learner cannot read:\n" + "\n".join(dict.fromkeys(layout))
        timings[f"{notebook}: total"] = time.monotonic() - opened
    finally:
        page.close()
        lab.shutdown_sessions()
