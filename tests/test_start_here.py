"""Lesson 0 (00_start_here): what the start page says about the course matches the notebooks that are there."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NUMBER_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split())}


def lesson_notebooks() -> list[Path]:
    """The lessons that follow 00: notebooks numbered 01 to 89 (90 and up are apps, not lessons)."""
    return sorted(path for path in NOTEBOOKS.glob("[0-8][0-9]_*.ipynb") if path.name[:2] != "00")


def test_every_count_of_lessons_on_the_start_page_is_the_number_of_lesson_notebooks():
    text = "\n".join(cell.source for cell in nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4).cells
                     if cell.cell_type == "markdown")
    counts = re.findall(r"\b(\w+) lessons\b", text, flags=re.IGNORECASE)
    numbers = [NUMBER_WORDS.get(word.lower(), int(word) if word.isdigit() else None) for word in counts]
    stated = [(word, number) for word, number in zip(counts, numbers, strict=True) if number is not None]
    assert stated, "the start page should say how many lessons follow it"
    expected = len(lesson_notebooks())
    assert all(number == expected for _, number in stated), (
        f"the start page says {[word for word, _ in stated]} lessons; {expected} lesson notebooks follow it")


def test_the_course_map_lists_every_notebook_present():
    text = "\n".join(cell.source for cell in nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4).cells
                     if cell.cell_type == "markdown")
    listed = re.findall(r"^\| `(\d\d_\w+)` \|", text, flags=re.MULTILINE)
    present = [path.stem for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]
    assert [stem for stem in listed if stem[:2] < "90"] == [stem for stem in present if stem[:2] < "90"]
