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
