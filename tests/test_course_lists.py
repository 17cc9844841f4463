"""Lists that keep themselves (issue 28): lesson 0's course map, the README's lesson table, the workshop's half-day
agenda, the Binder badges and the website's map are all made from each lesson's first cell by
scripts/write_course_lists.py (and build_site.py, which reads the cells with the same function).

The last test is CONTRIBUTING.md's "Add a lesson" checklist, done for real on a copy of the repository: a lesson 09
made of its notebook and its three modules, then the script run once, reaches every list and passes the copy's own
tests of those lists, of the layout, of its formula cell, of its exercises and of its widget.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "write_course_lists.py"


def _script():
    sys.path.insert(0, str(SCRIPT.parent))  # it imports write_badges beside it
    try:
        spec = importlib.util.spec_from_file_location("write_course_lists_under_test", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPT.parent))


lists = _script()


def notebook_json(first_cell: str, code: list[str] = (), more_markdown: list[str] = ()) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": first_cell, "id": "header"}]
    cells += [{"cell_type": "markdown", "metadata": {}, "source": text, "id": f"text-{i}"}
              for i, text in enumerate(more_markdown)]
    cells += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source,
               "id": f"code-{i}"} for i, source in enumerate(code)]
    document = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                              "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


DUMMY_HEADER = """# 09 · A dummy lesson

**Time:** about 20 minutes.

**Assumes:** basic Python; lesson 8 (the laptop wizard).

**By the end of this notebook you will**
- check that a new lesson reaches every list of the course,
  from its first cell alone;
- see its title in lesson 0's map.
"""


def test_committed_lists_are_up_to_date():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_header_gives_title_time_assumptions_continuation_and_objectives(tmp_path):
    path = tmp_path / "09_dummy_lesson.ipynb"
    path.write_text(notebook_json(DUMMY_HEADER + "\nThis lesson continues lesson 8.\n"), encoding="utf-8")
    header = lists.lesson_header(path)
    assert (header["number"], header["title"], header["minutes"], header["continues"]) == ("09", "A dummy lesson", "20", 8)
    assert header["objectives"] == ["check that a new lesson reaches every list of the course, from its first cell alone;",
                                    "see its title in lesson 0's map."]
    assert lists.builds_on(header) == "lesson 8 (the laptop wizard)"
    path.write_text(notebook_json("Welcome\n\n**Time:** about 5 minutes."), encoding="utf-8")
    with pytest.raises(ValueError, match="09_dummy_lesson.ipynb: the first cell must start with a heading"):
        lists.lesson_header(path)


def test_the_half_day_breaks_after_80_minutes_but_never_inside_a_continuation(tmp_path):
    for number, minutes, extra in (("00", 10, ""), ("01", 35, ""), ("02", 45, ""), ("03", 35, "It continues lesson 2."),
                                   ("04", 50, ""), ("05", 35, ""), ("06", 30, ""), ("90", 10, "")):
        (tmp_path / f"{number}_x.ipynb").write_text(
            notebook_json(f"# {number} · X\n\n**Time:** about {minutes} minutes.\n\n{extra}"), encoding="utf-8")
    rows = lists.half_day_agenda(tmp_path)
    assert [(start, minutes) for start, minutes, what in rows if what == "break"] == [(125, 15), (225, 10)]
    assert rows[-1] == (265, 10, "`90_x` and questions")
    assert all(start + minutes == following for (start, minutes, _), (following, _, _) in zip(rows, rows[1:], strict=False))


def _minimal_copy(tmp_path: Path) -> Path:
    """What the lists are written from and into, nothing else: notebooks, scripts, README, guide, landing page."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "notebooks", copy / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "scripts", copy / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "docs/workshop.md", "site/landing.md"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, copy / name)
    return copy


