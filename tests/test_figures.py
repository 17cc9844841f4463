"""The figure checker (qwen_lessons.plotting.figure_problems) and the plain-number log axis: each rule catches the
defect it names, and passes a clean figure. tests/notebook_runs.py applies it to every figure of every notebook."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from qwen_lessons.plotting import figure_problems, log_scale, plain_number, use_course_style  # noqa: E402


@pytest.fixture(autouse=True)
def _style():
    use_course_style()
    yield
    plt.close("all")


def test_a_clean_figure_has_no_problems():
    fig, ax = plt.subplots()
    ax.plot([1, 10, 100], [2, 3, 5])
    log_scale(ax, "x")
    ax.set_xlabel("parameters (billions)")
    ax.set_ylabel("score (%)")
    ax.set_title("A finding")
    assert figure_problems(fig) == []
    low, high = ax.get_xlim()
    shown = [label.get_text() for label in ax.xaxis.get_ticklabels() if low <= label.get_position()[0] <= high]
    assert shown == ["1", "10", "100"]


def test_titles_running_into_each_other_are_caught():
    fig, axes = plt.subplots(1, 2, figsize=(5, 3))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x (s)")
        ax.set_ylabel("y (GiB)")
        ax.set_title("A rather long title that cannot fit in half of a small figure")
    problems = figure_problems(fig)
    assert any("title" in problem and "overlaps" in problem for problem in problems)


def test_powers_of_ten_where_plain_numbers_fit_are_caught():
    fig, ax = plt.subplots()
    ax.plot([1, 10, 100], [1, 2, 3])
    ax.set_xscale("log")
    ax.set_xlabel("examples")
    ax.set_ylabel("loss (nats)")
    assert any("powers of ten" in problem for problem in figure_problems(fig))


def test_a_numeric_axis_needs_a_label_but_categories_do_not():
    fig, ax = plt.subplots()
    ax.barh(["full", "LoRA"], [3, 1])
    ax.set_xlabel("memory (GiB)")
    assert figure_problems(fig) == []  # method names on y need no unit
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1], [0, 1])
    ax2.set_xlabel("time (s)")
    assert any("y axis has tick labels but no label" in problem for problem in figure_problems(fig2))


def test_a_shared_axis_is_labelled_once():
    fig, axes = plt.subplots(1, 2, sharey=True, figsize=(8, 3))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("size (B)")
    axes[0].set_ylabel("score (%)")
    assert figure_problems(fig) == []


@pytest.mark.parametrize(("value", "text"), [(1, "1"), (10, "10"), (1000, "1,000"), (0.5, "0.5"), (0, "0")])
def test_plain_numbers(value, text):
    assert plain_number(value) == text


def test_log_scale_names_the_axis_it_accepts():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="axis must be one of 'x', 'y'"):
        log_scale(ax, "z")


def test_text_too_small_at_the_displayed_size_is_caught():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("loss (nats)")
    assert figure_problems(fig) == []  # 10.5 pt in a figure that fits the column
    ax.set_title("a footnote-sized title", fontsize=6)
    assert any("title text 'a footnote-sized title' reads at 6.2 pt" in p for p in figure_problems(fig))
    wide, axes = plt.subplots(1, 4, figsize=(14, 3))  # the default size, shrunk to fit the column
    for panel in axes:
        panel.plot([0, 1], [0, 1])
        panel.set_xlabel("s")
        panel.set_ylabel("nats")
    problems = figure_problems(wide)
    assert any("x tick text" in p and "shown 800 px wide (under 8 pt)" in p for p in problems), problems


def test_a_legend_over_bars_lines_or_points_is_caught():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(["a", "b", "c"], [10, 10, 10], label="tall bars")
    ax.set_ylabel("count")
    ax.legend(loc="upper left")
    problems = figure_problems(fig)
    assert any("legend of axes 1 is drawn over data" in p and "rectangle" in p for p in problems), problems
    ax.set_ylim(0, 20)  # room above the bars: the same legend now sits on white
    assert figure_problems(fig) == []

    fig2, ax2 = plt.subplots(figsize=(6, 3))
    ax2.plot([0, 1], [1, 0], label="falling")
    ax2.scatter([0.05], [0.95], label="a point")
    ax2.set_xlabel("x (s)")
    ax2.set_ylabel("y (GiB)")
    ax2.legend(loc="upper left")
    assert any("line 'falling'" in p for p in figure_problems(fig2))
    ax2.legend(loc="upper right")
    assert figure_problems(fig2) == []
