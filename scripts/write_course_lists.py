"""Write every list of the course's lessons from each lesson's own first cell (title, time, objectives).

Usage: python scripts/write_course_lists.py [--check]

Writes, each between two marker comments (or, in lesson 0, in the cell headed "## The course map"):
- the course map of notebooks/00_start_here.ipynb;
- the lesson table of README.md;
- the half-day agenda of docs/workshop.md (breaks placed by the rule in `half_day_agenda`);
- the Binder badges of docs/workshop.md (scripts/write_badges.py, run from here).
The website's home page builds its map from the same `lesson_header` when the site is built (scripts/build_site.py),
and finds the lessons by name, so a new notebooks/NN_stem.ipynb needs only this script run once.

Idempotent: a second run changes nothing. With --check nothing is written and the exit code is 1 when a list is out
of date (a lesson was added, renamed, retitled or re-timed), so a test (tests/test_course_lists.py) catches it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import write_badges

ROOT = Path(__file__).resolve().parent.parent
LESSON_GLOB = "[0-8][0-9]_*.ipynb"  # lessons; 90-99 are apps (the calculators page), listed in the agenda only
APP_GLOB = "9[0-9]_*.ipynb"
START_HERE = "00_start_here.ipynb"
MAP_HEADING = "## The course map"
README_START = "<!-- course-lessons:start (written by scripts/write_course_lists.py; do not edit by hand) -->"
README_END = "<!-- course-lessons:end -->"
AGENDA_START = "<!-- half-day-agenda:start (written by scripts/write_course_lists.py; do not edit by hand) -->"
AGENDA_END = "<!-- half-day-agenda:end -->"
# The half day: a break once this many minutes have passed since the last one (never inside a lesson and the lesson
# that continues it, never before the last item); the first break is longer.
BREAK_AFTER_MINUTES = 80
BREAKS = (15, 10)
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
GLOSSARY_LINK = re.compile(r"\[([^\]]+)\]\(\.\./docs/glossary\.md#[^)]*\)")


def lesson_header(notebook: Path) -> dict:
    """What a notebook's first cell says about it: number, title, minutes ("" when none), what it assumes, the
    lesson it continues (None), and its objectives (the bullets under "By the end of this notebook you will")."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"]) if cells and cells[0]["cell_type"] == "markdown" else ""
    title = re.search(r"^# (\d+) · (.+)$", first, re.M)
    if not title:
        raise ValueError(f"{notebook.name}: the first cell must start with a heading '# NN · Title'")
    minutes = re.search(r"about (\d+) minutes", first)
    assumes = re.search(r"^\*\*Assumes:\*\* (.+)$", first, re.M)
    continues = re.search(r"continues lesson (\d+)", first)
    objectives: list[str] = []
    listing = False
    for line in first.splitlines():
        if line.startswith("**By the end of this notebook"):
            listing = True
        elif listing and line.startswith("- "):
            objectives.append(line[2:].strip())
        elif listing and line.startswith("  ") and objectives:
            objectives[-1] += " " + line.strip()
        elif listing and line.strip():
            listing = False
    return {"stem": notebook.stem, "number": title.group(1), "title": title.group(2).strip(),
            "minutes": minutes.group(1) if minutes else "", "assumes": assumes.group(1) if assumes else "",
            "continues": int(continues.group(1)) if continues else None, "objectives": objectives}


def lessons(notebook_dir: Path) -> list[dict]:
    return [lesson_header(path) for path in sorted(notebook_dir.glob(LESSON_GLOB))]


def what_you_learn(header: dict) -> str:
    """The title, then the objectives, as plain words: the "what you learn" cell of the README's table."""
    objectives = "; ".join(objective.rstrip(";.") for objective in header["objectives"])
    text = f"**{header['title']}**"
    if header["continues"] is not None:
        text += f" (*continues lesson {header['continues']}*)"
    text += f": {objectives}" if objectives else ""
    return GLOSSARY_LINK.sub(r"\1", text)


def builds_on(header: dict) -> str:
    """The lessons a lesson assumes, from its "**Assumes:**" line ("basic Python only" when it names none)."""
    named = re.search(r"lessons? \d.*?(?=\.(?:\s|$)|$)", header["assumes"])
    return named.group(0) if named else "basic Python only"


def link_to(header: dict) -> str:
    return f"[{header['title']}]({header['stem']}.ipynb)"


def minutes_cell(header: dict) -> str:
    return f"{header['minutes']} min" if header["minutes"] else ""


def course_map_cell(notebook_dir: Path) -> str:
    """The whole course-map cell of lesson 0."""
    headers = lessons(notebook_dir)
    after = len(headers) - 1
    count = NUMBER_WORDS[after] if after < len(NUMBER_WORDS) else str(after)
    # each title links to its notebook (a sibling of lesson 0); lesson 0's own row needs no link
    rows = [f"| `{h['stem']}` | {h['title'] if h['stem'] + '.ipynb' == START_HERE else link_to(h)} | "
            f"{builds_on(h)} | {minutes_cell(h)} |" for h in headers]
    return "\n".join([
        MAP_HEADING, "",
        f"This notebook and the {count} lessons after it, in the order they build on each other:", "",
        "| notebook | lesson | builds on | time |", "| --- | --- | --- | --- |", *rows, "",
        "Each lesson opens with its objectives, and ends with exercises that you can check yourself.",
        "Worked solutions are in `notebooks/solutions/`: try the exercises first.",
    ])


