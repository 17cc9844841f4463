"""Session-wide hooks: the `slow` marker for what executes notebooks or starts servers (the fast loop,
`python -m pytest -m "not slow" -n 2`, leaves it out); one wheel of the package per run, built under a lock; the
browser tests' timings and skip reasons at the end of the run; and, after any run that made pictures, the layout of
screenshots/gallery.html.

The summaries are built from test reports, because with -n the tests run in worker processes and only their
reports reach this process (which, unlike the workers, never loads tests/browser/conftest.py)."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A label drawn in a font without its glyphs (Chinese in DejaVu Sans shows as boxes) is an error in every kernel the
# suite starts, so a Chinese notebook whose figure would show boxes fails its cell (issue 26; the kernels inherit this).
os.environ.setdefault("PYTHONWARNINGS", "error:Glyph:UserWarning")

# Every test with one of these markers is slow by its kind: a notebook cell (nbval), Chromium, a JupyterHub room.
# Other slow tests say so themselves with @pytest.mark.slow (or `pytestmark = pytest.mark.slow` for a whole file).
SLOW_BY_KIND = ("browser", "room")


def is_slow_by_kind(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb" or any(item.get_closest_marker(name) for name in SLOW_BY_KIND)


def start_order(items: list[pytest.Item]) -> dict[Path, int]:
    """When each test file starts with -n 2: the longest kinds first (a hub room, then the browser files, then the
    other slow files), so the many short files fill the gaps at the end instead of one long file running alone on
    one core while the other waits. (pytest-xdist's default order, files with the most tests first, started the
    hub room last.)"""
    order: dict[Path, int] = {}
    for item in items:
        kind = (0 if item.get_closest_marker("room") else 1 if item.get_closest_marker("browser")
                else 2 if item.get_closest_marker("slow") else 3)
        order[item.path] = min(order.get(item.path, kind), kind)
    return order


@pytest.hookimpl(tryfirst=True)  # before -m selects: `-m "not slow"` must see these marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_slow_by_kind(item):
            item.add_marker(pytest.mark.slow)
    order = start_order(items)
    items.sort(key=lambda item: order[item.path])  # stable: a file's tests keep their order (--no-loadscope-reorder)


@pytest.fixture(scope="session")
def course_wheel(tmp_path_factory) -> Path:
    """The package as a normal wheel, built once per run: `pip wheel` builds in the source tree (build/, *.egg-info),
    so two xdist workers building at once would trip over each other; the lock and the folder are shared by every
    worker of the run (the parent of each worker's temporary folder)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # .../pytest-N/ holds popen-gw0, gw1...
    out = shared / "course-wheel"
    with open(shared / "course-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wheels = sorted(out.glob("qwen_lessons-*.whl"))
        if not wheels:
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                           check=True, capture_output=True, text=True, timeout=600)
            wheels = sorted(out.glob("qwen_lessons-*.whl"))
    (wheel,) = wheels
    return wheel


_BROWSER_TIMINGS: dict[str, float] = {}
_BROWSER_SECONDS: list[float] = []
_BROWSER_SKIPS: list[str] = []
_KNOWN_FINDINGS: list[str] = []


def pytest_runtest_logreport(report):
    if "browser" not in report.keywords:
        return
    _BROWSER_SECONDS.append(report.duration)  # setup, call and teardown: servers and browser included
    for key, value in report.user_properties:
        if key == "browser timing":  # attached by tests/browser/conftest.py
            _BROWSER_TIMINGS[value[0]] = value[1]
        elif key == "accessibility finding known upstream" and value not in _KNOWN_FINDINGS:
            _KNOWN_FINDINGS.append(value)
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix("Skipped: ")
        if reason not in _BROWSER_SKIPS:
            _BROWSER_SKIPS.append(reason)


def pytest_terminal_summary(terminalreporter):
    for reason in _BROWSER_SKIPS:
        terminalreporter.write_line(reason, yellow=True, bold=True)
    if _KNOWN_FINDINGS:
        terminalreporter.section("accessibility findings known upstream (browser_harness: UNNAMED_SLIDER_HANDLE, "
                                 "LAB_FIGURE_WITHOUT_ALT)")
        for finding in _KNOWN_FINDINGS:
            terminalreporter.write_line(finding, yellow=True)
    if _BROWSER_TIMINGS:
        terminalreporter.section("browser test timings")
        for name, seconds in _BROWSER_TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
        terminalreporter.write_line(f"all browser tests: {sum(_BROWSER_SECONDS):.1f} s")


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller lays the gallery out once, after every worker has finished
    spec = importlib.util.spec_from_file_location("write_gallery", ROOT / "scripts" / "write_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_gallery(ROOT / "screenshots")
