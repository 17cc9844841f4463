"""Table schemas (issue 12): every table in data/ is read by its schema in qwen_lessons.schemas, and each kind of
damage a hand edit, a spreadsheet or a cut-off download does is refused with the file and the 1-based CSV line.
A byte-order mark and CRLF line ends are tolerated: the table reads the same."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from qwen_lessons import data
from qwen_lessons.data import DataFileError
from qwen_lessons import schemas
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
    if kind == "cut at half its rows":  # whole rows: only the manifest's row count can tell
        if len(rows) < 3:
            return None  # one row: a cut leaves the header alone, refused as such
        kept = rows[:1 + (len(rows) - 1) // 2]
        return write(kept), (rf"{name}: has {len(kept) - 1:,} rows where MANIFEST.csv records {len(rows) - 1:,} .*"
                             r"run `python scripts/write_manifest.py`")
    if kind in ("key in other case", "key with a trailing space"):
        column = next((c for c in SCHEMAS[name].key if re.search("[a-zA-Z]", rows[1][header.index(c)])), None)
        if column is None:
            return None
        copy = list(rows[1])
        cell = copy[header.index(column)]
        copy[header.index(column)] = cell.swapcase() if kind == "key in other case" else cell + " "
        repeated = write(rows + [copy])
        line = line_of(repeated, len(rows))
        if kind == "key in other case":
            return repeated, rf"{name}: line {line} repeats the key .* of line 2 \(case and spaces aside\)"
        return repeated, rf"{name}: line {line}, column '{column}': the key .* has spaces around it"
    if kind in NUMBER_SPELLINGS:
        if number is None:
            return None
        rows[row][header.index(number)] = NUMBER_SPELLINGS[kind]
        return write(rows), rf"{name}: line {line}, column '{number}': .* is not (a whole number|a number)"
    if kind == "swapped columns":
        found = caught_swap(name, rows)
        if found is None:
            return None
        row, pair = found
        line = line_of(text, row)
        a, b = (header.index(column) for column in pair)
        rows[row][a], rows[row][b] = rows[row][b], rows[row][a]
        return write(rows), rf"{name}: line {line}(, column '({pair[0]}|{pair[1]})': .* is (outside|not)|: .*breaks the rule)"
    if kind in CELL_DAMAGE:
        rows[row][header.index("source")] = CELL_DAMAGE[kind][0]
        return write(rows), rf"{name}: line {line}{CELL_DAMAGE[kind][1]}"
    if kind == "over the size cap":
        body = rows[1:]
        many = [rows[0]] + body * (2 * schemas.MAX_FILE_BYTES // len(text) + 2)
        return write(many), rf"{name}: is [0-9,]+ bytes; a table may hold at most {schemas.MAX_FILE_BYTES:,}"
    raise ValueError(kind)


NUMBER_SPELLINGS = {"1_024": "1_024", "full-width digits": "\uff11\uff12", "padded": " 12", "leading zero": "012",
                    "10**30": "1" + "0" * 30, "plus sign": "+12", "infinity": "inf", "thousands separator": "1,024"}
CELL_DAMAGE = {  # a cell of the source column (text in every table)
    "formula =": ('=HYPERLINK("http://evil.example","source")', ", column 'source': .* starts like a spreadsheet formula"),
    "formula @": ("@SUM(A1:A9)", ", column 'source': .* starts like a spreadsheet formula"),
    "formula +": ("+cmd|' /C calc'!A0", ", column 'source': .* starts like a spreadsheet formula"),
    "formula -": ("-2+3+cmd", ", column 'source': .* starts like a spreadsheet formula"),
    "NUL byte": ("a paper\x00", ", column 'source': holds the control character"),
    "escape character": ("a paper\x1b[31m", ", column 'source': holds the control character"),
    "200,000-character cell": ("x" * 200_000, ": a cell is over 10,000 characters"),
}


def swap_is_caught(name: str, header: list[str], record: list[str], a: str, b: str) -> bool:
    """Whether the schema can tell that columns a and b of a record were swapped (a range or a row rule)."""
    table_schema = SCHEMAS[name]
    cells = dict(zip(header, record, strict=True))
    cells[a], cells[b] = cells[b], cells[a]
    try:
        values = {column: data._cell(name, 0, column, cells[column], table_schema) for column in header}
    except DataFileError:
        return True
    return any(all(values[c] is not None for c in rule.columns) and not rule.check(*(values[c] for c in rule.columns))
               for rule in table_schema.rules)


def swappable_pairs(name: str, header: list[str], record: list[str]) -> list[tuple[str, str]]:
    numeric = [c for c in header if SCHEMAS[name].dtypes[c] in NUMERIC and record[header.index(c)].strip()]
    return [(a, b) for i, a in enumerate(numeric) for b in numeric[i + 1:]
            if float(record[header.index(a)]) != float(record[header.index(b)])]


# Tables where no swap can be told from a valid row: two counts of one scale.
SWAPS_UNCATCHABLE = {"gguf_types.csv": "block_weights and block_bytes: a swapped pair is another valid block layout",
                     "vision_samples.csv": "height and width: a swapped pair is the picture turned on its side"}


def caught_swap(name: str, rows: list[list[str]]) -> tuple[int, tuple[str, str]] | None:
    """(row, pair) of the first swap of two numeric columns (from the third row on) that the schema catches."""
    for index in [*range(min(ROW, len(rows) - 1), len(rows)), *range(1, min(ROW, len(rows) - 1))][:50]:
        for pair in swappable_pairs(name, rows[0], rows[index]):
            if swap_is_caught(name, rows[0], rows[index], *pair):
                return index, pair
    return None


DAMAGE = ("missing column", "extra cell", "non-numeric", "negative", "empty source", "duplicate key", "truncated",
          "cut at half its rows", "key in other case", "key with a trailing space", *NUMBER_SPELLINGS,
          "swapped columns", *CELL_DAMAGE, "over the size cap")
CASES = [(name, kind) for name in sorted(SCHEMAS) for kind in DAMAGE
         if damaged(name, (ROOT / "data" / name).read_text(encoding="utf-8"), kind) is not None]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    shutil.copy(ROOT / "data" / data.MANIFEST_FILE, tmp_path)  # the real rows and checksums: damage breaks them
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
    for name in SCHEMAS:  # every kind of damage that can happen to a table is tried on it
        kinds = {kind for table, kind in CASES if table == name}
        header, first = records((ROOT / "data" / name).read_text(encoding="utf-8"))[:2]
        # a key column with letters can be repeated in other case or with a space (a version number key cannot)
        can_happen = set(DAMAGE) - ({"key in other case", "key with a trailing space"} if not any(
            re.search("[a-zA-Z]", first[header.index(column)]) for column in SCHEMAS[name].key) else set())
        if numeric_column(name) is None:
            can_happen -= {"non-numeric", "negative", "swapped columns", *NUMBER_SPELLINGS}
        if name in SWAPS_UNCATCHABLE or len([k for k in SCHEMAS[name].dtypes.values() if k in NUMERIC]) < 2:
            can_happen.discard("swapped columns")
        if len(records((ROOT / "data" / name).read_text(encoding="utf-8"))) < 3:
            can_happen.discard("cut at half its rows")
        assert kinds == can_happen, f"{name}: damage not tried: {can_happen - kinds}"
    on_disk = {path.name for path in (ROOT / "data").glob("*.csv")} - {data.MANIFEST_FILE}  # not a table of facts
    assert on_disk == set(SCHEMAS), f"tables without a schema: {on_disk - set(SCHEMAS)}"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_byte_order_mark_and_crlf_read_the_same(folder, name):
    text = (ROOT / "data" / name).read_text(encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    (folder / data.MANIFEST_FILE).write_text(data._manifest_text(folder), encoding="utf-8")
    clean = data.read_table(name)
    data.clear_caches()
    (folder / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    pd.testing.assert_frame_equal(data.read_table(name), clean)  # the manifest's checksum is of the cells


def test_an_edited_file_is_read_again(folder):
    text = (ROOT / "data" / "hardware.csv").read_text(encoding="utf-8")
    (folder / "hardware.csv").write_text(text, encoding="utf-8")
    (folder / data.MANIFEST_FILE).write_text(data._manifest_text(folder), encoding="utf-8")
    before = len(data.read_table("hardware.csv"))
    (folder / "hardware.csv").write_text(write(records(text)[:-1]), encoding="utf-8")
    (folder / data.MANIFEST_FILE).write_text(data._manifest_text(folder), encoding="utf-8")
    assert len(data.read_table("hardware.csv")) == before - 1


def test_data_readme_documents_each_schema_in_order():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    sections = {block.split("\n", 1)[0].split()[0]: block for block in readme.split("\n## ")[1:]}
    for name, schema in SCHEMAS.items():
        assert name in sections, f"data/README.md has no section for {name}"
        first_cells = re.findall(r"^\| (`[^|]+`) \|", sections[name], flags=re.MULTILINE)
        documented = [column for cell in first_cells for column in re.findall(r"`([a-z_0-9]+)`", cell)]
        assert documented == list(schema.dtypes), f"{name}: README columns {documented} != schema {list(schema.dtypes)}"


def test_most_swaps_of_two_numeric_columns_are_caught():
    """Over the first ten rows of every table, the share of swaps of two numeric columns with different values that
    a range or a row rule refuses (the rest are like quantities: height and width, two token counts)."""
    tried = caught = 0
    for name in sorted(SCHEMAS):
        rows = records((ROOT / "data" / name).read_text(encoding="utf-8"))
        for record in rows[1:11]:
            for pair in swappable_pairs(name, rows[0], record):
                tried += 1
                caught += swap_is_caught(name, rows[0], record, *pair)
    print(f"{caught} of {tried} swaps caught ({caught / tried:.0%})")
    assert caught / tried >= 0.75


def test_every_numeric_column_declares_its_physical_range():
    missing = [f"{name}: {column}" for name, table_schema in SCHEMAS.items()
               for column, kind in table_schema.dtypes.items() if kind in NUMERIC and column not in table_schema.ranges]
    assert not missing, f"declare ranges={{column: (low, high)}} in qwen_lessons/schemas.py for {missing}"


@pytest.mark.parametrize("cell", ["-5", "-1.5", "+", "Qwen-7B", "@ home"[2:]])
def test_a_negative_number_or_a_plain_text_in_a_text_column_is_fine(folder, cell):
    text = (ROOT / "data" / "benchmarks.csv").read_text(encoding="utf-8")
    rows = records(text)
    rows[2][rows[0].index("score")] = cell
    (folder / "benchmarks.csv").write_text(write(rows), encoding="utf-8")
    if cell == "+":
        with pytest.raises(DataFileError, match="starts like a spreadsheet formula"):
            data.read_table("benchmarks.csv")
        return
    (folder / data.MANIFEST_FILE).write_text(data._manifest_text(folder), encoding="utf-8")
    assert data.read_table("benchmarks.csv").loc[1, "score"] == cell


def test_a_folder_without_a_manifest_says_which_command_writes_it(folder):
    (folder / "hardware.csv").write_text((ROOT / "data" / "hardware.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / data.MANIFEST_FILE).unlink()
    with pytest.raises(DataFileError, match=r"MANIFEST.csv: missing .*python scripts/write_manifest.py"):
        data.read_table("hardware.csv")


def test_the_manifest_is_up_to_date():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "write_manifest.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
