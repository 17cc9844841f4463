"""The browser checks can fail: a widget that stops updating, an error in a cell, a cell that never ran.

A notebook written into the server's throw-away copy (never into the repository) holds all three faults;
the same helpers the lesson tests use must report each one.
"""

from __future__ import annotations

import nbformat
import pytest
from browser_harness import check_widget_case, output_problems, run_all_cells, unexecuted_cells
from widget_cases import START_HERE

pytestmark = pytest.mark.browser

# start_here's widget, rebuilt with the same controls and no observer: it looks right but never updates
FROZEN_WIDGET = """import ipywidgets as widgets

from qwen_lessons.lessons import start_here as lesson

sizes = lesson.checkpoint_sizes()
size = widgets.SelectionSlider(options=sizes, value=sizes[0][1], description="Model")
precision = widgets.Dropdown(options=list(lesson.PRECISION_BITS), value="bf16 (16-bit)", description="Precision")
result = widgets.HTML(lesson.weights_sentence(sizes[0][1], "bf16 (16-bit)")).add_class("qwen-weights")
widgets.VBox([size, precision, result])"""


def test_frozen_widget_error_and_skipped_cell_are_all_reported(lab, browser_context):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(FROZEN_WIDGET),
        nbformat.v4.new_code_cell("1 / 0"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(notebook, lab.root / "notebooks" / "faulty.ipynb")
    page = browser_context.new_page()
    try:
        page.goto(lab.url("lab/tree/notebooks/faulty.ipynb") + "&reset")
        run_all_cells(page, lab)
        assert unexecuted_cells(page) == [3]
        assert any("ZeroDivisionError" in problem for problem in output_problems(page))
        with pytest.raises(AssertionError, match="the widget shows"):
            check_widget_case(page, START_HERE, timeout_s=3)
    finally:
        page.close()
        lab.shutdown_sessions()
