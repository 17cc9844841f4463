"""The foundation: data access, units, plot style, environment report, the start-here widget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import pytest

from qwen_lessons import data, env, plotting, ui, units
from qwen_lessons.checks.start_here import check_weights_14b_int4
from qwen_lessons.lessons import start_here as lesson
from qwen_lessons.widgets import start_here as widget

ROOT = Path(__file__).resolve().parent.parent


def test_data_dir_is_found_from_the_package_not_the_working_directory(tmp_path):
    code = "from qwen_lessons.data import data_dir; print(data_dir())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert Path(result.stdout.strip()) == ROOT / "data"


def test_missing_data_file_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataFileError, match="hardware.csv: data file is missing"):
        data.read_table("hardware.csv")
    with pytest.raises(ValueError, match="no table schema for 'no_such_table.csv'"):
        data.read_table("no_such_table.csv")


def test_missing_data_folder_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataFileError, match="pip install -e"):
        data.data_dir()


def test_weights_gib_matches_hand_arithmetic():
    assert units.weights_gib(7, 16) == pytest.approx(7e9 * 2 / 2**30)
    assert units.weights_gib(72, 4) == pytest.approx(36e9 / 1073741824)
    for bad in ({"params_billion": 0, "bits_per_param": 16}, {"params_billion": 7, "bits_per_param": 0.5}):
        with pytest.raises(ValueError, match=next(iter(k for k in bad if bad[k] in (0, 0.5)))):
            units.weights_gib(**bad)


def test_course_style_sets_the_colour_blind_palette_without_named_styles():
    with mpl.rc_context():
        plotting.use_course_style()
        colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        assert [c.upper() for c in colours] == [c.upper() for c in plotting.OKABE_ITO]
        assert mpl.rcParams["axes.spines.top"] is False


def test_environment_report_flags_missing_old_and_widget_problems():
    checks = [
        env.PackageCheck("ipywidgets", "7.8.1", "8.1", "widgets"),
        env.PackageCheck("pandas", None, "2.1", "tables"),
        env.PackageCheck("numpy", "2.4.6", "1.26", "arrays"),
    ]
    report = "\n".join(env.environment_report(checks, (3, 10, 4)))
    assert "TOO OLD: Python 3.10.4" in report
    assert "TOO OLD: ipywidgets 7.8.1" in report
    assert "MISSING: pandas" in report
    assert "Widgets will NOT render" in report
    assert "3 problem(s) found" in report  # Python, ipywidgets, pandas
    healthy = env.environment_report([env.PackageCheck("numpy", "2.4.6", "1.26", "arrays")], (3, 12, 0))
    assert healthy[-1] == "Everything the course needs is installed."


def test_version_tuple_handles_release_candidates():
    assert env.version_tuple("2.1.0rc1") == (2, 1, 0)
    assert env.version_tuple("8.1.9") > env.version_tuple("8.1")
    assert env.version_tuple("10.0") > env.version_tuple("9.9")


def test_this_environment_passes_its_own_check(capsys):
    assert env.check_environment(), capsys.readouterr().out


def test_start_widget_updates_and_reports_bad_input_in_one_line():
    demo = widget.weights_widget()
    label, params = demo.size.options[-1]
    assert label.startswith("Qwen3-235B-A22B")  # the slider offers real checkpoints, largest last
    demo.size.value = params
    demo.precision.value = "int4 (4-bit)"
    assert f"{units.weights_gib(params, 4):.2f} GiB" in demo.result.value
    assert "qwen-weights" in demo.result._dom_classes
    demo.precision.options = [*lesson.PRECISION_BITS, "half a bit"]
    demo.precision.value = "half a bit"
    assert "qwen-error" in demo.result.value and "precision must be one of" in demo.result.value
    assert "Traceback" not in demo.result.value and "\n" not in demo.result.value


def test_guarded_turns_any_error_into_one_escaped_line():
    def boom():
        raise RuntimeError("bad <thing>\nsecond line")

    message = ui.guarded(boom)
    assert "unexpected RuntimeError: bad &lt;thing&gt;" in message and "second line" not in message
    assert ui.guarded(lambda: "<b>fine</b>") == "<b>fine</b>"


def test_start_here_self_check_hints_without_revealing(capsys):
    assert check_weights_14b_int4(14e9 * 4 / 8 / 2**30) == True  # noqa: E712 (a CheckResult, equal to a bool)
    assert check_weights_14b_int4(units.weights_gib(14, 16)) == False  # noqa: E712
    assert "16-bit" in capsys.readouterr().out
    assert check_weights_14b_int4(7.0) == False  # noqa: E712  # GB, not GiB
    out = capsys.readouterr().out
    assert "GiB" in out and f"{units.weights_gib(14, 4):.2f}" not in out
    assert check_weights_14b_int4(None) == False  # noqa: E712


def test_row_as_dict_gives_plain_python_values_and_none_for_empty_cells():
    table = pd.DataFrame({"n": pd.array([3, None], dtype="Int64"), "flag": pd.array([True, None], dtype="boolean"),
                          "x": [1.5, float("nan")], "s": pd.array(["a", None], dtype="string")})
    first, second = data.row_as_dict(table.iloc[0]), data.row_as_dict(table.iloc[1])
    assert first == {"n": 3, "flag": True, "x": 1.5, "s": "a"}
    assert [type(first[k]) for k in ("n", "flag", "x", "s")] == [int, bool, float, str]
    assert second == {"n": None, "flag": None, "x": None, "s": None}