def test_a_new_lesson_reaches_every_list_with_one_run_of_the_script(tmp_path):
    copy = _minimal_copy(tmp_path)
    (copy / "notebooks" / "09_dummy_lesson.ipynb").write_text(notebook_json(DUMMY_HEADER), encoding="utf-8")
    script = [sys.executable, str(copy / "scripts" / "write_course_lists.py")]
    stale = subprocess.run([*script, "--check"], capture_output=True, text=True)
    assert stale.returncode == 1 and "README.md" in stale.stdout and "00_start_here" in stale.stdout, stale.stdout
    subprocess.run(script, check=True, capture_output=True)
    assert subprocess.run([*script, "--check"], capture_output=True).returncode == 0  # idempotent

    start_here = json.loads((copy / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))["cells"][1]
    course_map = "".join(start_here["source"])
    assert ("| `09_dummy_lesson` | [A dummy lesson](09_dummy_lesson.ipynb) | lesson 8 (the laptop wizard) | 20 min |"
            in course_map)
    assert "the nine lessons after it" in course_map
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert ("| [`09_dummy_lesson`](notebooks/09_dummy_lesson.ipynb) | **A dummy lesson**: check that a new lesson "
            "reaches every list of the course, from its first cell alone; see its title in lesson 0's map | 20 min |"
            ) in readme
    guide = (copy / "docs" / "workshop.md").read_text(encoding="utf-8")
    agenda = guide.split(lists.AGENDA_START, 1)[1].split(lists.AGENDA_END, 1)[0]
    rows = re.findall(r"^\| (\d+):(\d\d) \| (\d+) \| (.+?) \|$", agenda, re.M)
    assert [what for *_, what in rows].index("`09_dummy_lesson`") == len(rows) - 2  # before the calculators app
    total = sum(int(minutes) for _, _, minutes, _ in rows)
    assert f"### Half day ({total // 60} h {total % 60} min)" in agenda and ("20" in dict((w, m) for *_, m, w in rows)
                                                                           ["`09_dummy_lesson`"])
    assert "| `09_dummy_lesson` | A dummy lesson | 20 min |" in guide  # the Binder badges
    site = subprocess.run([sys.executable, "-c", "import build_site; print(build_site.site_pages()); "
                           "print(build_site.course_map())"], capture_output=True, text=True, check=True,
                          cwd=copy / "scripts")
    pages = eval(site.stdout.splitlines()[0])  # a list of strings printed by the copy's own build_site
    assert pages.index("notebooks/09_dummy_lesson.ipynb") == pages.index("notebooks/90_calculators_app.ipynb") - 1
    assert "| [09 · A dummy lesson](notebooks/09_dummy_lesson.ipynb) | 20 min | lesson 8 (the laptop wizard) |" in site.stdout
    # nothing else in lesson 0 moved: every other cell is as it was
    before = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))["cells"]
    after = json.loads((copy / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))["cells"]
    assert [c for i, c in enumerate(after) if i != 1] == [c for i, c in enumerate(before) if i != 1]


# ---------------------------------------------------------------- CONTRIBUTING.md's checklist, on a full copy

DUMMY_MODULES = {
    "lessons": '''
        """Lesson 9 (09_dummy_lesson): the arithmetic of a lesson added by CONTRIBUTING.md's checklist."""

        from qwen_lessons.validation import checked


        @checked
        def doubled(seq_len: int) -> int:
            """Twice a number of tokens: the lesson's headline number."""
            return 2 * seq_len
        ''',
    "widgets": '''
        """Widgets of lesson 9 (09_dummy_lesson)."""

        from types import SimpleNamespace

        import ipywidgets as widgets

        from qwen_lessons import ui
        from qwen_lessons.lessons import dummy_lesson as lesson
        from qwen_lessons.validation import checked


        @checked
        def doubled_sentence(seq_len: int) -> str:
            """What the widget shows."""
            return f"{seq_len:,} tokens doubled are {lesson.doubled(seq_len):,}."


        def doubling_widget(tokens: int = 100):
            """A slider and the sentence under it."""
            slider = widgets.IntSlider(value=tokens, min=1, max=1000, description="tokens")
            out = widgets.HTML()

            def update(*_):
                out.value = ui.guarded(lambda: doubled_sentence(slider.value))

            ui.wire([slider], update)
            return SimpleNamespace(box=widgets.VBox([slider, out]), slider=slider, out=out)
        ''',
    "checks": '''
        """Self-checks for notebook 09 (the dummy lesson). They hint, they never print the answer."""

        from qwen_lessons.checks import answer_check, check_formula, close_enough, report
        from qwen_lessons.lessons import dummy_lesson as lesson


        def tripled_answer() -> int:
            return 3 * 7


        @answer_check(accepts=tripled_answer)
        def check_tripled(answer) -> bool:
            """Exercise 1: three times seven."""
            return report(close_enough(answer, tripled_answer(), 1e-9), "multiply, do not add.")


        def check_formula_doubled(formula) -> bool:
            """The formula cell against lesson.doubled."""
            return check_formula(formula, ((f"{n} tokens", (n,), lesson.doubled(n)) for n in range(1, 200)), "doubling")
        ''',
}
DUMMY_CELLS = [
    "from qwen_lessons.lessons import dummy_lesson as lesson\nfrom qwen_lessons.widgets import dummy_lesson as widget",
    "# Formula: twice the tokens. Read it, change it, re-run: the last line checks it against the package.\n"
    "from qwen_lessons.checks.dummy_lesson import check_formula_doubled\n\n\ndef doubled(tokens):\n"
    "    return tokens + tokens\n\n\nprint(doubled(21))\ncheck_formula_doubled(doubled)",
    "doubler = widget.doubling_widget()\ndoubler.box",
    "from qwen_lessons.checks.dummy_lesson import check_tripled\n\nanswer = None  # exercise 1\ncheck_tripled(answer)",
]


