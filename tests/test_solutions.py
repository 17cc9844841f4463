"""Exercises and solutions: every lesson has worked solutions, and the self-checks hint without giving the answer."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import math
import pkgutil
import re
from pathlib import Path

import pytest

import qwen_lessons.checks as checks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-8][0-9]_*.ipynb"))
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))
WRONG_ANSWERS = (None, 0, -1, 1, 7.5, 1e12, "nonsense", "Qwen/Qwen2.5-7B-Instruct", "l4")


def check_functions() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(checks.__path__):
        module = importlib.import_module(f"qwen_lessons.checks.{info.name}")
        found += [(f"{info.name}.{name}", function) for name, function in inspect.getmembers(module, inspect.isfunction)
                  if name.startswith("check_") and function.__module__ == module.__name__]
    return found


CHECKS = check_functions()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_worked_solutions(lesson):
    solutions = NOTEBOOKS / "solutions" / f"{lesson.stem}_solutions.ipynb"
    assert solutions.exists(), f"{lesson.name} has no notebooks/solutions/{solutions.name}"


@pytest.mark.parametrize("solutions", SOLUTIONS, ids=lambda p: p.stem)
def test_every_solutions_notebook_belongs_to_a_lesson_and_uses_its_checks(solutions):
    lesson = NOTEBOOKS / solutions.name.replace("_solutions.ipynb", ".ipynb")
    assert lesson.exists(), f"{solutions.name} has no lesson {lesson.name}"
    code = "\n".join("".join(c["source"]) for c in json.loads(solutions.read_text(encoding="utf-8"))["cells"]
                     if c["cell_type"] == "code")
    assert "qwen_lessons.checks" in code and re.search(r"\bcheck_\w+\(", code), \
        f"{solutions.name} should show its answers passing the lesson's self-checks"


def test_check_functions_are_found():
    names = {name for name, _ in CHECKS}
    assert "start_here.check_weights_14b_int4" in names
    assert len(names) >= len(LESSONS), f"fewer check functions than lessons: {sorted(names)}"


def renderings(value: float) -> set[str]:
    """The ways a number could be printed, keeping only those specific enough to give an answer away."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value == 0:
        return set()
    forms = {f"{value:,.0f}", f"{value:.0f}", f"{value:.1f}", f"{value:.2f}", f"{value:.3g}", f"{value:,.1f}"}
    return {form for form in forms if "e" not in form and len(digits_shown(form)) >= 3}


def digits_shown(form: str) -> str:
    """The digits that carry information: no leading zeros, no trailing zeros after a decimal point."""
    if "." in form:
        form = form.rstrip("0").rstrip(".")
    return re.sub(r"\D", "", form).lstrip("0")


def test_renderings_ignore_trivial_numbers():
    assert "14,000" in renderings(14000.0) and "6.52" in renderings(6.5193)
    assert renderings(2) == set() and renderings(0.5) == set()


def hints_and_compared(check, monkeypatch) -> tuple[list[str], list[float]]:
    """Call a check with every wrong answer; return the hints it printed and every value it compared with."""
    compared: list[float] = []
    real_close_enough = checks.close_enough

    def spy(answer, expected, rel_tol=0.01):
        compared.append(expected)
        return real_close_enough(answer, expected, rel_tol)

    module = importlib.import_module(check.__module__)
    monkeypatch.setattr(checks, "close_enough", spy)
    if hasattr(module, "close_enough"):
        monkeypatch.setattr(module, "close_enough", spy)
    hints = []
    required = [p for p in inspect.signature(check).parameters.values() if p.default is p.empty]
    for wrong in WRONG_ANSWERS:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            try:
                passed = check(*[wrong] * len(required))
            except Exception as error:  # a learner's placeholder must get a hint, not a traceback
                pytest.fail(f"{check.__name__}({wrong!r}) raised {type(error).__name__}: {error}")
        text = output.getvalue()
        if not passed:
            assert "Hint" in text or "Not yet" in text, f"{check.__name__}({wrong!r}) printed no hint: {text!r}"
            hints.append(text)
    return hints, compared


def test_the_spy_sees_the_answer_of_a_known_check(monkeypatch):
    from qwen_lessons.checks.start_here import check_weights_14b_int4

    hints, compared = hints_and_compared(check_weights_14b_int4, monkeypatch)
    # 14e9 parameters x 4 bits / 8 = 7e9 bytes = 7e9 / 2**30 GiB = 6.519 GiB
    assert any(math.isclose(value, 7e9 / 2**30) for value in compared)
    assert hints and not any("6.52" in hint for hint in hints)


@pytest.mark.parametrize("name,check", CHECKS, ids=[name for name, _ in CHECKS])
def test_a_wrong_answer_gets_a_hint_that_does_not_contain_the_answer(name, check, monkeypatch):
    hints, compared = hints_and_compared(check, monkeypatch)
    assert hints, f"{name}: every wrong answer passed"
    revealing = {form for value in compared for form in renderings(value) if any(form in hint for hint in hints)}
    assert not revealing, f"{name}: a hint prints a value the answer is compared with: {sorted(revealing)}"


def test_a_revealing_hint_is_caught(monkeypatch):
    def check_leaky(answer) -> bool:
        expected = 1234.5
        return checks.report(checks.close_enough(answer, expected), f"the answer is {expected:,.1f}")

    hints, compared = hints_and_compared(check_leaky, monkeypatch)
    assert "1,234.5" in {form for value in compared for form in renderings(value) if any(form in h for h in hints)}


def test_a_check_prints_its_one_line_and_echoes_nothing_more(capsys):
    # issue 13: every check printed ✓/✗ and then Jupyter echoed True/False as an extra output
    from IPython.core.formatters import DisplayFormatter

    from qwen_lessons.checks.start_here import check_weights_14b_int4

    result = check_weights_14b_int4(14e9 * 4 / 8 / 2**30)
    assert capsys.readouterr().out.count("\n") == 1
    assert result and result == True  # noqa: E712
    assert DisplayFormatter().format(result) == ({}, {})  # Jupyter displays nothing for it


def test_a_right_model_without_the_qwen_prefix_is_accepted(capsys):
    # issue 13: lesson 1 exercise 1 answered without "Qwen/" got a hint that sent the learner the wrong way
    from qwen_lessons import catalog
    from qwen_lessons.checks.family_map import check_smallest_code_model

    code = catalog.filter_catalog(line="code")
    smallest = code.loc[code["params_b"].idxmin(), "model_id"]
    assert check_smallest_code_model(smallest.removeprefix("Qwen/").lower())
    assert "✓" in capsys.readouterr().out
