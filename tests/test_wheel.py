"""A real wheel (issue 12): the package is built as a normal, non-editable wheel that carries data/ inside it
(qwen_lessons.tables), installed into a fresh venv outside the repository, and a lesson notebook runs against it.

The fresh venv reuses this environment's dependencies through a .pth line (so the test installs nothing from the
network but the build backend); this environment's editable qwen_lessons is not visible there, because a .pth
line adds a folder without running the .pth files inside it."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # builds a wheel and runs a lesson against it
NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
WHERE = """import qwen_lessons, sys
from pathlib import Path
from qwen_lessons.data import data_dir
print("package:", qwen_lessons.__file__, "data:", data_dir())
assert Path(sys.prefix) in Path(qwen_lessons.__file__).parents, "qwen_lessons came from outside the fresh venv"
assert Path(sys.prefix) in data_dir().parents, "the tables came from outside the installed package"
"""
RUN = """import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
print("ran", len([c for c in notebook.cells if c.cell_type == "code"]), "code cells")
print("".join(output.get("text", "") for output in notebook.cells[0].outputs))
"""


@pytest.fixture(scope="module")
def wheel(course_wheel):
    return course_wheel  # built once per run, under a lock (tests/conftest.py): the hub room installs it too


def test_the_wheel_carries_every_table(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    tables = {f"qwen_lessons/tables/{p.relative_to(ROOT / 'data').as_posix()}" for p in (ROOT / "data").rglob("*")
              if p.is_file() and p.suffix in (".csv", ".txt", ".md", ".png")}
    assert tables <= names, f"missing from the wheel: {sorted(tables - names)[:5]}"
    assert not any(name.startswith(("data/", "tests/", "notebooks/")) for name in names)


def test_a_lesson_runs_against_the_installed_wheel_outside_the_repo(wheel, tmp_path):
    env_dir = tmp_path / "fresh-venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    fresh_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     check=True, capture_output=True, text=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (fresh_site / "course_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(fresh_site),
                    str(wheel)], check=True, capture_output=True, text=True, timeout=300)
    lesson = tmp_path / "lesson" / NOTEBOOK.name
    lesson.parent.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(WHERE))
    nbformat.write(notebook, lesson)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "QWEN_LESSONS_DATA")}
    env["JUPYTER_PATH"] = str(tmp_path / "no-kernelspecs")  # the native kernel: this venv's python
    done = subprocess.run([str(python), "-c", RUN, str(lesson)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]  # the client raises on any cell error
    print(done.stdout)
    assert f"package: {env_dir}" in done.stdout and "/qwen_lessons/tables" in done.stdout
