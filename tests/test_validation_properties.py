"""Property tests of the validation layer (issue 12), with hypothesis: for any value at all, every rule in
validation.RULES either raises ValueError naming the argument, or returns a value the function can use — a
number inside its range, a bool, a string within its length. Every public function checks its arguments with
these rules (tests/test_hostile_input.py calls each function with hostile values)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwen_lessons import validation

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.binary(max_size=10), st.just(pd.NA), st.just(object()),
    st.integers(-10**6, 10**6).map(np.int64), st.floats(-1e6, 1e6).map(np.float64),
    st.lists(st.integers(-5, 5), max_size=4), st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
SCALAR_RULES = {name: rule for name, rule in validation.RULES.items()
                if "." not in name and rule is not validation.anything}


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=st.sampled_from(sorted(SCALAR_RULES)), value=ANY_VALUE)
def test_a_rule_refuses_with_the_argument_name_or_returns_a_usable_value(name, value):
    try:
        checked = SCALAR_RULES[name](name, value)
    except ValueError as error:
        assert str(error).startswith(name) and "\n" not in str(error)
        return
    if isinstance(checked, bool):
        assert isinstance(value, bool | np.bool_) or callable(value) or checked is value
    elif isinstance(checked, int | float):
        assert not isinstance(value, bool | np.bool_), f"{name} took a bool as a number"
        assert math.isfinite(checked) and type(checked) in (int, float), f"{name} returned {checked!r}"


@given(low=st.integers(-100, 100), span=st.integers(0, 100), value=ANY_VALUE)
def test_integer_rules_return_plain_ints_inside_their_range(low, span, value):
    rule = validation.integer(low, low + span)
    try:
        checked = rule("n", value)
    except ValueError as error:
        assert str(error).startswith("n must be a whole number")
        return
    assert type(checked) is int and low <= checked <= low + span


@given(value=ANY_VALUE)
def test_number_rules_never_pass_nan_inf_or_bools(value):
    try:
        checked = validation.number(0, 1e6)("x", value)
    except ValueError:
        return
    assert type(checked) in (int, float) and math.isfinite(checked) and 0 <= checked <= 1e6


# ---------------------------------------------------------------- issue 29: odd types, floors, short refusals
ODD_NUMBERS = st.one_of(
    st.fractions(max_denominator=1000), st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.integers(-10**6, 10**6).map(lambda n: np.timedelta64(n, "s")), st.just(np.datetime64("2024-01-01")),
    st.integers(-5, 5).map(lambda n: np.array([n])), st.integers(-5, 5).map(np.array),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=st.sampled_from(sorted(SCALAR_RULES)), value=ODD_NUMBERS)
def test_fractions_and_decimals_are_converted_exactly_and_durations_and_arrays_refused(name, value):
    try:
        checked = SCALAR_RULES[name](name, value)
    except ValueError as error:
        assert str(error).startswith(name) and "\n" not in str(error) and len(str(error)) <= 300
        return
    assert not isinstance(value, np.timedelta64 | np.datetime64), f"{name} took {value!r}"
    assert not isinstance(value, np.ndarray) or isinstance(checked, list), f"{name} took {value!r} as one value"
    if isinstance(checked, int | float) and not isinstance(checked, bool):
        assert type(checked) in (int, float) and math.isfinite(checked)
        assert checked == value if type(checked) is int else checked == float(value), f"{name}: {value!r} -> {checked!r}"


def test_a_rule_that_refuses_zero_refuses_a_vanishing_positive_number_too():
    """An "above 0" rule has a meaningful floor: 5e-324 as a share, a rate or a length divides into infinity."""
    loose = []
    for name, rule in sorted(SCALAR_RULES.items()):
        try:
            rule(name, 0)
        except ValueError:
            for tiny in (5e-324, 1e-300, 1e-20):
                try:
                    rule(name, tiny)
                except ValueError:
                    continue
                loose.append(f"{name} accepts {tiny!r}")
                break
    assert not loose, f"rules that refuse 0 but accept a vanishing number (give them a real floor): {loose}"


def test_choice_lists_in_refusals_are_one_short_line():
    ids = [f"Qwen/Qwen-{n}B-Instruct" for n in range(200)]
    text = validation.choices(ids, "ids", "models.model_ids()")
    assert text.startswith("one of 200 ids, e.g. 'Qwen/Qwen-0B-Instruct'") and text.endswith("; see models.model_ids()")
    assert len(text) <= 150 and validation.choices(["a", "b"]) == "one of 'a', 'b'"
    many = validation.one_of(*ids)
    try:
        many("model_id", "nope")
    except ValueError as error:
        assert len(str(error)) <= 300 and "\n" not in str(error)
