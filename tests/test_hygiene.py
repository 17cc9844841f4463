"""Notebook and repository hygiene: the promises every lesson inherits."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path for path in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
LESSON_NAME = re.compile(r"\d\d_[a-z0-9_]+\.ipynb")
FORBIDDEN_SOURCE = {
    "sys.path manipulation": re.compile(r"\bsys\.path\b"),
    "a pip install inside the notebook": re.compile(r"^\s*[!%]\s*pip\b", re.MULTILINE),
    "a star import": re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.MULTILINE),
}


def notebook_problems(notebook: dict, name: str) -> list[str]:
    """List every hygiene rule a notebook (parsed JSON) breaks."""
    problems = []
    if not LESSON_NAME.fullmatch(name):
        problems.append(f"name {name!r} is not NN_snake_case.ipynb")
    if "widgets" in notebook.get("metadata", {}):
        problems.append("stored with widget state (metadata.widgets)")
    cells = notebook.get("cells", [])
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {number} is stored with outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {number} is stored with an execution count")
        source = "".join(cell.get("source", []))
        problems += [f"cell {number} has {what}" for what, pattern in FORBIDDEN_SOURCE.items() if pattern.search(source)]
    markdown = [cell for cell in cells if cell.get("cell_type") == "markdown"]
    if "solutions" in name:
        return problems
    if not markdown or not re.search(r"\btime\b|\bminutes?\b|分钟", "".join(markdown[0].get("source", [])), re.IGNORECASE):
        problems.append("the first cell does not give a time estimate")
    if not any(re.search(r"^#+ .*(Exercises|练习)", "".join(cell.get("source", [])), re.M | re.I) for cell in markdown):
        problems.append("no Exercises section")
    return problems


def test_notebooks_exist():
    assert any(path.name == "00_start_here.ipynb" for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: str(path.relative_to(ROOT)))
def test_notebook_hygiene(path):
    problems = notebook_problems(json.loads(path.read_text(encoding="utf-8")), path.name)
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_hygiene_rules_catch_bad_notebooks():
    clean = {"metadata": {}, "cells": [
        {"cell_type": "markdown", "source": ["# T\n", "**Time:** 5 minutes"]},
        {"cell_type": "code", "source": ["x = 1"], "outputs": [], "execution_count": None},
        {"cell_type": "markdown", "source": ["## Exercises"]},
    ]}
    assert notebook_problems(clean, "07_clean_one.ipynb") == []
    dirty = json.loads(json.dumps(clean))
    dirty["metadata"]["widgets"] = {}
    dirty["cells"][1].update(outputs=[{"output_type": "stream"}], execution_count=3,
                             source=["import sys\n", "sys.path.insert(0, '..')\n", "!pip install x"])
    found = "; ".join(notebook_problems(dirty, "Bad Name.ipynb"))
    for expected in ("NN_snake_case", "widget state", "with outputs", "execution count", "sys.path", "pip install"):
        assert expected in found


def test_ruff_finds_no_errors():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.fail("ruff is not installed; it is a test dependency (pip install -r requirements-dev.txt)")
    result = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_heavy_runtime_dependencies():
    pyproject = (ROOT / "pyproject.toml").read_text()
    runtime = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    for heavy in ("torch", "transformers", "tensorflow", "jax"):
        assert not re.search(rf'"{heavy}\b', runtime), f"{heavy} must not be a runtime dependency"


def test_package_has_no_import_side_effects():
    code = (
        "import sys, matplotlib, qwen_lessons, pkgutil, importlib;"
        "before = dict(matplotlib.rcParams);"
        "[importlib.import_module('qwen_lessons.' + m.name) for m in pkgutil.iter_modules(qwen_lessons.__path__)];"
        "changed = [k for k, v in matplotlib.rcParams.items() if before.get(k) != v];"
        "print(changed)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", "importing qwen_lessons modules changed matplotlib settings"


def test_learner_facing_files_cite_public_sources_not_the_teams_reference_notes():
    # the team's shared/reference notes are not shipped: data/, notebooks, docs and the package cite public sources
    places = [*(ROOT / "data").rglob("*.csv"), *(ROOT / "data").rglob("*.md"), *NOTEBOOKS, *(ROOT / "docs").glob("*.md"),
              *(ROOT / "qwen_lessons").rglob("*.py"), ROOT / "README.md"]
    citing = [str(p.relative_to(ROOT)) for p in places
              if re.search(r"shared[ /]reference", p.read_text(encoding="utf-8"))]
    assert not citing, f"cite the public source instead of the team's reference notes in: {citing}"


def test_the_app_page_does_not_tell_its_reader_to_open_the_app():
    """The Voila app shows its markdown: a reader already in the app must not be told to run voila or a Binder URL."""
    notebook = json.loads((ROOT / "notebooks" / "90_calculators_app.ipynb").read_text(encoding="utf-8"))
    prose = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert not re.search(r"`voila |urlpath=", prose), "the app page gives instructions only JupyterLab readers can use"
