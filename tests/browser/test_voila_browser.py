"""The calculators app (notebooks/90_calculators_app.ipynb) in Voila, as a workshop and Binder serve it.

Two ways in: the `voila` command an instructor runs, and JupyterLab's /voila/render/ path that the Binder
link (?urlpath=voila/render/notebooks/90_calculators_app.ipynb) opens. On each, every calculator must render
without errors and show what qwen_lessons computes after a learner changes a control.
"""

from __future__ import annotations

import re
import time

import pytest
from browser_harness import (
    NOTEBOOKS,
    UNNAMED_SLIDER_HANDLE,
    accessibility_problems,
    check_widget_case,
    layout_problems,
    output_problems,
    start_voila,
)
from widget_cases import APP_CASES

pytestmark = pytest.mark.browser

APP = "notebooks/90_calculators_app.ipynb"
VOILA_ERROR = re.compile(r"There was an error when executing cell|Traceback \(most recent call last\)")


@pytest.fixture(scope="module")
def voila_server(browser, tmp_path_factory, timings):
    started = time.monotonic()
    server = start_voila(tmp_path_factory.mktemp("voila"), APP)
    timings["Voila start"] = time.monotonic() - started
    try:
        yield server
    finally:
        server.stop()


def check_app(page, label: str) -> list[str]:
    """Run every calculator case on the open app page; return the failures (all of them, not just the first)."""
    failures = []
    page.locator(".widget-html").first.wait_for(timeout=90_000)
    body = page.locator("body").inner_text()
    if VOILA_ERROR.search(body):
        failures.append(f"{label}: the page shows an error: " + VOILA_ERROR.search(body).group(0))
    failures += [f"{label}: {problem}" for problem in output_problems(page)]
    # issue 25: the whole app page passes axe-core (the Voila page is all course content)
    failures += [f"{label}: accessibility: {problem}"
                 for problem in accessibility_problems(page, known=(UNNAMED_SLIDER_HANDLE,))]
    failures += [f"{label}: layout: {problem}" for problem in layout_problems(page)]
    for name, case in APP_CASES.items():
        try:
            area = check_widget_case(page, case)
            area.screenshot(path=str(_screenshot_path(f"{label}_{name}")))
            failures += [f"{label} / {name}: layout: {problem}" for problem in layout_problems(page)]
        except Exception as error:  # collect: one broken calculator must not hide the others
            failures.append(f"{label} / {name}: {error}")
    return failures


def _screenshot_path(name: str):
    from browser_harness import SCREENSHOTS

    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / f"browser_90_calculators_app_{name}.png"


def test_app_notebook_exists_and_imports_its_widgets_from_qwen_lessons():
    import json

    notebook = json.loads((NOTEBOOKS.parent / APP).read_text(encoding="utf-8"))
    code = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    for builder in ("vision_token_budgets.prompt_planner_widget()", "fine_tuning.training_planner_widget()",
                    "choosing_a_tier.memory_calculator()", "choosing_a_tier.tier_wizard()",
                    "local_inference.laptop_wizard()"):
        assert builder in code, f"{APP} should display {builder} (the app reuses the lessons' widgets)"
    assert "def " not in code and "observe(" not in code, "the app must not re-implement widget logic"


def test_calculators_in_voila_command(voila_server, browser_context, timings):
    page = browser_context.new_page()
    try:
        started = time.monotonic()
        page.goto(voila_server.base + "/", timeout=90_000)
        failures = check_app(page, "voila")
        timings["Voila app (voila command)"] = time.monotonic() - started
    finally:
        page.close()
    assert not failures, "\n".join(failures)


def test_calculators_at_binder_voila_urlpath(lab, browser_context, timings):
    page = browser_context.new_page()
    try:
        started = time.monotonic()
        page.goto(lab.url("voila/render/" + APP), timeout=90_000)
        failures = check_app(page, "lab_voila_render")
        timings["Voila app (Lab /voila/render/)"] = time.monotonic() - started
    finally:
        page.close()
        lab.shutdown_sessions()
    assert not failures, "\n".join(failures)
