"""Self-checks for notebook 03 (preference tuning). Each one hints at the likely mistake, never at the answer."""

from __future__ import annotations

import math

import numpy as np

from qwen_lessons import preference
from qwen_lessons.checks import answer_check, check_formula, close_enough, report

# Exercise 1: sequence log-probabilities of one pair (nats), as a policy and its reference might give them
POLICY_CHOSEN, POLICY_REJECTED = -11.0, -16.0
REFERENCE_CHOSEN, REFERENCE_REJECTED = -12.5, -14.5
EXERCISE_BETA = 0.2
VERDICT_BETA = 0.03  # exercise 3: a DPO run the lesson does not show (its table uses beta = 0.1)


def _is_number(answer) -> bool:
    return isinstance(answer, int | float) and not isinstance(answer, bool) and math.isfinite(answer)


def dpo_loss_answer() -> float:
    return preference.dpo_loss(POLICY_CHOSEN, POLICY_REJECTED, REFERENCE_CHOSEN, REFERENCE_REJECTED, EXERCISE_BETA)


@answer_check(accepts=dpo_loss_answer)
def check_dpo_loss(answer: float) -> bool:
    """Exercise 1: the DPO loss of the pair above with beta = EXERCISE_BETA, in nats."""
    if not _is_number(answer):
        return report(False, "give the loss as one number (nats).")
    expected = dpo_loss_answer()
    policy_gap = POLICY_CHOSEN - POLICY_REJECTED
    if close_enough(answer, math.log1p(math.exp(-EXERCISE_BETA * policy_gap)), 1e-3):
        return report(False, "subtract the reference: each reply's reward is beta times (policy minus reference).")
    margin = EXERCISE_BETA * ((POLICY_CHOSEN - REFERENCE_CHOSEN) - (POLICY_REJECTED - REFERENCE_REJECTED))
    if close_enough(answer, math.log1p(math.exp(margin)), 1e-3):
        return report(False, "the sign is flipped: the loss is -log sigmoid(margin), small when the chosen reply wins.")
    if close_enough(answer, math.log1p(math.exp(-margin / EXERCISE_BETA)), 1e-3):
        return report(False, "multiply the log-ratio difference by beta before the sigmoid.")
    return report(close_enough(answer, expected, 1e-3), "margin = beta * ((chosen: policy - reference) - (rejected: "
                  "policy - reference)); loss = log(1 + exp(-margin)).")


def beta_limit_answer() -> float:
    return math.log(2)


@answer_check(accepts=beta_limit_answer)
def check_beta_limit(answer: float) -> bool:
    """Exercise 2: what the DPO loss of any pair tends to as beta goes to 0 (nats)."""
    if not _is_number(answer):
        return report(False, "give the limit as one number (nats).")
    if close_enough(answer, 0.0, 1e-9) or abs(answer) < 1e-6:
        return report(False, "a zero loss needs a margin of +infinity; what is the margin when beta is 0?")
    if close_enough(answer, 0.5, 1e-3):
        return report(False, "0.5 is sigmoid(0); the loss is minus its logarithm.")
    return report(close_enough(answer, beta_limit_answer(), 1e-3), "with beta = 0 the margin is 0 for every pair; put that "
                  "into -log sigmoid(margin).")


def _verdicts(beta: float):
    from qwen_lessons.lessons import preference_tuning as lesson

    return preference.smoothing_verdict(lesson.stage_table(beta=beta, progress=False)).set_index("to")["verdict"]


def dpo_verdict_answer() -> str:
    return _verdicts(VERDICT_BETA)["DPO"]


@answer_check(accepts=dpo_verdict_answer)
def check_dpo_verdict(answer: str) -> bool:
    """Exercise 3: the verdict of preference.smoothing_verdict for the SFT → DPO step when DPO trains with
    beta = VERDICT_BETA (1,000 pairs, seed 0)."""
    options = ("smooths", "widens", "mixed")
    if not isinstance(answer, str) or answer.strip().lower() not in options:
        return report(False, f"answer with one word: {', '.join(options)}.")
    verdicts = _verdicts(VERDICT_BETA)
    expected = verdicts["DPO"]  # dpo_verdict_answer(), without a second run
    given = answer.strip().lower()
    if given == verdicts["SFT"] != expected:
        return report(False, "that is the base → SFT step; look at the row whose 'to' is DPO.")
    if given != expected and given == _verdicts(preference.DEFAULT_BETA)["DPO"]:
        return report(False, "that is the verdict of section 4's run; train DPO with the exercise's beta first.")
    return report(given == expected, "build the stage table with lesson.stage_table(beta=...), run "
                  "preference.smoothing_verdict on it and read the SFT → DPO row.")


def fusion_stage_answer() -> str:
    from qwen_lessons.lessons import preference_tuning as lesson

    table = lesson.qwen_stages()
    qwen3 = table[table["generation"] == "Qwen3"]
    return qwen3[qwen3["what_it_adds"].str.contains("non-thinking")]["stage"].iloc[0]


@answer_check(accepts=fusion_stage_answer)
def check_fusion_stage(answer: str) -> bool:
    """Exercise 4: the Qwen3 stage that teaches one model both the thinking and the non-thinking mode."""
    from qwen_lessons.lessons import preference_tuning as lesson

    table = lesson.qwen_stages()
    if not isinstance(answer, str) or not answer.strip():
        return report(False, "answer with the stage's name as it appears in the stage column.")
    given = answer.strip().lower()
    if given in set(table[table["generation"] == "Qwen2.5"]["stage"].str.lower()):
        return report(False, "that is a Qwen2.5 stage; Qwen2.5 has no thinking mode.")
    if given == "strong-to-weak distillation":
        return report(False, "distillation passes the flagship's behaviour to small models; which flagship stage "
                             "adds the non-thinking mode?")
    fusion = fusion_stage_answer()
    return report(given == fusion.lower(), "read lesson.qwen_stages(): the what_it_adds column says which stage "
                  "adds a non-thinking mode.")


# ---------------------------------------------------------------- the formula cell (not an exercise)


def _pairs():
    """Four log-probabilities and a beta: edge cases, then 300 drawn with a fixed seed (the same every time)."""
    yield "a policy equal to its reference", (-10.0, -20.0, -10.0, -20.0, 0.1)
    yield "all log-probabilities 0", (0.0, 0.0, 0.0, 0.0, 1.0)
    yield "a margin of -200", (-200.0, 0.0, 0.0, -200.0, 0.5)
    yield "a margin of +200", (0.0, -200.0, -200.0, 0.0, 0.5)
    rng = np.random.default_rng(0)
    for logps, beta in zip(rng.uniform(-200.0, 0.0, (300, 4)), rng.uniform(0.001, 1.0, 300), strict=True):
        yield f"the pair {tuple(round(float(x), 3) for x in logps)} with beta {beta:.3f}", (*map(float, logps), float(beta))


def check_formula_dpo_loss(formula) -> bool:
    """Section 1's loss formula against preference.dpo_loss."""
    return check_formula(formula, ((label, pair, preference.dpo_loss(*pair)) for label, pair in _pairs()),
                         "DPO-loss", rel_tol=1e-9)


def check_formula_dpo_loss_gradient(formula) -> bool:
    """Section 1's gradient formula against preference.dpo_loss_gradient (what dpo_train follows)."""
    return check_formula(formula, ((label, pair, preference.dpo_loss_gradient(*pair)) for label, pair in _pairs()),
                         "DPO-gradient", rel_tol=1e-9)
