"""Every lesson: find and load the course's sourced tables in ``data/``, located from this package, not the working directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd
from qwen_lessons.validation import checked

DATA_ENV_VAR = "QWEN_LESSONS_DATA"
_BESIDE_PACKAGE = Path(__file__).resolve().parent.parent / "data"  # resolved once: calculators look files up often


class DataFileError(ValueError):
    """A table in data/ is missing or malformed; the message names the file and the problem."""


@checked
def data_dir() -> Path:
    """Return the course's data folder: $QWEN_LESSONS_DATA if set, else ``data/`` beside the package."""
    override = os.environ.get(DATA_ENV_VAR)
    folder = Path(override) if override else _BESIDE_PACKAGE
    if not folder.is_dir():
        raise DataFileError(
            f"data folder not found at {folder}; install the course with `pip install -e .` from its "
            f"checkout (the package reads data/ beside itself) or set {DATA_ENV_VAR}"
        )
    return folder


@checked
def data_path(name: str) -> Path:
    """Return the path of one file in the data folder, raising DataFileError if it does not exist."""
    path = data_dir() / name
    if not path.is_file():
        raise DataFileError(f"{path}: data file is missing")
    return path


@checked
def read_table(name: str, dtypes: dict[str, str] | None = None, required: tuple[str, ...] = (),
               check: Callable[[pd.DataFrame], list[str]] | None = None) -> pd.DataFrame:
    """Read a CSV from data/ with explicit dtypes, checking required columns and that every row has a source.

    ``check(table)`` returns the table's rule violations (an empty list when valid); any violation raises
    DataFileError naming the file. Cached per file version: the path and modification time key the cache, so
    an edited file, or another data folder set in $QWEN_LESSONS_DATA, is read (and checked) afresh."""
    path = data_path(name)
    return _read_table_cached(str(path), path.stat().st_mtime_ns, tuple(sorted((dtypes or {}).items())),
                              tuple(required), check).copy()


@checked
def row_as_dict(row: pd.Series) -> dict:
    """A table row as plain Python values (int, float, bool, str), with None for an empty cell."""
    return {column: (None if pd.isna(value) else value.item() if hasattr(value, "item") else value)
            for column, value in row.items()}


@lru_cache(maxsize=64)
def _read_table_cached(path: str, mtime_ns: int, dtype_items: tuple, required: tuple[str, ...],
                       check: Callable[[pd.DataFrame], list[str]] | None) -> pd.DataFrame:
    dtypes = dict(dtype_items)
    try:
        table = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as error:
        raise DataFileError(f"{path}: cannot be parsed as CSV with the expected types ({error})") from None
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataFileError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")
    if "source" in table.columns:
        unsourced = table.index[table["source"].isna() | (table["source"].astype(str).str.strip() == "")]
        if len(unsourced):
            raise DataFileError(f"{path}: row(s) {[int(i) + 2 for i in unsourced]} have no source")
    problems = check(table) if check is not None else []
    if problems:
        raise DataFileError(f"{Path(path).name}: {len(problems)} problem(s): " + "; ".join(problems))
    return table
