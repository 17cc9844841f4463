"""Measure the course's speed and memory targets and print a Markdown table (median of several runs).

Usage: python benchmarks/run.py [--repeats N] [--only SUBSTRING] [--skip-notebooks] [--write docs/performance.md]

--skip-notebooks leaves out the notebook rows, the site build row (bench_site.py) and the hub room rows
(bench_room.py), which execute notebooks. The hub room rows (minutes each; docs/full_room.md has their table, written
by scripts/write_sizing.py) run only when --only selects them: --only "hub room".

Cases come from every benchmarks/bench_*.py module: each defines ``cases()`` returning a list of
``Case``. Notebook execution time and kernel peak memory come from bench_notebooks.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from collections.abc import Callable

BENCH_DIR = Path(__file__).resolve().parent
# Modules that execute whole notebooks (minutes): left out by --skip-notebooks, as CI does.
NOTEBOOK_MODULES = ("bench_notebooks", "bench_site", "bench_room")
# Modules whose rows feed a table of their own (scripts/write_sizing.py): measured only when --only selects them.
OWN_TABLE_MODULES = ("bench_room",)


@dataclass
class Case:
    """One measured thing: fn() is timed `repeats` times; the median is compared with target_s.

    fn may return a dict of extra figures (name -> text) shown in the table's notes column,
    e.g. {"tokens/s": "2.1M"}; the figures of the median run are shown. A "_seconds" entry
    replaces the measured wall time (for cases that time a subprocess themselves).
    """

    name: str
    target_s: float | None
    fn: Callable[[], dict | None]
    repeats: int | None = None
    setup: Callable[[], None] | None = None
    notes: dict = field(default_factory=dict)


def load_cases(only: str | None, skip_notebooks: bool) -> list[Case]:
    """Import every bench_*.py beside this file and collect its cases."""
    cases: list[Case] = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        if skip_notebooks and path.stem in NOTEBOOK_MODULES:
            continue
        if path.stem in OWN_TABLE_MODULES and only is None:
            continue  # minutes per row, and docs/full_room.md has their table: run them with --only "hub room"
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        cases.extend(module.cases())
    return [case for case in cases if only is None or only in case.name]


def measure(case: Case, repeats: int) -> tuple[float, dict]:
    """Run one case `repeats` times; return the median seconds and the extras of the median run."""
    if case.setup is not None:
        case.setup()
    runs = []
    for _ in range(case.repeats or repeats):
        start = time.perf_counter()
        extras = dict(case.fn() or {})
        elapsed = time.perf_counter() - start
        # a case that times something itself (in a subprocess, say) reports it as "_seconds"
        runs.append((extras.pop("_seconds", elapsed), extras))
    runs.sort(key=lambda run: run[0])
    median_seconds = statistics.median(seconds for seconds, _ in runs)
    return median_seconds, runs[len(runs) // 2][1]


def format_seconds(seconds: float) -> str:
    """Show a duration in ms below one second, in s above."""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", default=None)
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--write", metavar="PATH", help="also write the table, with date and machine, to this Markdown file")
    args = parser.parse_args(argv)
    cases = load_cases(args.only, args.skip_notebooks)
    lines: list[str] = []

    def emit(line: str = "") -> None:
        lines.append(line)
        print(line, flush=True)

    emit(f"Measured {date.today()} on {machine_description()}.")
    emit()
    emit("| case | median | target | meets target | notes |")
    emit("| --- | --- | --- | --- | --- |")
    misses = 0
    for case in cases:
        seconds, extras = measure(case, args.repeats)
        extras = {**case.notes, **extras}
        target = "-" if case.target_s is None else "< " + format_seconds(case.target_s)
        verdict = "-" if case.target_s is None else ("yes" if seconds < case.target_s else "NO")
        misses += verdict == "NO"
        notes = "; ".join(f"{key}: {value}" for key, value in extras.items())
        emit(f"| {case.name} | {format_seconds(seconds)} | {target} | {verdict} | {notes} |")
    emit()
    emit(f"{len(cases)} cases, {misses} above target (median of {args.repeats} runs unless a case says otherwise).")
    if args.write:
        Path(args.write).write_text(PERFORMANCE_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return 0


PERFORMANCE_HEADER = """# Performance

Written by `python benchmarks/run.py --write docs/performance.md`; do not edit by hand. Each row is the
median of several runs. Notebook rows execute the notebook in a fresh kernel (start-up included) and report
the kernel's own peak resident memory and CPU time. Targets: each notebook < 20 s, all lessons < 90 s,
`import qwen_lessons` < 0.5 s, kernel peak memory < 500 MB (Binder's hard limit is 2 GB), widget updates
< 100 ms, the website build (`scripts/build_site.py`, every notebook executed) < 3 minutes.

"""


def machine_description() -> str:
    """CPU model, core count, memory and Python version, for the table's header line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        pass
    return f"{cpu}, {_cpu_count()} cores{memory}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
