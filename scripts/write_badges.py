"""Write the per-notebook "launch on Binder" badges into docs/workshop.md, between two marker comments.

Usage: python scripts/write_badges.py [--check] [--doc PATH]

Idempotent: a second run changes nothing. With --check nothing is written and the exit code is 1 when the
badges are out of date (a notebook was added, renamed or removed), so a test can catch a stale guide.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository's public GitHub owner/name is not known yet: this placeholder is the only place to change it.
BINDER_REPO = "qwen-lessons/qwen-lessons"
BINDER_REF = "main"  # for a workshop, use a tag: every new commit on a branch makes Binder rebuild
BINDER_BASE = "https://mybinder.org/v2/gh"
BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
START = "<!-- binder-badges:start (written by scripts/write_badges.py; do not edit by hand) -->"
END = "<!-- binder-badges:end -->"
APP_PREFIX = "9"  # notebooks 90-99 are widget-only apps, opened with Voila
TIME_PATTERN = re.compile(r"\*\*Time:\*\*\s*about\s+(\d+)\s+minutes", re.IGNORECASE)


def binder_url(urlpath: str, repo: str = BINDER_REPO, ref: str = BINDER_REF) -> str:
    """The mybinder.org launch URL that opens `urlpath` (e.g. lab/tree/notebooks/x.ipynb) once the image is built."""
    return f"{BINDER_BASE}/{repo}/{ref}?urlpath={urlpath}"


def launch_url(notebook: str, repo: str = BINDER_REPO, ref: str = BINDER_REF) -> str:
    """Lessons open in JupyterLab; apps (9x_*) open in Voila."""
    if Path(notebook).name.startswith(APP_PREFIX):
        return binder_url(f"voila/render/notebooks/{notebook}", repo, ref)
    return binder_url(f"lab/tree/notebooks/{notebook}", repo, ref)


def badge(url: str, label: str = "Launch on Binder") -> str:
    return f"[![{label}]({BADGE_IMAGE})]({url})"


def notebook_summary(path: Path) -> tuple[str, str]:
    """Title (first heading, without its number) and time estimate ("10 min", or "" when none) of a notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"]) if cells and cells[0]["cell_type"] == "markdown" else ""
    heading = next((line.lstrip("# ").strip() for line in first.splitlines() if line.startswith("# ")), path.stem)
    title = re.sub(r"^\d\d\s*·\s*", "", heading)
    minutes = TIME_PATTERN.search(first)
    return title, f"{minutes.group(1)} min" if minutes else ""


def course_notebooks(notebook_dir: Path) -> list[Path]:
    """Lesson and app notebooks (NN_*.ipynb) in course order; solutions are not launched on their own."""
    return sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb"))


def badge_block(notebook_dir: Path, repo: str = BINDER_REPO, ref: str = BINDER_REF) -> str:
    """The Markdown table of badges, one row per notebook, between the two markers."""
    rows = ["| notebook | title | time | launch |", "| --- | --- | --- | --- |"]
    for path in course_notebooks(notebook_dir):
        title, minutes = notebook_summary(path)
        opens = "Voilà app" if path.name.startswith(APP_PREFIX) else "JupyterLab"
        rows.append(f"| `{path.stem}` | {title} | {minutes} | {badge(launch_url(path.name, repo, ref), f'Launch {opens} on Binder')} |")
    return "\n".join([START, *rows, END])


def replace_block(text: str, block: str, where: str = "the document") -> str:
    """Put block in place of the current START..END block of text (markers included)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{where} has no '{START}' ... '{END}' block to write the badges into")
    return text[:start] + block + text[end + len(END):]


def write_badges(doc: Path, notebook_dir: Path, check: bool = False) -> bool:
    """Refresh the badge block of doc; return True when it was (or, with check, would be) changed."""
    text = doc.read_text(encoding="utf-8")
    updated = replace_block(text, badge_block(notebook_dir), str(doc))
    if updated != text and not check:
        doc.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the badges are out of date")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "workshop.md")
    args = parser.parse_args(argv)
    changed = write_badges(args.doc, ROOT / "notebooks", check=args.check)
    if args.check and changed:
        print(f"{args.doc}: the Binder badges are out of date; run python scripts/write_badges.py")
        return 1
    print(f"{args.doc}: badges {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
