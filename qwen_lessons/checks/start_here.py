"""Self-checks for notebook 00."""

from __future__ import annotations

from qwen_lessons.checks import answer_check, close_enough, report
from qwen_lessons.units import weights_gib


def weights_14b_int4_answer() -> float:
    return weights_gib(14, 4)


@answer_check(accepts=weights_14b_int4_answer)
def check_weights_14b_int4(answer_gib: float) -> bool:
    """Exercise 1: the weights of a 14-billion-parameter model at 4 bits, in GiB."""
    expected = weights_14b_int4_answer()
    if close_enough(answer_gib, weights_gib(14, 16)):
        return report(False, "that is the 16-bit figure; at 4 bits each parameter takes a quarter of the space.")
    if close_enough(answer_gib, 14 * 4 / 8):
        return report(False, "close, but that is in GB (10^9 bytes); the course reports GiB (2^30 bytes).")
    return report(close_enough(answer_gib, expected), "parameters x bits / 8 gives bytes; divide by 2**30 for GiB.")
