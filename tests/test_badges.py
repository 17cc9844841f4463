"""scripts/write_badges.py: Binder launch badges for every notebook, written idempotently into docs/workshop.md."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "write_badges.py"


def load_script():
    spec = importlib.util.spec_from_file_location("write_badges", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


badges = load_script()


def make_notebook(path: Path, heading: str) -> None:
    cell = {"cell_type": "markdown", "metadata": {}, "source": [heading]}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


@pytest.fixture
def course(tmp_path):
    """A tiny course: two lessons, one app, one solution, and a guide with the marker block."""
    notebooks = tmp_path / "notebooks"
    (notebooks / "solutions").mkdir(parents=True)
    make_notebook(notebooks / "00_start_here.ipynb", "# 00 · Start here\n\n**Time:** about 10 minutes.")
    make_notebook(notebooks / "01_family_map.ipynb", "# 01 · The family map\n\n**Time:** about 35 minutes.")
    make_notebook(notebooks / "90_calculators_app.ipynb", "# 90 · Qwen calculators\n\nno estimate here")
    make_notebook(notebooks / "solutions" / "00_start_here_solutions.ipynb", "# Solutions")
    doc = tmp_path / "workshop.md"
    doc.write_text(f"# Guide\n\nbefore\n\n{badges.START}\nold rows\n{badges.END}\n\nafter\n", encoding="utf-8")
    return doc, notebooks


def test_urls_follow_the_binder_launch_form():
    # https://mybinder.org/v2/gh/<owner>/<repo>/<ref>?urlpath=<path>, written out by hand
    assert badges.launch_url("00_start_here.ipynb") == (
        "https://mybinder.org/v2/gh/qwen-lessons/qwen-lessons/main?urlpath=lab/tree/notebooks/00_start_here.ipynb")
    assert badges.launch_url("90_calculators_app.ipynb", repo="me/course", ref="v1.0") == (
        "https://mybinder.org/v2/gh/me/course/v1.0?urlpath=voila/render/notebooks/90_calculators_app.ipynb")


def test_binder_readme_links_are_the_ones_the_script_writes():
    readme = (ROOT / "binder" / "README.md").read_text(encoding="utf-8")
    for notebook in ("00_start_here.ipynb", "90_calculators_app.ipynb"):
        assert badges.launch_url(notebook) in readme


def test_the_placeholder_repository_is_written_in_one_place_only():
    source = SCRIPT.read_text(encoding="utf-8")
    assert source.count("qwen-lessons/qwen-lessons") == 1
    assert f'BINDER_REPO = "{badges.BINDER_REPO}"' in source


def test_block_has_one_row_per_lesson_and_app_and_none_for_solutions(course):
    _, notebooks = course
    block = badges.badge_block(notebooks)
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["00_start_here", "01_family_map", "90_calculators_app"]
    assert "| Start here | 10 min |" in rows[0] and "| The family map | 35 min |" in rows[1]
    assert "| Qwen calculators |  |" in rows[2]  # no estimate: empty cell, not a guess
    assert "urlpath=voila/render/notebooks/90_calculators_app.ipynb" in rows[2]
    assert "solutions" not in block


def test_writing_is_idempotent_and_keeps_the_text_around_the_block(course):
    doc, notebooks = course
    assert badges.write_badges(doc, notebooks) is True
    first = doc.read_text(encoding="utf-8")
    assert badges.write_badges(doc, notebooks) is False
    assert doc.read_text(encoding="utf-8") == first
    assert first.startswith("# Guide\n\nbefore\n\n") and first.endswith("\n\nafter\n")
    assert "old rows" not in first and first.count(badges.START) == 1 and first.count(badges.END) == 1


def test_check_mode_reports_a_new_notebook_without_writing(course):
    doc, notebooks = course
    badges.write_badges(doc, notebooks)
    written = doc.read_text(encoding="utf-8")
    make_notebook(notebooks / "02_base_vs_instruct.ipynb", "# 02 · Base vs instruct\n\n**Time:** about 45 minutes.")
    assert badges.write_badges(doc, notebooks, check=True) is True
    assert doc.read_text(encoding="utf-8") == written


def test_a_guide_without_the_markers_is_refused_with_the_file_named(tmp_path, course):
    _, notebooks = course
    doc = tmp_path / "plain.md"
    doc.write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="plain.md has no"):
        badges.write_badges(doc, notebooks)


def test_committed_guide_is_up_to_date():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_course_notebook_has_exactly_one_badge_in_the_guide():
    guide = (ROOT / "docs" / "workshop.md").read_text(encoding="utf-8")
    block = guide[guide.index(badges.START):guide.index(badges.END)]
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert len(re.findall(rf"urlpath=\w+/\w+/notebooks/{re.escape(notebook.name)}\)", block)) == 1, notebook.name


def test_command_line_writes_into_a_copy(tmp_path):
    doc = tmp_path / "workshop.md"
    shutil.copy(ROOT / "docs" / "workshop.md", doc)
    text = doc.read_text(encoding="utf-8")
    doc.write_text(badges.replace_block(text, f"{badges.START}\n{badges.END}"), encoding="utf-8")
    first = subprocess.run([sys.executable, str(SCRIPT), "--doc", str(doc)], capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, str(SCRIPT), "--doc", str(doc)], capture_output=True, text=True, check=True)
    assert "updated" in first.stdout and "already up to date" in second.stdout
    assert doc.read_text(encoding="utf-8") == text
