"""Every lesson: find and load the course's sourced tables in ``data/``, located from this package, not the working directory."""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import math
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from qwen_lessons.schemas import BOOL, INT, TEXT, TableSchema, schema
from qwen_lessons.validation import checked

DATA_ENV_VAR = "QWEN_LESSONS_DATA"
TABLES_PACKAGE = "qwen_lessons.tables"  # data/ in a checkout, installed inside the package (see pyproject.toml)


class DataFileError(ValueError):
    """A table in data/ is missing or malformed; the message names the file and the problem."""


@checked
def data_dir() -> Path:
    """Return the course's data folder: $QWEN_LESSONS_DATA if set, else the qwen_lessons.tables package."""
    override = os.environ.get(DATA_ENV_VAR)
    folder = Path(override) if override else _installed_tables()
    if not folder.is_dir():
        raise DataFileError(
            f"data folder not found at {folder}; reinstall the course (`pip install .` or `pip install -e .` from "
            f"its checkout) or set {DATA_ENV_VAR}"
        )
    return folder


@lru_cache(maxsize=1)  # found once: calculators look files up often
def _installed_tables() -> Path:
    try:
        return Path(str(importlib.resources.files(TABLES_PACKAGE)))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "data"  # an old install that predates the tables package


@checked
def data_path(name: str) -> Path:
    """Return the path of one file in the data folder, raising DataFileError if it does not exist."""
    path = data_dir() / name
    if not path.is_file():
        raise DataFileError(f"{path}: data file is missing")
    return path


@checked
def read_table(name: str, check: Callable[[pd.DataFrame], list[str]] | None = None, *,
               as_text: bool = False) -> pd.DataFrame:
    """Read a CSV from data/ by its schema (qwen_lessons.schemas), refusing a malformed file with its line number.

    ``check(table)`` adds a table's own rules across rows (an empty list when valid); any violation raises
    DataFileError naming the file. ``as_text`` returns every column as text (empty cells stay missing), for
    lessons that count what a source left empty. Cached per file version: the path, size and modification time
    key the cache, so an edited file, or another data folder set in $QWEN_LESSONS_DATA, is read afresh."""
    table_schema = schema(name)
    path = data_path(name)
    status = path.stat()
    typed, text = _read_table_cached(str(path), status.st_mtime_ns, status.st_size, table_schema.file, check)
    return (text if as_text else typed).copy()


@checked
def row_as_dict(row: pd.Series) -> dict:
    """A table row as plain Python values (int, float, bool, str), with None for an empty cell."""
    return {column: (None if pd.isna(value) else value.item() if hasattr(value, "item") else value)
            for column, value in row.items()}


@lru_cache(maxsize=64)
def _read_table_cached(path: str, mtime_ns: int, size: int, schema_name: str,
                       check: Callable[[pd.DataFrame], list[str]] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The typed table and the same cells as written (text, missing when empty)."""
    name, table_schema = Path(path).name, schema(schema_name)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")  # a byte-order mark (Excel's UTF-8) is tolerated
    except UnicodeDecodeError as error:
        raise DataFileError(f"{name}: not UTF-8 text ({error})") from None
    lines, records = _records(text)  # CRLF line ends are tolerated too
    if not records or not any(cell.strip() for cell in records[0]):
        raise DataFileError(f"{name}: line 1: the header row is missing")
    header = records[0]
    expected = list(table_schema.dtypes)
    missing = [column for column in expected if column not in header]
    unknown = [column for column in header if column not in table_schema.dtypes]
    if missing or unknown:
        raise DataFileError(f"{name}: line 1: header {'lacks ' + str(missing) if missing else ''}"
                            f"{' and ' if missing and unknown else ''}{'has unknown ' + str(unknown) if unknown else ''}"
                            f"; the columns are {expected}")
    rows = [(line, record) for line, record in zip(lines[1:], records[1:], strict=True) if record]
    if not rows:
        raise DataFileError(f"{name}: has a header but no rows")
    columns: dict[str, list] = {column: [] for column in header}
    texts: dict[str, list] = {column: [] for column in header}
    seen: dict[tuple, int] = {}
    for line, record in rows:
        if len(record) != len(header):
            raise DataFileError(f"{name}: line {line}: {len(record)} cells where the header has {len(header)} "
                                f"({'a truncated file or ' if len(record) < len(header) else ''}a stray comma?)")
        cells = dict(zip(header, record, strict=True))
        for column, cell in cells.items():
            columns[column].append(_cell(name, line, column, cell, table_schema))
            texts[column].append(cell if cell.strip() else None)
        key = tuple(cells[column] for column in table_schema.key)
        if key in seen:
            raise DataFileError(f"{name}: line {line} repeats the key {dict(zip(table_schema.key, key, strict=True))} "
                                f"of line {seen[key]}")
        seen[key] = line
    table = pd.DataFrame({column: pd.array(columns[column], dtype=table_schema.dtypes[column]) for column in expected})
    problems = check(table) if check is not None else []
    if problems:
        raise DataFileError(f"{name}: {len(problems)} problem(s): " + "; ".join(problems))
    return table, pd.DataFrame({column: pd.array(texts[column], dtype="string") for column in expected})


def _records(text: str) -> tuple[list[int], list[list[str]]]:
    """Every CSV record, and the 1-based line on which each starts (a quoted cell may span lines), in one pass."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, records, previous = [], [], 0
    for record in reader:
        starts.append(previous + 1)
        records.append(record)
        previous = reader.line_num
    return starts, records


def _cell(name: str, line: int, column: str, cell: str, table_schema: TableSchema):
    """One CSV cell as its column's type, None when empty; DataFileError naming file, line and column otherwise."""
    where = f"{name}: line {line}, column {column!r}"
    if cell.strip() == "":
        if column in table_schema.filled:
            raise DataFileError(f"{where}: is empty, but every row must fill it"
                                + (" (say where the row's facts come from)" if column == "source" else ""))
        return None
    kind = table_schema.dtypes[column]
    if kind == TEXT:
        return cell
    if kind == BOOL:
        if cell.strip().lower() not in ("true", "false"):
            raise DataFileError(f"{where}: {cell!r} is not true or false")
        return cell.strip().lower() == "true"
    try:
        value = int(cell) if kind == INT else float(cell)
    except ValueError:
        raise DataFileError(f"{where}: {cell!r} is not {'a whole number' if kind == INT else 'a number'}") from None
    low, high = table_schema.range_of(column)
    if not math.isfinite(value) or not low <= value <= high:
        raise DataFileError(f"{where}: {cell!r} is outside {low:g} to {high:g}")
    return value


def built_from(*names: str):
    """Cache what a zero-argument builder derives from data tables (an index, a resolved view) per version of
    those tables: the builder runs again only when ``read_table`` gives other contents for one of ``names``
    (an edited file, another folder in $QWEN_LESSONS_DATA). read_table's own cache keeps each look cheap, so a
    caller may ask on every call. ``.cache_clear()`` forgets the last build."""

    def decorate(build: Callable[[], object]):
        last: list = []  # [tables, what build returned], the latest only

        @functools.wraps(build)
        def cached():
            tables = [read_table(name) for name in names]
            if last and all(old.equals(new) for old, new in zip(last[0], tables, strict=True)):
                return last[1]
            value = build()
            last[:] = [tables, value]
            return value

        cached.cache_clear = last.clear
        return cached

    return decorate