def _full_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".git", ".venv*", "build", "__pycache__", ".ipynb_checkpoints", "*.egg-info",
                                    ".hypothesis", ".pytest_cache", "screenshots", "node_modules")
    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


@pytest.mark.slow
def test_contributing_add_a_lesson_checklist_done_on_a_copy(tmp_path):
    copy = _full_copy(tmp_path)
    checklist = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").split("**Add a lesson**", 1)[1].split("\n\n", 1)[0]
    for step in ("notebooks/NN_stem.ipynb", "notebooks/solutions/NN_stem_solutions.ipynb", "lessons/stem.py",
                 "widgets/stem.py", "checks/stem.py", "python scripts/write_course_lists.py"):
        assert step in checklist, f"CONTRIBUTING.md's lesson checklist does not say: {step}"
    # the checklist, and nothing else: the notebook and its solutions, its three modules, one run of the script
    (copy / "notebooks" / "09_dummy_lesson.ipynb").write_text(notebook_json(DUMMY_HEADER, code=DUMMY_CELLS),
                                                               encoding="utf-8")
    (copy / "notebooks" / "solutions" / "09_dummy_lesson_solutions.ipynb").write_text(notebook_json(
        "# 09 · A dummy lesson: solutions", code=[DUMMY_CELLS[-1].replace("None", "21")]), encoding="utf-8")
    for folder, source in DUMMY_MODULES.items():
        (copy / "qwen_lessons" / folder / "dummy_lesson.py").write_text(textwrap.dedent(source).lstrip(),
                                                                       encoding="utf-8")
    subprocess.run([sys.executable, "scripts/write_course_lists.py"], cwd=copy, check=True, capture_output=True)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)  # the README test asks git what it ignores

    env = {**os.environ, "PYTHONPATH": str(copy)}
    # the editable install's finder comes after the path, so PYTHONPATH puts the copy's package first
    probe = subprocess.run([sys.executable, "-c", "import qwen_lessons; print(qwen_lessons.__file__)"], env=env,
                           cwd=copy / "notebooks", capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(copy)), f"the copy's tests would import another package: {probe.stdout}"
    tests = ["tests/test_course_lists.py::test_committed_lists_are_up_to_date", "tests/test_start_here.py",
             "tests/test_readme.py", "tests/test_workshop_docs.py", "tests/test_badges.py", "tests/test_layout.py",
             "tests/test_glossary.py", "tests/test_formula_cells.py", "tests/test_solutions.py",
             "tests/test_site.py::test_the_home_page_is_a_landing_page_with_the_course_map_in_teaching_order",
             "tests/test_site.py::test_every_lesson_solution_and_doc_is_a_page",
             "tests/test_answer_leaks.py::test_every_lesson_declares_its_answers", "tests/test_accessibility.py",
             "notebooks/09_dummy_lesson.ipynb", "notebooks/solutions/09_dummy_lesson_solutions.ipynb"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-n", "0",
                             "--nbval-lax", *tests], cwd=copy, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    passed = set(re.findall(r"^(.+?) PASSED", result.stdout, re.M))
    for test in ("tests/test_formula_cells.py::test_the_formula_cell_computes_what_the_package_computes"
                 "[09_dummy_lesson-doubled]",
                 "tests/test_formula_cells.py::test_every_lesson_shows_its_formula_in_a_cell_that_checks_itself"
                 "[09_dummy_lesson]",
                 "tests/test_solutions.py::test_every_lesson_has_worked_solutions[09_dummy_lesson]",
                 "tests/test_solutions.py::test_a_wrong_answer_gets_a_hint_that_does_not_contain_the_answer"
                 "[dummy_lesson.check_tripled]",
                 "tests/test_layout.py::test_module_is_short_and_its_docstring_names_its_lesson"
                 "[qwen_lessons.widgets.dummy_lesson]"):
        assert test in passed, f"{test} did not run in the copy"
    assert any("dummy_lesson.doubling_widget" in test for test in passed), "the accessibility tests missed the widget"
    cells = [test for test in passed if test.startswith("notebooks/09_dummy_lesson") and "::Cell " in test]
    assert len(cells) == len(DUMMY_CELLS), f"the lesson's cells that ran: {cells}"
