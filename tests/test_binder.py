"""Binder configuration, checked offline: repo2docker --no-build needs no Docker daemon."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def repo2docker_executable() -> str:
    found = shutil.which("repo2docker") or str(Path(sys.executable).with_name("repo2docker"))
    if not Path(found).exists():
        pytest.fail("repo2docker is not installed; it is a test dependency (pip install -r requirements-dev.txt)")
    return found


def test_repo2docker_dry_run_selects_python_312_and_our_files():
    result = subprocess.run([repo2docker_executable(), "--no-build", "--debug", str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(r"python[=-]3\.12", output), "repo2docker did not select Python 3.12"
    assert "binder/requirements.txt" in output
    assert "binder/postBuild" in output


def test_runtime_is_python_312():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.12"


def test_every_binder_pin_is_exact_and_explained():
    lines = [line for line in (BINDER / "requirements.txt").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines
    for line in lines:
        requirement, _, reason = line.partition("#")
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", requirement.strip()), f"not an exact pin: {line}"
        assert len(reason.strip()) > 10, f"pin without a reason: {line}"


def test_binder_pins_cover_every_runtime_dependency():
    pyproject = (ROOT / "pyproject.toml").read_text()
    runtime = re.findall(r'^\s*"([A-Za-z0-9_.-]+)[<>=!~ ]', pyproject.split("dependencies = [", 1)[1].split("]", 1)[0], re.M)
    pinned = {re.split(r"==", line)[0].strip().lower().replace("_", "-") for line in (BINDER / "requirements.txt").read_text().splitlines() if "==" in line}
    missing = [name for name in runtime if name.lower().replace("_", "-") not in pinned]
    assert not missing, f"runtime dependencies without a Binder pin: {missing}"


def test_post_build_stops_on_error_and_installs_the_package():
    script = (BINDER / "postBuild").read_text()
    assert "set -e" in script.splitlines()[1:3] or re.search(r"^set -e", script, re.M)
    assert "pip install" in script and "-e ." in script


def test_launch_url_opens_the_first_notebook():
    assert "?urlpath=lab/tree/notebooks/00_start_here.ipynb" in (BINDER / "README.md").read_text()
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()
