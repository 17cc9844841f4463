"""Benchmarks for whole notebooks: execution time in a fresh kernel, the kernel's peak memory and CPU time."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from run import Case

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
PEAK_TARGET_MB = 500  # MiB
# Appended to each notebook: the kernel reports its own peak resident memory and CPU seconds. The peak is
# VmHWM from /proc: ru_maxrss would carry over the launching process's peak across fork and exec on Linux.
PROBE = """import json as _json, resource as _resource
_usage = _resource.getrusage(_resource.RUSAGE_SELF)
_peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(_json.dumps({"peak_mb": _peak_kb / 1024, "cpu_s": _usage.ru_utime + _usage.ru_stime}))"""


def lesson_notebooks() -> list[Path]:
    """The numbered lesson notebooks and their solutions, in course order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")) + sorted((NOTEBOOK_DIR / "solutions").glob("*.ipynb"))


def run_notebook(path: Path) -> dict:
    """Execute a notebook in a fresh kernel; return the kernel's peak memory (MB) and CPU time (s)."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return json.loads(notebook.cells[-1].outputs[-1]["text"])


def cases() -> list[Case]:
    medians: dict[str, float] = {}
    built = []
    for path in lesson_notebooks():
        name = str(path.relative_to(NOTEBOOK_DIR))

        def measure(path=path, name=name):
            import time

            start = time.perf_counter()
            usage = run_notebook(path)
            seconds = time.perf_counter() - start
            medians.setdefault(name, []).append(seconds)
            verdict = "yes" if usage["peak_mb"] < PEAK_TARGET_MB else "NO"
            return {"_seconds": seconds, "kernel peak memory": f"{usage['peak_mb']:.0f} MiB (< {PEAK_TARGET_MB} MiB: {verdict})",
                    "kernel CPU": f"{usage['cpu_s']:.1f} s"}

        built.append(Case(f"notebook {name} (fresh kernel)", 20.0, measure, repeats=3))

    def total():
        import statistics

        lessons = [statistics.median(runs) for name, runs in medians.items() if not name.startswith("solutions/")]
        return {"_seconds": sum(lessons), "notebooks": str(len(lessons))}

    built.append(Case("all lesson notebooks together (sum of medians)", 90.0, total, repeats=1))
    return built
