"""docs/workshop.md: the agendas add up and leave each lesson the time its notebook announces."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "workshop.md"
LESSONS = sorted(p for p in (ROOT / "notebooks").glob("[0-8][0-9]_*.ipynb"))


def _badges():
    spec = importlib.util.spec_from_file_location("write_badges_for_docs", ROOT / "scripts" / "write_badges.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def agenda(heading_start: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The heading line and the (start minute, minutes, what) rows of the agenda table under it."""
    text = GUIDE.read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith(f"### {heading_start}"))
    section = text.split(heading, 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows = []
    for start, minutes, what in re.findall(r"^\| (\d+:\d\d) \| (\d+) \| (.+?) \|$", section, re.M):
        hours, mins = start.split(":")
        rows.append((int(hours) * 60 + int(mins), int(minutes), what))
    assert rows, f"no agenda table under '{heading}'"
    return heading, rows


def test_agenda_parser_reads_a_known_table(tmp_path, monkeypatch):
    guide = tmp_path / "guide.md"
    guide.write_text("### Short one\n\n| start | minutes | what |\n| --- | --- | --- |\n| 0:00 | 10 | `00_x` |\n"
                     "| 0:10 | 5 | wrap |\n\n## Next\n| 9:00 | 1 | not this |\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "GUIDE", guide)
    heading, rows = agenda("Short")
    assert heading == "### Short one" and rows == [(0, 10, "`00_x`"), (10, 5, "wrap")]


def test_start_times_follow_from_durations():
    for name in ("90 minutes", "Half day"):
        _, rows = agenda(name)
        assert rows[0][0] == 0
        for (start, minutes, what), (next_start, _, _) in zip(rows, rows[1:], strict=False):
            assert start + minutes == next_start, f"{name}: after '{what}' the next item should start at {start + minutes}"


def test_short_agenda_fills_90_minutes():
    _, rows = agenda("90 minutes")
    assert sum(minutes for _, minutes, _ in rows) == 90


def test_half_day_total_matches_its_heading_and_covers_every_lesson():
    heading, rows = agenda("Half day")
    hours, minutes = map(int, re.search(r"\((\d+) h (\d+) min", heading).groups())
    assert sum(m for _, m, _ in rows) == hours * 60 + minutes
    badges = _badges()
    for lesson in LESSONS:
        planned = [m for _, m, what in rows if f"`{lesson.stem}`" in what]
        assert planned, f"the half day leaves out {lesson.stem}"
        announced = badges.notebook_summary(lesson)[1]
        if announced:
            assert planned[0] >= int(announced.split()[0]), f"{lesson.stem} announces {announced}, gets {planned[0]}"


def test_every_notebook_the_guide_names_exists():
    names = set(re.findall(r"`(\d\d_[a-z0-9_]+)`", GUIDE.read_text(encoding="utf-8")))
    assert names, "the guide names no notebook"
    missing = sorted(name for name in names if not (ROOT / "notebooks" / f"{name}.ipynb").exists())
    assert not missing, f"the guide names notebooks that do not exist: {missing}"
