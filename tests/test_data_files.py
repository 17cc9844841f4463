"""Every table in data/ is sourced row by row and documented column by column in data/README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
TABLES = sorted(path for path in DATA.rglob("*.csv") if path.name != "MANIFEST.csv")  # rows and checksums, no facts


def readme_sections() -> dict[str, str]:
    """Map each '## name ...' heading's first word (a file name) to the section's text."""
    parts = re.split(r"^## ", (DATA / "README.md").read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    return {part.split()[0].strip("`"): part for part in parts}


def test_there_are_tables():
    assert len(TABLES) >= 5


@pytest.mark.parametrize("path", TABLES, ids=lambda path: path.name)
def test_every_row_has_a_source(path):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert "source" in table.columns, f"{path.name} has no source column"
    unsourced = table.index[table["source"].str.strip() == ""].tolist()
    assert not unsourced, f"{path.name}: rows {[i + 2 for i in unsourced]} have no source"


@pytest.mark.parametrize("path", TABLES, ids=lambda path: path.name)
def test_every_column_is_documented(path):
    sections = readme_sections()
    assert path.name in sections, f"data/README.md has no '## {path.name}' section"
    columns = pd.read_csv(path, nrows=0).columns
    undocumented = [column for column in columns if f"`{column}`" not in sections[path.name]]
    assert not undocumented, f"{path.name}: columns not described in data/README.md: {undocumented}"
