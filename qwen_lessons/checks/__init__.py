"""Self-check functions for the exercises: one module per lesson. They hint, they never reveal the answer."""

from __future__ import annotations


def report(passed: bool, hint: str, praise: str = "Correct.") -> bool:
    """Print a one-line verdict (praise, or 'Not yet' with a hint) and return whether the answer passed."""
    print(f"✓ {praise}" if passed else f"✗ Not yet. Hint: {hint}")
    return passed


def close_enough(answer: float, expected: float, rel_tol: float = 0.01) -> bool:
    """True when a numeric answer is within rel_tol of the expected value (False for non-numbers)."""
    try:
        return abs(float(answer) - expected) <= rel_tol * abs(expected)
    except (TypeError, ValueError):
        return False
