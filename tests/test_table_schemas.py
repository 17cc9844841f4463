"""Table schemas (issue 12): every table in data/ is read by its schema in qwen_lessons.schemas, and each kind of
damage a hand edit, a spreadsheet or a cut-off download does is refused with the file and the 1-based CSV line.
A byte-order mark and CRLF line ends are tolerated: the table reads the same."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from qwen_lessons import data
from qwen_lessons.data import DataFileError
from qwen_lessons.schemas import NUMERIC, SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
ROW = 3  # the damaged data row: the third record, which starts on a line we compute (quoted cells may span lines)


def records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def write(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def line_of(text: str, record: int) -> int:
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    for index, _ in enumerate(reader):
        if index == record:
            return previous + 1
        previous = reader.line_num
    raise AssertionError("no such record")


def numeric_column(name: str) -> str | None:
    return next((column for column, kind in SCHEMAS[name].dtypes.items() if kind in NUMERIC), None)


def damaged(name: str, text: str, kind: str):
    """(damaged text, the message pattern it must raise); None when this damage cannot happen to this table."""
    rows = records(text)
    row = min(ROW, len(rows) - 1)  # a two-row table (vocabularies.csv) is damaged in its last row
    header, line = rows[0], line_of(text, row)
    number = numeric_column(name)
    if kind == "missing column":
        return write([row[:-1] for row in rows]), rf"{name}: line 1: header lacks \['{header[-1]}'\]"
    if kind == "extra cell":
        rows[row].append("x")
        return write(rows), rf"{name}: line {line}: {len(header) + 1} cells where the header has {len(header)}"
    if kind in ("non-numeric", "negative"):
        if number is None:
            return None
        rows[row][header.index(number)] = "abc" if kind == "non-numeric" else "-5"
        expected = "is not" if kind == "non-numeric" else "is outside"
        return write(rows), rf"{name}: line {line}, column '{number}': '(abc|-5)' {expected}"
    if kind == "empty source":
        rows[row][header.index("source")] = ""
        return write(rows), rf"{name}: line {line}, column 'source': is empty"
    if kind == "duplicate key":
        repeated = write(rows + [rows[1]])
        return repeated, rf"{name}: line {line_of(repeated, len(rows))} repeats the key .* of line 2"
    if kind == "truncated":
        cut = text.rstrip("\n")
        last = cut.rsplit("\n", 1)
        cut = last[0] + "\n" + ",".join(records(last[1])[0][:2])  # the download stopped two cells into the row
        return cut + "\n", rf"{name}: line {line_of(cut, len(rows) - 1)}: 2 cells where the header has"
    raise ValueError(kind)


DAMAGE = ("missing column", "extra cell", "non-numeric", "negative", "empty source", "duplicate key", "truncated")
CASES = [(name, kind) for name in sorted(SCHEMAS) for kind in DAMAGE
         if not (kind in ("non-numeric", "negative") and numeric_column(name) is None)]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    data.clear_caches()
    yield tmp_path
    monkeypatch.delenv(data.DATA_ENV_VAR)
    data.clear_caches()


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_damage_is_refused_with_the_file_and_line(folder, name, kind):
    text = (ROOT / "data" / name).read_text(encoding="utf-8")
    bad, message = damaged(name, text, kind)
    (folder / name).write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        data.read_table(name)


def test_every_table_has_every_kind_of_damage_tested_that_can_happen_to_it():
    text_only = sorted(name for name in SCHEMAS if numeric_column(name) is None)
    print(f"{len(CASES)} damage cases over {len(SCHEMAS)} tables; {text_only} hold no numbers to corrupt")
    assert {name for name, _ in CASES} == set(SCHEMAS)
    on_disk = {path.name for path in (ROOT / "data").glob("*.csv")}
    assert on_disk == set(SCHEMAS), f"tables without a schema: {on_disk - set(SCHEMAS)}"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_byte_order_mark_and_crlf_read_the_same(folder, name):
    text = (ROOT / "data" / name).read_text(encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    clean = data.read_table(name)
    data.clear_caches()
    (folder / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    pd.testing.assert_frame_equal(data.read_table(name), clean)


def test_an_edited_file_is_read_again(folder):
    text = (ROOT / "data" / "hardware.csv").read_text(encoding="utf-8")
    (folder / "hardware.csv").write_text(text, encoding="utf-8")
    before = len(data.read_table("hardware.csv"))
    (folder / "hardware.csv").write_text(write(records(text)[:-1]), encoding="utf-8")
    assert len(data.read_table("hardware.csv")) == before - 1


def test_data_readme_documents_each_schema_in_order():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    sections = {block.split("\n", 1)[0].split()[0]: block for block in readme.split("\n## ")[1:]}
    for name, schema in SCHEMAS.items():
        assert name in sections, f"data/README.md has no section for {name}"
        first_cells = re.findall(r"^\| (`[^|]+`) \|", sections[name], flags=re.MULTILINE)
        documented = [column for cell in first_cells for column in re.findall(r"`([a-z_0-9]+)`", cell)]
        assert documented == list(schema.dtypes), f"{name}: README columns {documented} != schema {list(schema.dtypes)}"
