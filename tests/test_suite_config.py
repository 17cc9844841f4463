"""The suite itself (issue 29): `-n 2` typed by hand keeps a notebook's cells in one kernel, the fast loop leaves out
everything that executes notebooks or starts servers, and the README says how the whole suite runs and how long."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST_LOOP = 'python -m pytest -m "not slow" -n 2'


def pytest_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]


def test_distribution_by_file_is_in_the_configuration_and_slow_is_a_registered_marker():
    config = pytest_config()
    assert "--dist loadfile" in config["addopts"], "-n without --dist loadfile splits a notebook's cells over workers"
    assert any(marker.startswith("slow:") for marker in config["markers"])


def test_the_longest_files_start_first_and_keep_that_order_on_two_workers():
    """A hub room (minutes) started last ran alone on one core while the other waited; it now starts first."""
    assert "--no-loadscope-reorder" in pytest_config()["addopts"], "pytest-xdist would reorder files by test count"
    files = ["tests/test_tokens.py", "tests/test_hostile_input.py", "tests/browser/test_voila_browser.py",
             "tests/test_room.py"]
    started = list(dict.fromkeys(item.split("::")[0] for item in collected(*files)))
    assert started == ["tests/test_room.py", "tests/browser/test_voila_browser.py", "tests/test_hostile_input.py",
                       "tests/test_tokens.py"], started


def collected(*arguments: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *arguments],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 5), done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_fast_loop_leaves_out_notebooks_browsers_hubs_and_the_sweep():
    heavy = ["notebooks/00_start_here.ipynb", "tests/test_notebook_runs.py", "tests/test_room.py",
             "tests/browser/test_voila_browser.py", "tests/test_wheel.py", "tests/test_hostile_input.py",
             "tests/test_answer_leaks.py", "tests/test_tables_display.py", "tests/test_widget_sweep.py"]
    fast = collected("-m", "not slow", *heavy)
    assert fast, "the fast loop kept nothing of these files: the hostile-input reproducers are unit tests"
    executes_notebooks = ("test_no_answer_is_shown_above_its_exercise", "test_every_displayed_table_reads_cleanly",
                          "test_figures_read_cleanly_and_widgets_stay_what_their_cell_showed")
    assert not [item for item in fast if item.split("::")[1].startswith(executes_notebooks)], fast
    assert all(item.startswith(("tests/test_hostile_input.py::", "tests/test_answer_leaks.py::",
                                "tests/test_tables_display.py::", "tests/test_notebook_runs.py::",
                                "tests/test_widget_sweep.py::")) for item in fast), fast
    assert not any("test_every_public_function_refuses_hostile_arguments" in item for item in fast)
    # the widget sweep (every state of every widget) starts with the slow files, not last among the unit tests,
    # where it ran alone on one core for 15-20 s at the end of both CI runs; its planted failure stays quick
    assert not any("test_every_reachable_state_shows_a_result_or_one_clear_line" in item for item in fast)
    assert any("test_the_sweep_catches_an_unexpected_error_at_one_option" in item for item in fast)


def test_readme_runs_the_suite_on_two_cores_and_says_how_long_it_takes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"<!-- test-command.*?```bash\n(.*?)\n```", readme, re.S).group(1)
    assert command.endswith("python -m pytest -n 2")
    intro = readme[:readme.index("<!-- test-command")].rstrip().rsplit("\n\n", 1)[-1]
    assert re.search(r"about \d+ minutes", intro), f"the README should say how long the suite takes: {intro!r}"
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert f"`{FAST_LOOP}`" in contributing and f"`{FAST_LOOP}`" in readme