def readme_block(notebook_dir: Path) -> str:
    rows = [f"| [`{h['stem']}`](notebooks/{h['stem']}.ipynb) | {what_you_learn(h)} | {minutes_cell(h)} |"
            for h in lessons(notebook_dir)]
    return "\n".join([README_START, "| notebook | what you learn | time |", "| --- | --- | --- |", *rows, README_END])


def half_day_agenda(notebook_dir: Path) -> list[tuple[int, int, str]]:
    """(start minute, minutes, what) of the whole course in one sitting: every lesson its announced time, then the
    apps; a break once BREAK_AFTER_MINUTES have passed since the last, unless the next lesson continues this one."""
    items = []  # (minutes, what, lesson number, the lesson it continues or None)
    for header in lessons(notebook_dir):
        what = f"`{header['stem']}`"
        if header["continues"] is not None:
            what += f" (continues lesson {header['continues']})"
        items.append((int(header["minutes"] or 0), what, int(header["number"]), header["continues"]))
    for path in sorted(notebook_dir.glob(APP_GLOB)):
        header = lesson_header(path)
        items.append((int(header["minutes"] or 0), f"`{path.stem}` and questions", int(header["number"]), None))
    rows, start, since_break, breaks = [], 0, 0, list(BREAKS)
    for index, (minutes, what, number, _) in enumerate(items):
        rows.append((start, minutes, what))
        start += minutes
        since_break += minutes
        following = items[index + 1:]
        continued = bool(following) and following[0][3] == number
        if since_break >= BREAK_AFTER_MINUTES and len(following) > 1 and not continued:
            length = breaks.pop(0) if len(breaks) > 1 else breaks[0]
            rows.append((start, length, "break"))
            start += length
            since_break = 0
    return rows


def agenda_block(notebook_dir: Path) -> str:
    rows = half_day_agenda(notebook_dir)
    total = sum(minutes for _, minutes, _ in rows)
    lines = [AGENDA_START, f"### Half day ({total // 60} h {total % 60} min): the whole course", "",
             "| start | minutes | what |", "| --- | --- | --- |"]
    lines += [f"| {start // 60}:{start % 60:02d} | {minutes} | {what} |" for start, minutes, what in rows]
    return "\n".join([*lines, AGENDA_END])


def replace_between(text: str, start: str, end: str, block: str, where: str) -> str:
    """Put block (markers included) in place of the text's start..end block."""
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        raise ValueError(f"{where} has no '{start}' ... '{end}' block to write into")
    return text[:first] + block + text[last + len(end):]


def _source_lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + [parts[-1]]


def write_course_map(notebook: Path, cell_text: str, check: bool) -> bool:
    """Rewrite the course-map cell of lesson 0, keeping its id and every other cell byte for byte."""
    raw = notebook.read_text(encoding="utf-8")
    document = json.loads(raw)
    cells = [cell for cell in document["cells"]
             if cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith(MAP_HEADING)]
    if len(cells) != 1:
        raise ValueError(f"{notebook.name} needs exactly one markdown cell starting '{MAP_HEADING}'")
    cells[0]["source"] = _source_lines(cell_text)
    updated = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if updated != raw and not check:
        notebook.write_text(updated, encoding="utf-8")
    return updated != raw


def write_text_block(doc: Path, start: str, end: str, block: str, check: bool) -> bool:
    text = doc.read_text(encoding="utf-8")
    updated = replace_between(text, start, end, block, str(doc))
    if updated != text and not check:
        doc.write_text(updated, encoding="utf-8")
    return updated != text


def write_all(root: Path = ROOT, check: bool = False) -> list[str]:
    """Refresh every list; return the files that were (with check: would be) changed."""
    notebooks = root / "notebooks"
    guide = root / "docs" / "workshop.md"
    changed = {
        str(notebooks / START_HERE): write_course_map(notebooks / START_HERE, course_map_cell(notebooks), check),
        str(root / "README.md"): write_text_block(root / "README.md", README_START, README_END,
                                                  readme_block(notebooks), check),
        f"{guide} (agenda)": write_text_block(guide, AGENDA_START, AGENDA_END, agenda_block(notebooks), check),
        f"{guide} (badges)": write_badges.write_badges(guide, notebooks, check=check),
    }
    return [name for name, was_changed in changed.items() if was_changed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether a list is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    args = parser.parse_args(argv)
    changed = write_all(args.root, check=args.check)
    if args.check and changed:
        print("out of date: " + ", ".join(changed) + "; run python scripts/write_course_lists.py")
        return 1
    print("updated: " + ", ".join(changed) if changed else "every lesson list is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
