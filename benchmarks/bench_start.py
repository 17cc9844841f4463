"""Benchmarks for the foundation: import time of the package, the start-here widget update."""

from __future__ import annotations

import subprocess
import sys

from run import Case
from qwen_lessons.widgets import start_here as widget


def import_time() -> dict:
    """Time `import qwen_lessons` in a fresh interpreter (so nothing is cached)."""
    code = "import time; t=time.perf_counter(); import qwen_lessons; print(time.perf_counter()-t)"
    seconds = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    return {"_seconds": seconds}


def import_all_modules_time() -> dict:
    """Time importing every qwen_lessons module (what a lesson's first cells pull in: pandas, numpy, ...)."""
    code = (
        "import time, pkgutil, importlib; t=time.perf_counter(); import qwen_lessons;"
        "[importlib.import_module('qwen_lessons.' + m.name) for m in pkgutil.walk_packages(qwen_lessons.__path__)];"
        "print(time.perf_counter()-t)"
    )
    seconds = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    return {"_seconds": seconds}


def cases() -> list[Case]:

    demo = widget.weights_widget()
    values = [params for _label, params in demo.size.options]
    steps = iter(range(10**9))

    def move_slider():
        demo.size.value = values[next(steps) % len(values)]

    return [
        Case("import qwen_lessons (fresh interpreter)", 0.5, import_time, repeats=5),
        Case("import every qwen_lessons module (fresh interpreter)", 0.5, import_all_modules_time, repeats=5,
             notes={"includes": "pandas, numpy, ipywidgets imported by the modules"}),
        Case("00 start-here widget update", 0.1, move_slider, repeats=50),
    ]
