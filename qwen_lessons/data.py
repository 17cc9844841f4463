"""Every lesson: find and load the course's sourced tables in ``data/``, located from this package, not the working directory."""

from __future__ import annotations

import copy
import csv
import functools
import dataclasses
import hashlib
import importlib.resources
import inspect
import io
import math
import os
import re
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from qwen_lessons.schemas import BOOL, INT, MAX_CELL_CHARS, MAX_FILE_BYTES, SCHEMAS, TEXT, TableSchema
from qwen_lessons.validation import checked, choices

DATA_ENV_VAR = "QWEN_LESSONS_DATA"
MANIFEST_FILE = "MANIFEST.csv"  # every table's row count and checksum: a cut-off or altered file is refused
MANIFEST_COMMAND = "python scripts/write_manifest.py"  # run in the course's checkout after changing a table
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


@lru_cache(maxsize=1)  # where the package is installed cannot change while it runs (not data: no data.cached)
def _installed_tables() -> Path:
    try:
        return Path(str(importlib.resources.files(TABLES_PACKAGE)))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "data"  # an old install that predates the tables package



# ---------------------------------------------------------------- the one cache of data-derived values
#
# A file's identity is its path (so another $QWEN_LESSONS_DATA is another file), size, mtime_ns and a hash of its
# bytes. The hash is taken when the file is first seen and again whenever its stat (inode, size, mtime, ctime)
# changes. An edit that restores the mtime (`cp -p`, `rsync -t`) still changes the ctime, which no tool can set;
# only an edit within the same tick of the file system's clock as the last look can keep the whole stat, so a
# file that changed less than RECENT_NS before it was last hashed is hashed again on every look until it is older
# (git's "racily clean" rule). Warm lookups of a settled file cost one stat.

RECENT_NS = 2_000_000_000  # longer than any file system's timestamp tick (FAT's is 2 s; ext4/overlayfs ~4 ms)


@dataclasses.dataclass(frozen=True)
class _Seen:
    stat: tuple  # (inode, device, size, mtime_ns, ctime_ns)
    identity: tuple  # (path, size, mtime_ns, digest)
    recent: bool  # changed within RECENT_NS of the hash: the stat alone cannot prove it unchanged


_seen: dict[str, _Seen] = {}
_frames = threading.local()  # the files read by each cached computation under way in this thread, innermost last
_caches: list[dict] = []  # every data.cached store, for clear_caches()


def _folder() -> str:
    return os.environ.get(DATA_ENV_VAR) or _installed_folder()


@lru_cache(maxsize=1)  # as _installed_tables
def _installed_folder() -> str:
    return str(_installed_tables())


@checked
def file_identity(name: str) -> tuple[str, int, int, str]:
    """(path, size, mtime_ns, blake2b digest) of one file in the data folder: what a cached value was made from.
    Called inside a ``cached`` computation, it records the file as one that computation depends on."""
    if not isinstance(name, str) or not name or os.path.isabs(name) or ".." in Path(name).parts:
        raise ValueError(f"name must be the name of a file in the data folder, such as 'catalog.csv'; got {name!r}"[:300])
    path = os.path.join(_folder(), name)
    identity = _identity(path, name)
    stack = getattr(_frames, "stack", None)
    if stack:
        stack[-1][name] = identity
    return identity


def _unchanged(folder: str, files: tuple) -> bool:
    """True when every (name, identity) still holds: the same data folder, the same file contents."""
    return _folder() == folder and all(_identity(identity[0], name) == identity for name, identity in files)


def _identity(path: str, name: str) -> tuple[str, int, int, str]:
    looked = getattr(_frames, "looked", None)  # inside a cached computation: each file is looked at once
    if looked is not None:
        if path not in looked:
            looked[path] = _look(path, name)
        return looked[path]
    return _look(path, name)


