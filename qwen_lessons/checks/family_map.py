"""Self-checks for notebook 01 (the family map). Each compares with a value computed from data/, and hints."""

from __future__ import annotations

from qwen_lessons import catalog, models
from qwen_lessons.checks import answer_check, as_model_id, check_formula, close_enough, report
from qwen_lessons.lessons import family_map as lesson


def smallest_code_model_answers() -> list:
    code = catalog.filter_catalog(line="code")
    return sorted(code.loc[code["params_b"] == code["params_b"].min(), "model_id"])


@answer_check(accepts=smallest_code_model_answers)
def check_smallest_code_model(answer: str) -> bool:
    """Exercise 1: the id of a smallest code checkpoint (any of those tied for smallest is accepted)."""
    code = catalog.filter_catalog(line="code")
    smallest = set(smallest_code_model_answers())
    answer = as_model_id(answer, code["model_id"]) or answer  # "qwen2.5-coder-0.5b" names the same checkpoint
    if isinstance(answer, str) and answer in set(code["model_id"]):
        return report(answer in smallest, "that is a code model, but not the smallest; sort by params_b.")
    return report(False, "filter the catalog with line='code', then look at the row with the lowest params_b.")


def qwen3_8b_total_answer() -> int:
    return catalog.count_parameters("Qwen/Qwen3-8B")[0]


@answer_check(accepts=qwen3_8b_total_answer)
def check_qwen3_8b_total(answer: float) -> bool:
    """Exercise 2: total parameters of Qwen/Qwen3-8B computed from its config (a count, not billions)."""
    total = qwen3_8b_total_answer()
    if close_enough(answer, total / 1e9):
        return report(False, "that is in billions; give the raw count that count_parameters returns.")
    embedding = models.parameter_breakdown("Qwen/Qwen3-8B")["embedding"]
    if close_enough(answer, total - embedding, 0.001):
        return report(False, "you left out the input embedding; it is part of the total.")
    return report(close_enough(answer, total, 0.001), "count_parameters(model_id) returns (total, active).")


def million_token_count_answer() -> int:
    return len(catalog.filter_catalog(min_context=1_000_000))


@answer_check(accepts=million_token_count_answer)
def check_million_token_count(answer: int) -> bool:
    """Exercise 3: how many catalog checkpoints document a context of at least 1,000,000 tokens."""
    expected = million_token_count_answer()
    native_only = int((catalog.load_catalog()["context_length"] >= 1_000_000).sum())
    if answer == native_only and native_only != expected:
        return report(False, "you compared the native context only; the long contexts are reached with an extension.")
    return report(answer == expected, "filter_catalog(min_context=...) looks at the longest documented context.")


def active_share_235b_answer() -> float:
    total, active = catalog.count_parameters("Qwen/Qwen3-235B-A22B")
    return active / total


@answer_check(accepts=active_share_235b_answer)
def check_active_share_235b(answer: float) -> bool:
    """Exercise 4: the share of Qwen3-235B-A22B's parameters a token uses (active / total, between 0 and 1)."""
    total, active = catalog.count_parameters("Qwen/Qwen3-235B-A22B")
    if close_enough(answer, 100 * active / total, 0.02):
        return report(False, "give a fraction between 0 and 1, not a percentage.")
    if close_enough(answer, total / active, 0.02):
        return report(False, "upside down: divide the active count by the total.")
    return report(close_enough(answer, active_share_235b_answer(), 0.02), "use both numbers count_parameters returns.")


def claim_verdict_answers() -> list:
    return [claim(None).verdict for claim in lesson.CLAIMS if claim(None).key == "g"]


@answer_check(accepts=claim_verdict_answers)
def check_claim_verdict(key: str, answer: str) -> bool:
    """Exercise 5: the verdict ('true', 'partly true' or 'false') the data gives for one popular claim."""
    verdicts = {claim(None).key: claim for claim in lesson.CLAIMS}
    if not isinstance(key, str) or key not in verdicts:
        return report(False, f"key must be one of {sorted(verdicts)}.")
    expected = verdicts[key](None).verdict
    if not isinstance(answer, str) or answer not in ("true", "partly true", "false"):
        return report(False, "answer with 'true', 'partly true' or 'false'.")
    return report(answer == expected, "read the evidence line of that claim again: does every part of it hold?")


# ---------------------------------------------------------------- the formula cell (not an exercise)


def check_formula_dense_parameters(formula) -> bool:
    """Section 6's formula cell against the package's count, on every dense checkpoint of the table."""
    def cases():
        for model_id in models.model_ids():
            c = models.resolve(model_id)
            if {kind for layer in c.layers for kind in layer} == {"dense_mlp", "full_attention"}:
                yield model_id, (c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                                 c["num_key_value_heads"], c["head_dim"], c["intermediate_size"],
                                 c["tie_word_embeddings"], c["attention_bias"], c["qk_norm"]), \
                    models.count_parameters(model_id)[0]

    return check_formula(formula, cases(), "parameter-count")
