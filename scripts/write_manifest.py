"""Write data/MANIFEST.csv: every table's row count and the SHA-256 of its cells, which the loader checks so a
cut-off or half-written table is refused (qwen_lessons.data).

Usage: python scripts/write_manifest.py [--check] [--data PATH]

Run it after adding or changing rows of a table in data/ (the loader's error says so). Idempotent: a second run
changes nothing. With --check nothing is written and the exit code is 1 when the manifest is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qwen_lessons import data

ROOT = Path(__file__).resolve().parent.parent


def write_manifest(folder: Path, check: bool = False) -> bool:
    """Refresh folder/MANIFEST.csv; return True when it was (or, with check, would be) changed."""
    path = folder / data.MANIFEST_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    updated = data._manifest_text(folder)
    if updated != text and not check:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the manifest is out of date")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    changed = write_manifest(args.data, check=args.check)
    path = args.data / data.MANIFEST_FILE
    if args.check and changed:
        print(f"{path}: out of date (a table's rows or cells changed); run python scripts/write_manifest.py")
        return 1
    print(f"{path}: {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
