"""One cache of data-derived values (issue 29, item 3): every loader and every derived lookup sees an edited table,
also one whose mtime was restored (`cp -p`, `rsync -t`) and another data folder set in $QWEN_LESSONS_DATA; a value
a caller changes never reaches the next call.

The generic test finds, with data.files_read(), every public function that reads each data file (the valid
arguments of tests/hostile_calls.py), edits the file in place keeping its size and mtime, and asserts each
function's warm answer equals its answer with every cache cleared, and that the edit changed some answer."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qwen_lessons import data, finetune, local_runtime
from qwen_lessons.schemas import NUMERIC, SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_calls  # noqa: E402  (the public API and valid arguments, discovered once)

READER_CPU_S = 2.0  # slower functions (training the tiny model) are left to their own tests
SKIP_MODULES = ("qwen_lessons.widgets.", "qwen_lessons.checks.")  # widgets and answer hints: no comparable value


@contextlib.contextmanager
def data_copy(parent: Path):
    """A copy of data/ under parent, set in $QWEN_LESSONS_DATA, with every cache cold before and after."""
    shutil.copytree(ROOT / "data", parent / "data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(data.DATA_ENV_VAR, str(parent / "data"))
        data.clear_caches()
        yield parent / "data"
    data.clear_caches()


@pytest.fixture
def folder(tmp_path):
    with data_copy(tmp_path) as copy:
        yield copy


def edit_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """Replace the first `old` with `new` (same length), then restore the mtime as `cp -p` and `rsync -t` do."""
    assert len(old) == len(new)
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    write_keeping_size_and_mtime(path, text.replace(old, new, 1))


def write_keeping_size_and_mtime(path: Path, text: str) -> None:
    """Write text (as long as the file's), restore the mtime, and record the change in the folder's manifest the
    same way (its checksums keep their length)."""
    for target, new in ((path, text), (path.parent / data.MANIFEST_FILE, None)):
        status = target.stat()
        target.write_text(new if new is not None else data._manifest_text(path.parent), encoding="utf-8")
        os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))
        assert target.stat().st_size == status.st_size and target.stat().st_mtime_ns == status.st_mtime_ns


TEXT_ONLY = ("source", "notes", "note", "description", "describe", "published_source", "checkpoint_params_source")


def _written(record: list[str]) -> str:
    """One row as the csv module writes it (quotes only where a cell needs them), without the line end."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(record)
    return out.getvalue()[:-1]


def same_size_edit(path: Path) -> str:
    """The file with one same-length change per data row: the last digit 1-8 in the row's first numeric cell outside the
    key (else its first other cell with one; sources and notes left alone) becomes the next digit. A table of text
    only gets the last lowercase letter of each row's first text cell outside the key (else the key) moved on by
    one (a -> b). A text file gets its
    first ' the ' changed to ' thy '."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".csv":
        return text.replace(" the ", " thy ", 1)
    table_schema = SCHEMAS[path.name]
    starts, records = data._records(path.name, text)
    lines = text.split("\n")
    header = records[0]
    order = ([c for c in header if table_schema.dtypes[c] in NUMERIC and c not in table_schema.key]
             + [c for c in header if table_schema.dtypes[c] not in NUMERIC and c not in table_schema.key
                and c not in TEXT_ONLY])
    bounds = list(zip(starts[1:], [*starts[2:], len(lines) + 1], records[1:], strict=True))

    def edit_rows(columns, pattern, change) -> int:
        edited = 0
        for first, after, record in bounds:
            segment = "\n".join(lines[first - 1:after - 1])
            as_csv_writes = _written(record) == segment  # then quoted cells before the one edited are no obstacle
            for column in columns:
                index = header.index(column)
                cell = record[index] if index < len(record) else ""
                prefix = ",".join(record[:index]) + ("," if index else "")
                match = re.search(pattern, cell)
                if not match or not (as_csv_writes or segment.startswith(prefix + cell)):
                    continue
                new = cell[:match.start()] + change(match.group()) + cell[match.end():]  # the same length
                if as_csv_writes:
                    written = _written([*record[:index], new, *record[index + 1:]])
                else:  # the cells before it are written unquoted
                    written = prefix + new + segment[len(prefix + cell):]
                lines[first - 1:after - 1] = written.split("\n")
                edited += 1
                break
        return edited

    if not edit_rows(order, r"[1-8](?=[^1-8]*$)", lambda digit: str(int(digit) + 1)):
        first_text = order[:1] or [c for c in header if c not in TEXT_ONLY][:1]  # outside the key when it can be
        edit_rows(first_text, r"[a-y](?=[^a-z]*$)", lambda letter: chr(ord(letter) + 1))
    return "\n".join(lines)


def fingerprint(value, depth: int = 0):
    """A comparable form of a result; raises TypeError for objects with no value to compare (widgets, figures)."""
    if depth > 6:
        return "..."
    if isinstance(value, str | bytes | bool | int | type(None)):
        return value
    if isinstance(value, float | np.floating | np.integer):
        return repr(float(value))
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.to_csv()
    if isinstance(value, np.ndarray):
        return (value.shape, value.tobytes())
    if isinstance(value, dict) or hasattr(value, "keys") and hasattr(value, "__getitem__") and not dataclasses.is_dataclass(value):
        return tuple((repr(key), fingerprint(value[key], depth + 1)) for key in value.keys())
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(fingerprint(item, depth + 1) for item in (sorted(value, key=repr) if isinstance(value, set | frozenset) else value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple(fingerprint(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)))
    if value is pd.NA:
        return "<NA>"
    raise TypeError(type(value).__name__)


def answer(function, arguments):
    try:
        return fingerprint(function(**arguments))
    except (ValueError, KeyError, RuntimeError) as error:
        return ("raised", type(error).__name__, str(error))


@pytest.fixture(scope="module")
def readers():
    """data file -> [(qualified name, function, arguments)] of every quick public function that reads it."""
    examples = hostile_calls._examples()
    hostile_calls.CALL_CPU_SECONDS = READER_CPU_S
    previous = signal.signal(signal.SIGPROF, hostile_calls._over_budget)
    found: dict[str, list] = {}
    for qualified, function, owner in hostile_calls.public_functions():
        if owner is not None or qualified.startswith(SKIP_MODULES):
            continue
        arguments, _ = hostile_calls.baseline(qualified, function, owner, examples)
        if arguments is None:
            continue
        with data.files_read() as files:
            try:
                first = fingerprint(hostile_calls.call(function, arguments))  # Slow after READER_CPU_S of CPU time
            except (ValueError, KeyError, RuntimeError) as error:
                first = ("raised", type(error).__name__, str(error))
            except Exception:  # noqa: BLE001 - too slow, or no comparable value: not a reader here
                continue
        data.clear_caches()
        if answer(function, arguments) != first:  # a measurement (seconds, tokens per second): no fixed answer
            continue
        for name in files:
            found.setdefault(name, []).append((qualified, function, arguments))
    signal.signal(signal.SIGPROF, previous)
    for name in SCHEMAS:  # the loader itself (hostile_calls leaves it out: its arguments come from the package)
        found.setdefault(name, []).append(("qwen_lessons.data.read_table", data.read_table, {"name": name}))
    for name, qualified, function, arguments in EXTRA_READERS:
        found.setdefault(name, []).append((qualified, function, arguments))
    return found


# Readers whose example arguments elsewhere (tests/hostile_calls.py) miss every row a same-size edit changes
EXTRA_READERS = [("local_downloads.csv", "qwen_lessons.local_runtime.download", local_runtime.download,
                  {"model_id": "Qwen/Qwen3-1.7B", "quantization": "q8_0"}),
                 ("lora_default_targets.csv", "qwen_lessons.finetune.default_targets", finetune.default_targets,
                  {"model_id": "Qwen/Qwen2.5-7B-Instruct"})]



FILES = sorted(path.name for path in (ROOT / "data").iterdir()
               if path.suffix in (".csv", ".txt") and path.name != data.MANIFEST_FILE)


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory):
    """One copy of data/ in $QWEN_LESSONS_DATA for every table's edit, each test putting its table back (an edit the
    caches must see as well), so the answers before the next edit come mostly from warm caches."""
    with data_copy(tmp_path_factory.mktemp("shared")) as copy:
        yield copy


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_every_reader_sees_an_edit_that_keeps_size_and_mtime(shared_folder, readers, name):
    calls = readers.get(name, [])
    if not calls:
        pytest.skip(f"{name}: no quick public function reads it (the reference tables are read by the tests)")
    folder, original = shared_folder, (shared_folder / name).read_text(encoding="utf-8")
    edited = same_size_edit(folder / name)
    assert edited != original, f"{name}: the same-size edit changed nothing"
    before = {qualified: answer(function, arguments) for qualified, function, arguments in calls}
    write_keeping_size_and_mtime(folder / name, edited)
    warm = {qualified: answer(function, arguments) for qualified, function, arguments in calls}
    data.clear_caches()
    cold = {qualified: answer(function, arguments) for qualified, function, arguments in calls}
    write_keeping_size_and_mtime(folder / name, original)  # the next table's edit starts from the course's data
    stale = [qualified for qualified in cold if warm[qualified] != cold[qualified]]
    assert not stale, f"{name}: stale answers after an edit that kept size and mtime: {stale}"
    changed = [qualified for qualified in cold if before[qualified] != cold[qualified]]
    print(f"{name}: {len(calls)} readers, {len(changed)} answers changed: {sorted(changed)[:4]}")
    assert changed, f"{name}: the edit changed no reader's answer; choose an edit that matters"


@pytest.mark.slow
def test_a_returned_value_changed_by_the_caller_does_not_reach_the_next_call(readers):
    checked = 0
    for qualified, function, arguments in {q: (q, f, a) for calls in readers.values() for q, f, a in calls}.values():
        try:
            first = function(**arguments)
        except ValueError:
            continue  # this example is refused: nothing returned to change
        if isinstance(first, dict):
            first["changed by the caller"] = 1
        elif isinstance(first, list):
            first.append("changed by the caller")
        elif isinstance(first, pd.DataFrame):
            first["changed by the caller"] = 1
        else:
            continue
        checked += 1
        again = function(**arguments)
        assert "changed by the caller" not in (again if not isinstance(again, pd.DataFrame) else again.columns), qualified
    assert checked > 20


# ---------------------------------------------------------------- the reproducers of issue 29


def test_memory_gib_sees_an_edit_of_hardware_csv(folder):
    from qwen_lessons import hardware

    before = hardware.memory_gib("a100-80gb")
    text = (folder / "hardware.csv").read_text(encoding="utf-8")
    (folder / "hardware.csv").write_text(text.replace("datacenter,80,HBM2e", "datacenter,40,HBM2e"), encoding="utf-8")
    (folder / data.MANIFEST_FILE).write_text(data._manifest_text(folder), encoding="utf-8")
    assert hardware.memory_gib("a100-80gb") == pytest.approx(before / 2)
    assert hardware.load_hardware().set_index("gpu_id").at["a100-80gb", "memory_gb"] == 40


def test_read_table_sees_a_cp_p_edit(folder):
    before = data.read_table("hardware.csv").set_index("gpu_id").at["a100-80gb", "memory_gb"]
    edit_keeping_size_and_mtime(folder / "hardware.csv", "datacenter,80,HBM2e", "datacenter,81,HBM2e")
    assert before == 80
    assert data.read_table("hardware.csv").set_index("gpu_id").at["a100-80gb", "memory_gb"] == 81


def test_a_cp_p_copy_over_the_file_is_seen(folder, tmp_path):
    from qwen_lessons import vision

    assert vision.budget_row("transformers-class")["max_pixels"] == 1003520
    edited = tmp_path / "edited.csv"
    shutil.copy2(folder / "vision_pixel_budgets.csv", edited)
    edited.write_text(edited.read_text(encoding="utf-8").replace(",3136,1003520,", ",3136,1003521,"), encoding="utf-8")
    shutil.copy2(edited, folder / "vision_pixel_budgets.csv")  # cp -p: the contents, then the same old mtime
    (folder / data.MANIFEST_FILE).write_text(data._manifest_text(folder), encoding="utf-8")
    assert vision.budget_row("transformers-class")["max_pixels"] == 1003521


def test_another_data_folder_is_seen(folder, tmp_path, monkeypatch):
    from qwen_lessons import hardware

    other = tmp_path / "other"
    shutil.copytree(folder, other)
    edit_keeping_size_and_mtime(other / "hardware.csv", "datacenter,80,HBM2e", "datacenter,40,HBM2e")
    before = hardware.memory_gib("a100-80gb")
    monkeypatch.setenv(data.DATA_ENV_VAR, str(other))
    assert hardware.memory_gib("a100-80gb") == pytest.approx(before / 2)
    monkeypatch.setenv(data.DATA_ENV_VAR, str(folder))
    assert hardware.memory_gib("a100-80gb") == before


def test_budget_row_returns_its_own_copy():
    from qwen_lessons import vision

    row = vision.budget_row("qwen-vl-utils")
    row["max_tokens"] = -1
    assert vision.budget_row("qwen-vl-utils")["max_tokens"] == 16384


def test_vocabulary_audio_local_formats_and_the_corpus_see_edits(folder):
    from qwen_lessons import audio, local_formats, tinylm, vocabulary

    regular = vocabulary.regular_tokens("qwen2")
    edit_keeping_size_and_mtime(folder / "vocabularies.csv", f",{regular},", f",{regular - 1},")
    assert vocabulary.regular_tokens("qwen2") == regular - 1

    assert audio.generation_info("qwen2-audio").sampling_rate == 16000
    edit_keeping_size_and_mtime(folder / "audio_generations.csv", "qwen2-audio,Qwen2-Audio,16000,",
                                "qwen2-audio,Qwen2-Audio,15999,")
    assert audio.generation_info("qwen2-audio").sampling_rate == 15999

    assert local_formats.local_format("q4_k_m")["bits"] == 4
    text = (folder / "local_formats.csv").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("q4_k_m,"))
    edit_keeping_size_and_mtime(folder / "local_formats.csv", row, row.replace(",4,", ",5,", 1))
    assert local_formats.local_format("q4_k_m")["bits"] == 5

    corpus = tinylm.corpus_text()
    edit_keeping_size_and_mtime(folder / "tiny_corpus.txt", " the ", " thy ")
    assert tinylm.corpus_text() != corpus and " thy " in tinylm.corpus_text()


def test_no_other_cache_of_data_in_the_package():
    """functools caches are left only on functions of their arguments alone (each says so); data goes through
    data.cached. A module-level dict used as a cache is refused too."""
    pure = {"_installed_tables", "_installed_folder", "_layer_matrices", "_mlx_bytes", "_breakdown", "_groups",
            "_openblas_thread_functions", "cjk_font", "_normalized",  # cjk_font: the installed fonts, not data
            "_category",  # a GGUF tensor name against a fixed list
            "_spelled_vocabulary"}  # a row of vocabularies.csv (its arguments) and the installed ranks file
    found = []
    for path in sorted((ROOT / "qwen_lessons").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^@(?:functools\.)?(?:lru_cache|cache)\b.*\n(?:@.*\n)*def (\w+)", text, re.MULTILINE):
            if match.group(1) not in pure:
                found.append(f"{path.name}: {match.group(1)}")
        found += [f"{path.name}: {name}" for name in re.findall(r"^(_[A-Z_]+): dict = \{\}", text, re.MULTILINE)
                  if name not in ("_ENCODED",)]  # _ENCODED: encodings by vocabulary object, a pure function
    assert not found, f"caches outside data.cached: {found}"


def test_a_computation_looks_at_each_file_once_while_it_runs(folder, monkeypatch):
    """A cached computation that makes many nested cached lookups (a GGUF file's thousands of tensors) stats each
    data file a few times, not once per lookup: the cold laptop wizard answer took 2.0 s, 1.4 s of it in os.stat."""
    @data.cached
    def inner(index: int) -> int:
        return int(data.read_table("hardware.csv")["memory_gb"].iloc[0]) + index

    @data.cached
    def outer() -> int:
        return sum(inner(index) for index in range(200))

    looks = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *args, **kwargs: (
        looks.append(str(path)) if str(path).endswith("hardware.csv") else None) or real_stat(path, *args, **kwargs))
    first_gpu_gb = int(data.read_table("hardware.csv")["memory_gb"].iloc[0])
    data.clear_caches()
    looks.clear()
    assert outer() == 200 * first_gpu_gb + sum(range(200))
    assert len(looks) <= 5, f"hardware.csv looked at {len(looks)} times in one computation"
    edit_keeping_size_and_mtime(folder / "hardware.csv", "consumer,8,", "consumer,9,")  # still seen afterwards
    assert outer() == 200 * 9 + sum(range(200))
