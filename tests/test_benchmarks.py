"""The benchmark script runs and prints its table; every bench_*.py module yields valid cases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # runs the benchmark script and imports every bench module, in subprocesses


def test_benchmark_script_prints_a_markdown_table(tmp_path):
    out = tmp_path / "perf.md"
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--skip-notebooks", "--only", "start-here", "--repeats", "2", "--write", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "| case | median | target | meets target | notes |" in result.stdout
    assert "| 00 start-here widget update |" in result.stdout
    assert out.read_text().startswith("# Performance")


def test_every_benchmark_module_defines_cases():
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import run;"
        "cases = run.load_cases(None, skip_notebooks=False);"
        "assert all(isinstance(c, run.Case) and callable(c.fn) for c in cases);"
        "print(len(cases))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 3
