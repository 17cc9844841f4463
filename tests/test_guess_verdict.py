"""The predict-then-reveal line (ui.guess_verdict) every lesson uses after the learner commits a guess."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from qwen_lessons.ui import guess_verdict


@pytest.mark.parametrize("guess, line", [
    (300, "You guessed 300 tokens; the count is 312 tokens: 4 % low."),
    (340, "You guessed 340 tokens; the count is 312 tokens: 9 % high."),
    (311, "You guessed 311 tokens; the count is 312 tokens: 0.3 % low."),
    (312, "You guessed 312 tokens; the count is 312 tokens: exactly right."),
    ("312", "You guessed 312 tokens; the count is 312 tokens: exactly right."),
    ("1,000", "You guessed 1,000 tokens; the count is 312 tokens: 3.2 times too high."),
    (100, "You guessed 100 tokens; the count is 312 tokens: 3.1 times too low."),
    (-5, "You guessed -5 tokens; the count is 312 tokens: off by 317 tokens."),
])
def test_a_guess_is_compared_with_the_truth(guess, line):
    assert guess_verdict(guess, 312, what="the count", unit="tokens") == line


def test_numbers_read_as_a_learner_writes_them():
    assert guess_verdict(5, 5.028, what="the file", unit="GB") == "You guessed 5 GB; the file is 5.03 GB: 0.6 % low."
    assert guess_verdict(0.5, 0.6931, what="the loss") == "You guessed 0.5; the loss is 0.693: 28 % low."
    assert guess_verdict(40000, 44704, what="the count") == ("You guessed 40,000; the count is 44,704: 11 % low.")


@pytest.mark.parametrize("guess", [None, "lots", float("nan"), True, [300]])
def test_no_guess_or_a_bad_one_gets_one_line_and_the_truth(guess):
    line = guess_verdict(guess, 312, what="the count", unit="tokens")
    assert "\n" not in line and line.endswith("the count is 312 tokens.")
    assert ("No guess yet" if guess is None else "is not a number") in line


@pytest.mark.parametrize("truth", [None, "312", float("inf"), True])
def test_a_truth_that_is_not_a_number_is_a_value_error(truth):
    with pytest.raises(ValueError, match="truth"):
        guess_verdict(300, truth)


ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0*_*.ipynb"))
GUESS = re.compile(r"^my_guess = None\b", re.MULTILINE)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_asks_for_a_guess_then_reveals_it_before_the_exercises(path):
    code = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    guess = next((i for i, source in enumerate(code) if GUESS.search(source)), None)
    assert guess is not None, f"{path.name}: no cell where the learner commits a guess (my_guess = None)"
    reveal = next((i for i, source in enumerate(code) if i > guess and "guess_verdict(my_guess" in source), None)
    assert reveal is not None, f"{path.name}: no cell after the guess shows guess_verdict(my_guess, ...)"
    # a formula cell (issue 28) checks the learner's copy of the key lines; it teaches, it is not an exercise
    exercises = next(i for i, source in enumerate(code)
                     if "qwen_lessons.checks" in source and not source.startswith("# Formula:"))
    assert reveal < exercises, f"{path.name}: the reveal comes after the exercises"
