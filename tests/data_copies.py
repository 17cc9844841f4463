"""A copy of data/ that a test edits: after an edit the copy's MANIFEST.csv is written again, as a contributor runs
scripts/write_manifest.py after changing a table (the loader refuses cells that differ from the manifest)."""

from __future__ import annotations

from pathlib import Path

from qwen_lessons import data


def record_manifest(folder: Path) -> None:
    """Write folder/MANIFEST.csv for the tables as they are now (what scripts/write_manifest.py --data does)."""
    (Path(folder) / data.MANIFEST_FILE).write_text(data._manifest_text(Path(folder)), encoding="utf-8")
