"""The key formula in the lesson (issue 28): every lesson shows, in a code cell the learner can read and change, the
few lines behind its headline number, and the package is held against those lines on many inputs.

A formula cell is a code cell whose first line starts with `# Formula:`. For each function `name` it defines, the
lesson's checks module has `check_formula_<name>(function)`, which compares the function with the package on a grid
of inputs (every checkpoint, every format, edge cases) and prints one line; the cell calls it, so a learner who
changes the formula sees where it parts from the package. Here only the cell's imports and definitions are executed,
from the notebook's own text, and the check must pass; a formula with one term changed must fail it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import math
from pathlib import Path

import pytest

from qwen_lessons import preference

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MARK = "# Formula:"
LESSONS = sorted(path for path in NOTEBOOKS.glob("[0-8][0-9]_*.ipynb") if path.name[:2] != "00")
# Lessons whose headline numbers have no few-line formula to show, and why (the first test keeps this list honest).
WITHOUT_FORMULA = {
    "02_base_vs_instruct": "its numbers are token ids and counts from the real tokenizer and measurements of the "
                           "tiny model's training; no few lines of arithmetic give them",
}


def formula_cells(notebook: Path) -> list[str]:
    """The sources of the notebook's formula cells, in order."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    return [source for source in sources if source.startswith(MARK)]


def formula_functions(notebook: Path) -> dict[str, object]:
    """Every function the notebook's formula cells define, executed from the cells' own text (imports and
    definitions only: the rest of a cell is the lesson's demonstration, which the notebook run covers)."""
    functions = {}
    for source in formula_cells(notebook):
        kept = [node for node in ast.parse(source).body if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef)]
        namespace: dict = {}
        exec(compile(ast.Module(body=kept, type_ignores=[]), f"<{notebook.stem} formula cell>", "exec"), namespace)
        functions.update({node.name: namespace[node.name] for node in kept if isinstance(node, ast.FunctionDef)})
    return functions


def formula_check(notebook: Path, name: str):
    """The lesson's check_formula_<name>, or None."""
    module = importlib.import_module(f"qwen_lessons.checks.{notebook.stem.split('_', 1)[1]}")
    return getattr(module, f"check_formula_{name}", None)


FORMULAS = [(notebook, name) for notebook in LESSONS for name in formula_functions(notebook)]
IDS = [f"{notebook.stem}-{name}" for notebook, name in FORMULAS]


@pytest.mark.parametrize("notebook", LESSONS, ids=[path.stem for path in LESSONS])
def test_every_lesson_shows_its_formula_in_a_cell_that_checks_itself(notebook):
    if notebook.stem in WITHOUT_FORMULA:
        assert not formula_cells(notebook), f"{notebook.stem} has a formula cell now: remove it from WITHOUT_FORMULA"
        pytest.skip(f"{notebook.stem}: {WITHOUT_FORMULA[notebook.stem]}")
    cells = formula_cells(notebook)
    assert cells, f"{notebook.stem} shows no formula cell (a code cell starting '{MARK}')"
    for name in formula_functions(notebook):
        assert any(f"check_formula_{name}({name})" in cell for cell in cells), (
            f"{notebook.stem}: the formula cell of {name}() should end by calling check_formula_{name}({name})")


@pytest.mark.parametrize("notebook,name", FORMULAS, ids=IDS)
def test_the_formula_cell_computes_what_the_package_computes(notebook, name, capsys):
    check = formula_check(notebook, name)
    assert check is not None, f"qwen_lessons/checks/{notebook.stem.split('_', 1)[1]}.py has no check_formula_{name}"
    assert check(formula_functions(notebook)[name]), capsys.readouterr().out


def _one_term_off(function):
    """The same formula with its result moved a little (each number of a tuple too)."""
    def shifted(value):
        return tuple(shifted(v) for v in value) if isinstance(value, tuple) else value * 1.001 + 1

    return lambda *arguments: shifted(function(*arguments))


@pytest.mark.parametrize("notebook,name", FORMULAS, ids=IDS)
def test_a_changed_formula_fails_its_check_with_one_line(notebook, name, capsys):
    check = formula_check(notebook, name)
    assert not check(_one_term_off(formula_functions(notebook)[name]))
    assert not check(lambda *arguments: 1 / 0)  # a formula that raises gets a hint, not a traceback
    assert not check(None)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("✗ Not yet.") for line in lines), lines


@pytest.mark.parametrize("notebook", LESSONS, ids=[path.stem for path in LESSONS])
def test_no_exercise_asks_for_a_formula_the_lesson_shows(notebook, capsys):
    # asks before it tells: an exercise "write your own function" must not be answered by a formula cell above it
    # (lesson 6's exercise 5 asked for the Qwen2-Audio count its formula cell shows; it now asks for Qwen3-Omni's)
    from qwen_lessons.checks import exercise_checks

    module = importlib.import_module(f"qwen_lessons.checks.{notebook.stem.split('_', 1)[1]}")
    writes_a_function = {name: check for name, check in exercise_checks(module).items()
                         if any(p.startswith("my_") for p in inspect.signature(check).parameters)}
    for formula_name, formula in formula_functions(notebook).items():
        for check_name, check in writes_a_function.items():
            assert not check(formula), f"{check_name} accepts the formula cell's {formula_name}(): {capsys.readouterr().out}"


def test_only_the_definitions_of_a_formula_cell_run(tmp_path):
    notebook = tmp_path / "01_x.ipynb"
    cells = [{"cell_type": "code", "source": ["# Formula: twice\n", "import math\n", "def twice(x):\n",
                                                "    return math.prod((2, x))\n", "raise SystemExit('demo')\n"]},
             {"cell_type": "code", "source": ["def not_a_formula():\n", "    pass\n"]}]
    notebook.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    functions = formula_functions(notebook)
    assert list(functions) == ["twice"] and functions["twice"](21) == 42


def test_the_dpo_gradient_is_the_derivative_of_the_dpo_loss():
    # preference.dpo_loss_gradient, which the lesson's formula is held against, by central differences of the loss
    step = 1e-4
    for pair in [(-11.0, -16.0, -12.5, -14.5, 0.1), (-50.0, -3.0, -40.0, -10.0, 0.9), (-1.0, -1.0, -1.0, -1.0, 0.5)]:
        chosen, rejected = preference.dpo_loss_gradient(*pair)
        by_chosen = (preference.dpo_loss(pair[0] + step, *pair[1:]) - preference.dpo_loss(pair[0] - step, *pair[1:]))
        by_rejected = (preference.dpo_loss(pair[0], pair[1] + step, *pair[2:])
                       - preference.dpo_loss(pair[0], pair[1] - step, *pair[2:]))
        assert math.isclose(chosen, by_chosen / (2 * step), rel_tol=1e-6)
        assert math.isclose(rejected, by_rejected / (2 * step), rel_tol=1e-6)
