"""Self-check functions for the exercises: one module per lesson. They hint, they never reveal the answer."""

from __future__ import annotations

import functools


class CheckResult:
    """What a self-check returns: true when the answer passed. In a notebook it shows nothing more than the one
    line the check printed (no echoed True/False); in code it reads as a bool and compares equal to one."""

    __slots__ = ("passed",)

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other) -> bool:
        return self.passed == bool(other) if isinstance(other, bool | CheckResult) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        """Jupyter shows an expression's value under the cell; the printed verdict already said it all."""


def answer_check(function=None, *, accepts=None):
    """Mark an exercise check: a missing value (pd.NA, pd.NaT) as the answer gets a hint instead of pandas'
    "boolean value of NA is ambiguous" from the first comparison.

    ``accepts`` is a function of no arguments returning the answer(s) the check accepts, computed by the package
    (the check itself calls the same function). It becomes ``check.accepted_answers()``, the one way a check
    declares its answers, so a test can verify that no lesson shows them above the exercise. A check whose answer
    is a function the learner writes declares nothing (``accepted_answers()`` is empty)."""

    def decorate(check_function):
        @functools.wraps(check_function)
        def check(*args, **kwargs):
            if any(type(value).__name__ in ("NAType", "NaTType") for value in (*args, *kwargs.values())):
                return report(False, "the answer is a missing value (pd.NA): replace it with your number or text.")
            return check_function(*args, **kwargs)

        def accepted_answers() -> tuple:
            if accepts is None:
                return ()
            answers = accepts()
            return tuple(answers) if isinstance(answers, list | tuple | set | frozenset) else (answers,)

        check.accepted_answers = accepted_answers
        return check

    return decorate(function) if function is not None else decorate


def exercise_checks(module) -> dict:
    """The exercise checks a checks module defines, by name, in the order they appear (answer_check marks them)."""
    return {name: value for name, value in vars(module).items()
            if callable(value) and hasattr(value, "accepted_answers") and name.startswith("check_")}


def report(passed: bool, hint: str, praise: str = "Correct.") -> CheckResult:
    """Print a one-line verdict (praise, or 'Not yet' with a hint) and return whether the answer passed."""
    passed = passed is True or type(passed).__name__ == "bool_" and bool(passed)  # pd.NA or a list is not a pass
    print(f"✓ {praise}" if passed else f"✗ Not yet. Hint: {hint}")
    return CheckResult(passed)


def as_model_id(answer, known) -> str | None:
    """The id in `known` that a learner's answer names, forgiving case and a missing 'Qwen/' prefix."""
    if not isinstance(answer, str) or not answer.strip():
        return None
    text = answer.strip()
    text = text if "/" in text else f"Qwen/{text}"
    return {model_id.lower(): model_id for model_id in known}.get(text.lower())


def close_enough(answer: float, expected: float, rel_tol: float = 0.01) -> bool:
    """True when a numeric answer is within rel_tol of the expected value (False for non-numbers)."""
    try:
        return abs(float(answer) - expected) <= rel_tol * abs(expected)
    except (TypeError, ValueError):
        return False


def check_formula(formula, cases, what: str, rel_tol: float = 0.0) -> CheckResult:
    """Hold a lesson's formula cell against the package: `cases` yields (label, arguments of the formula, what the
    package computes). One line: how many inputs agreed, or the first that did not (with both values), so a learner
    who changes the formula sees at once where it parts from the package."""
    if not callable(formula):
        return report(False, f"pass the function itself, without parentheses: the {what} formula.")
    tried = 0
    for label, arguments, expected in cases:
        try:
            got = formula(*arguments)
        except Exception as error:  # a learner's edit may fail in any way; say on which input
            return report(False, f"the {what} formula raised {type(error).__name__} for {label}.")
        if not _agrees(got, expected, rel_tol):
            return report(False, f"for {label} the {what} formula gives {got!r}, the package {expected!r}.")
        tried += 1
    return report(True, "", praise=f"The {what} formula computes what the package computes, on {tried:,} inputs.")


def _agrees(got, expected, rel_tol: float) -> bool:
    if isinstance(expected, tuple):
        return isinstance(got, tuple | list) and len(got) == len(expected) and all(
            _agrees(g, e, rel_tol) for g, e in zip(got, expected, strict=True))
    if isinstance(got, bool) or not isinstance(got, int | float) and type(got).__module__ != "numpy":
        return False
    try:
        return abs(float(got) - expected) <= rel_tol * abs(expected) + (1e-12 if rel_tol else 0.0)
    except (TypeError, ValueError, OverflowError):
        return False