def _look(path: str, name: str) -> tuple[str, int, int, str]:
    try:
        status = os.stat(path)
    except OSError:
        data_path(name)  # the course's own message: folder or file missing
        raise
    stat = (status.st_ino, status.st_dev, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    seen = _seen.get(path)
    if seen is None or seen.stat != stat or seen.recent:
        with open(path, "rb") as handle:
            digest = hashlib.blake2b(handle.read(), digest_size=16).hexdigest()
        recent = time.time_ns() - max(status.st_mtime_ns, status.st_ctime_ns) < RECENT_NS
        seen = _seen[path] = _Seen(stat, (path, status.st_size, status.st_mtime_ns, digest), recent)
    return seen.identity


def cached(function=None, *, maxsize: int = 256, shared: bool = False, ignore: tuple[str, ...] = ()):
    """Cache a function of data/: each value is kept with the identity of every data file read while it was made
    (through read_table, data_path or file_identity, also inside other cached functions), and is made again when
    any of them changes, or $QWEN_LESSONS_DATA points elsewhere. A value is returned as kept only when it is
    immutable (numbers, text, tuples, frozen dataclasses, read-only mappings of such); a DataFrame, dict, list or
    array is copied, so a caller's change never reaches the next call. ``shared=True`` returns the kept value
    itself, for a private function whose every caller copies what it hands on (read_table), or a value the
    package never changes (a trained TinyLM: read-only arrays). ``ignore`` names parameters that do not change
    the value (``progress``) and stay out of the key."""
    if function is not None and not callable(function):
        raise ValueError(f"function must be a function to cache; got {type(function).__name__}")
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or not 1 <= maxsize <= 1_000_000:
        raise ValueError(f"maxsize must be a whole number from 1 to 1,000,000; got {maxsize!r}"[:300])
    if not isinstance(shared, bool):
        raise ValueError(f"shared must be True or False; got {type(shared).__name__}")
    if not isinstance(ignore, tuple) or not all(isinstance(name, str) for name in ignore):
        raise ValueError(f"ignore must be a tuple of parameter names; got {type(ignore).__name__}")
    if function is None:
        return lambda inner: cached(inner, maxsize=maxsize, shared=shared, ignore=ignore)
    store: dict = {}
    _caches.append(store)
    signature = inspect.signature(function) if ignore else None

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if signature is not None:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = tuple((name, value) for name, value in bound.arguments.items() if name not in ignore)
        else:
            key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        try:
            entry = store.get(key)
        except TypeError:  # an unhashable argument: compute without the cache
            return function(*args, **kwargs)
        if entry is not None:
            folder, files, value, immutable = entry
            if _unchanged(folder, files):
                _depend(files)
                return value if immutable else _copied(value)
        folder = _folder()
        stack = _frames.__dict__.setdefault("stack", [])
        outermost = getattr(_frames, "looked", None) is None
        if outermost:  # a computation reads a file many times (nested lookups); one stat each is enough while it runs
            _frames.looked = {}
        stack.append({})
        try:
            value = function(*args, **kwargs)
        finally:
            files = stack.pop()
            if outermost:
                _frames.looked = None  # so the check below looks again: a file edited meanwhile is not kept
        files = tuple(files.items())
        _depend(files)
        if _unchanged(folder, files) and all(identity[0] == os.path.join(folder, name) for name, identity in files):
            immutable = shared or _immutable(value)  # kept only if no file changed while it was made
            if len(store) >= maxsize:
                store.pop(next(iter(store)))  # the oldest entry
            store[key] = (folder, files, value, immutable)
            return value if immutable else _copied(value)
        return value

    wrapper.cache_clear = store.clear
    return wrapper


class files_read:
    """``with data.files_read() as files:`` collects the name of every data file read inside the block (also
    through cached values), for tests that find every function reading a table."""

    def __enter__(self) -> dict:
        self.files: dict = {}
        _frames.__dict__.setdefault("stack", []).append(self.files)
        return self.files

    def __exit__(self, *_) -> None:
        _frames.stack.pop()  # blocks nest: this one is innermost


def clear_caches() -> None:
    """Forget every cached value and file identity (tests compare a warm answer with a cold one)."""
    for store in _caches:
        store.clear()
    _seen.clear()


def _depend(files) -> None:
    stack = getattr(_frames, "stack", None)
    if stack:
        stack[-1].update(files)  # (name, identity) pairs


_IMMUTABLE_LEAVES = (str, bytes, int, float, complex, bool, type(None), re.Pattern, range, frozenset, type(pd.NA),
                     type(pd.NaT))


def _immutable(value, depth: int = 0) -> bool:
    if isinstance(value, _IMMUTABLE_LEAVES) or isinstance(value, (np.generic,)):
        return True
    if depth > 6:
        return False
    if isinstance(value, tuple):
        return all(_immutable(item, depth + 1) for item in value)
    if isinstance(value, MappingProxyType):
        return all(_immutable(item, depth + 1) for item in value.values())
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen:
        return all(_immutable(getattr(value, field.name), depth + 1) for field in dataclasses.fields(value))
    return False


def _copied(value):
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy()
    if isinstance(value, MappingProxyType):
        return MappingProxyType(copy.deepcopy(dict(value)))
    return copy.deepcopy(value)


@checked
def data_path(name: str) -> Path:
    """Return the path of one file in the data folder, raising DataFileError if it does not exist. Inside a
    ``cached`` function the file becomes one the cached value depends on."""
    path = data_dir() / name
    if not path.is_file():
        raise DataFileError(f"{path}: data file is missing")
    if getattr(_frames, "stack", None):
        file_identity(name)
    return path


@checked
def schema(name: str) -> TableSchema:
    """The schema of one file in data/ (declared in qwen_lessons.schemas); ValueError naming the known files."""
    if name not in SCHEMAS:
        raise ValueError(f"no table schema for {name[:60]!r}; it must be {choices(sorted(SCHEMAS), 'tables')}")
    return SCHEMAS[name]


@checked
def read_table(name: str, check: Callable[[pd.DataFrame], list[str]] | None = None, *,
               as_text: bool = False) -> pd.DataFrame:
    """Read a CSV from data/ by its schema (qwen_lessons.schemas), refusing a malformed file with its line number.

    ``check(table)`` adds a table's own rules across rows (an empty list when valid); any violation raises
    DataFileError naming the file. ``as_text`` returns every column as text (empty cells stay missing), for
    lessons that count what a source left empty. Cached by the file's identity (``cached``): an edited file, also
    one whose mtime was restored, or another data folder set in $QWEN_LESSONS_DATA, is read afresh."""
    typed, text = _parsed(schema(name).file, check)
    return (text if as_text else typed).copy()


@checked
def row_as_dict(row: pd.Series) -> dict:
    """A table row as plain Python values (int, float, bool, str), with None for an empty cell."""
    return {column: (None if pd.isna(value) else value.item() if hasattr(value, "item") else value)
            for column, value in row.items()}


@cached(maxsize=64, shared=True)  # read_table copies the table it returns
def _parsed(name: str, check: Callable[[pd.DataFrame], list[str]] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The typed table and the same cells as written (text, missing when empty)."""
    path, table_schema = data_path(name), schema(name)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataFileError(f"{name}: is {size:,} bytes; a table may hold at most {MAX_FILE_BYTES:,} (a runaway export?)")
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")  # a byte-order mark (Excel's UTF-8) is tolerated
    except UnicodeDecodeError as error:
        raise DataFileError(f"{name}: not UTF-8 text ({error})") from None
    lines, records = _records(name, text)  # CRLF line ends are tolerated too
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
        values = {}
        for column, cell in cells.items():
            values[column] = _cell(name, line, column, cell, table_schema)
            columns[column].append(values[column])
            texts[column].append(cell if cell.strip() else None)
        for rule in table_schema.rules:
            filled = [values[column] for column in rule.columns]
            if all(value is not None for value in filled) and not rule.check(*filled):
                shown = ", ".join(f"{column}={cells[column]}" for column in rule.columns)
                raise DataFileError(f"{name}: line {line}: {shown} breaks the rule {rule.text} (two columns swapped?)")
        for column in table_schema.key:
            if cells[column] != cells[column].strip():
                raise DataFileError(f"{name}: line {line}, column {column!r}: the key {cells[column]!r} has spaces "
                                    "around it")
        # case does not make another key: 'A100-80GB' and 'a100-80gb' would be two rows a lookup cannot tell apart
        key = tuple(cells[column].casefold() for column in table_schema.key)
        if key in seen:
            raise DataFileError(f"{name}: line {line} repeats the key "
                                f"{dict(zip(table_schema.key, (cells[c] for c in table_schema.key), strict=True))} "
                                f"of line {seen[key]} (case and spaces aside)")
        seen[key] = line
    _check_manifest(name, len(rows), _checksum(records))
    table = pd.DataFrame({column: pd.array(columns[column], dtype=table_schema.dtypes[column]) for column in expected})
    problems = check(table) if check is not None else []
    if problems:
        raise DataFileError(f"{name}: {len(problems)} problem(s): " + "; ".join(problems))
    return table, pd.DataFrame({column: pd.array(texts[column], dtype="string") for column in expected})


def _records(name: str, text: str) -> tuple[list[int], list[list[str]]]:
    """Every CSV record, and the 1-based line on which each starts (a quoted cell may span lines), in one pass;
    a cell over MAX_CELL_CHARS or a malformed quote is refused with its line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, records, previous = [], [], 0
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(MAX_CELL_CHARS + 1)  # the csv module's own cap (131,072) would raise without a line
        for record in reader:
            starts.append(previous + 1)
            records.append(record)
            previous = reader.line_num
    except csv.Error as error:
        reason = f"a cell is over {MAX_CELL_CHARS:,} characters" if "field larger" in str(error) else str(error)
        raise DataFileError(f"{name}: line {previous + 1}: {reason}") from None
    finally:
        csv.field_size_limit(limit)
    return starts, records


def _checksum(records: list[list[str]]) -> str:
    """SHA-256 of the cells (header included), not the bytes: a byte-order mark or CRLF line ends leave it."""
    digest = hashlib.sha256()
    for record in records:
        if record:
            digest.update("\x1f".join(record).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def _manifest_rows(folder: Path) -> list[tuple[str, int, str]]:
    """(file, rows, sha256) of every table in a data folder, for MANIFEST.csv (scripts/write_manifest.py)."""
    out = []
    for name in sorted(SCHEMAS):
        if (folder / name).is_file():
            records = _records(name, (folder / name).read_bytes().decode("utf-8-sig"))[1]
            out.append((name, sum(1 for record in records[1:] if record), _checksum(records)))
    return out


def _manifest_text(folder: Path) -> str:
    """MANIFEST.csv for a data folder, as scripts/write_manifest.py writes it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "rows", "sha256"])
    writer.writerows(_manifest_rows(folder))
    return out.getvalue()


@cached(maxsize=4)
def _manifest() -> MappingProxyType:
    path = data_path(MANIFEST_FILE) if os.path.isfile(os.path.join(_folder(), MANIFEST_FILE)) else None
    if path is None:
        raise DataFileError(f"{MANIFEST_FILE}: missing in {_folder()}; it records every table's rows and checksum "
                            f"(run `{MANIFEST_COMMAND}`)")
    records = _records(MANIFEST_FILE, path.read_text(encoding="utf-8-sig"))[1]
    if not records or records[0] != ["file", "rows", "sha256"]:
        raise DataFileError(f"{MANIFEST_FILE}: line 1: the header must be file,rows,sha256 (run `{MANIFEST_COMMAND}`)")
    entries = {}
    for line, record in enumerate(records[1:], start=2):
        if not record:
            continue
        if len(record) != 3 or not re.fullmatch(r"[1-9][0-9]{0,8}", record[1]) or not re.fullmatch(r"[0-9a-f]{64}", record[2]):
            raise DataFileError(f"{MANIFEST_FILE}: line {line}: expected file,rows,sha256 (run `{MANIFEST_COMMAND}`)")
        entries[record[0]] = (int(record[1]), record[2])
    return MappingProxyType(entries)


def _check_manifest(name: str, rows: int, checksum: str) -> None:
    # checked when the table is parsed, not kept as one of its dependencies: a warm lookup then stats one file, not
    # two (a manifest edited alone is checked again with the table's next change)
    with files_read():
        entry = _manifest().get(name)
    fix = f"if the change is meant, run `{MANIFEST_COMMAND}` to record it"
    if entry is None:
        raise DataFileError(f"{name}: not listed in {MANIFEST_FILE}; {fix}")
    if entry[0] != rows:
        raise DataFileError(f"{name}: has {rows:,} rows where {MANIFEST_FILE} records {entry[0]:,} (a cut-off or "
                            f"edited file?); {fix}")
    if entry[1] != checksum:
        raise DataFileError(f"{name}: its cells differ from the checksum in {MANIFEST_FILE} (an edited file?); {fix}")


def _cell(name: str, line: int, column: str, cell: str, table_schema: TableSchema):
    """One CSV cell as its column's type, None when empty; DataFileError naming file, line and column otherwise."""
    where = f"{name}: line {line}, column {column!r}"
    if cell.strip() == "":
        if column in table_schema.filled:
            raise DataFileError(f"{where}: is empty, but every row must fill it"
                                + (" (say where the row's facts come from)" if column == "source" else ""))
        return None
    kind = table_schema.dtypes[column]
    unsafe = _UNSAFE.search(cell)
    if unsafe:
        raise DataFileError(f"{where}: holds the control character {unsafe.group()!r}")
    if kind == TEXT:
        if cell.lstrip()[0] in "=+-@" and not _PLAIN_NUMBER.fullmatch(cell):
            raise DataFileError(f"{where}: {cell[:40]!r} starts like a spreadsheet formula ({cell[0]!r})")
        return cell
    if kind == BOOL:
        if cell.strip().lower() not in ("true", "false"):
            raise DataFileError(f"{where}: {cell!r} is not true or false")
        return cell.strip().lower() == "true"
    if not (_WHOLE if kind == INT else _PLAIN_NUMBER).fullmatch(cell):
        raise DataFileError(f"{where}: {cell[:40]!r} is not {'a whole number' if kind == INT else 'a number'} "
                            "(ASCII digits only, no spaces, _ or leading zeros)")
    value = int(cell) if kind == INT else float(cell)
    low, high = table_schema.range_of(column)
    if not math.isfinite(value) or not low <= value <= high:
        raise DataFileError(f"{where}: {cell!r} is outside {low:g} to {high:g}")
    return value


def built_from(*names: str):
    """A derived index or resolved view (catalog_view, score_index, ...) built from the tables ``names``: the one
    cache, ``cached`` (maxsize 1), which records every file the builder reads itself, so ``names`` only documents
    them. The value is shared: its builders return frozen objects the package never changes."""
    for name in names:
        if not isinstance(name, str) or not name.endswith((".csv", ".txt")):
            raise ValueError(f"names must be data file names such as 'catalog.csv'; got {name!r}"[:300])
    return cached(maxsize=1, shared=True)


# A number as a table writes it: ASCII digits, an optional sign and decimals, no leading zeros, at most 15 digits
# before the point (int() would also read "1_024", " 7", "０７" and a 10**30 that no int64 column holds).
_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]{0,14})")
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
# C0/C1 control characters (a line break inside a quoted note is allowed) and the bidirectional overrides
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
