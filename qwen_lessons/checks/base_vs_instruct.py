"""Self-checks for notebook 02 (base vs instruct). Each one hints at the likely mistake, never at the answer."""

from __future__ import annotations

from qwen_lessons import tokens
from qwen_lessons.checks import answer_check, report

OVERHEAD_CHAT = [  # exercise 1: a chat of five turns (the lesson's table counts a single question)
    {"role": "user", "content": "What is Qwen?"},
    {"role": "assistant", "content": "A family of open-weight models."},
    {"role": "user", "content": "Who trains it?"},
    {"role": "assistant", "content": "Alibaba Cloud's Qwen team."},
    {"role": "user", "content": "Since when?"},
]
MASK_CONVERSATION = [
    {"role": "user", "content": "Name a Qwen code model."},
    {"role": "assistant", "content": "Qwen2.5-Coder."},
    {"role": "user", "content": "And a vision one?"},
    {"role": "assistant", "content": "Qwen2.5-VL."},
]
FIM_PARTS = ("def area(r):\n    return ", " * r * r\n")
THINK_CONVERSATION = [{"role": "user", "content": "Is 7 a prime number?"}]
TUNE_EXAMPLES = 300


def template_overhead_answer() -> int:
    return tokens.template_cost(OVERHEAD_CHAT, "qwen2.5")["template_tokens"]


@answer_check(accepts=template_overhead_answer)
def check_template_overhead(answer: int) -> bool:
    """Exercise 1: tokens the Qwen2.5 template adds to OVERHEAD_CHAT (generation prompt included)."""
    cost = tokens.template_cost(OVERHEAD_CHAT, "qwen2.5")
    default_block = len(tokens.encode(tokens.QWEN25_DEFAULT_SYSTEM)) + 5  # + im_start, "system", "\n", im_end, "\n"
    if answer == cost["total_tokens"]:
        return report(False, "that is the whole prompt; subtract the tokens of the messages themselves.")
    if answer == tokens.template_cost(OVERHEAD_CHAT[:1], "qwen2.5")["template_tokens"]:
        return report(False, "that is what one question costs; every turn of the chat brings its own markers.")
    if answer == cost["template_tokens"] - default_block:
        return report(False, "the Qwen2.5 template adds a default system message when there is none: count it too.")
    if answer == cost["template_tokens"] - 3:
        return report(False, "the generation prompt (<|im_start|>assistant and a newline) belongs to the template too.")
    return report(answer == cost["template_tokens"], "render with tokens.render_chat, encode with the template's special "
                  "tokens allowed, and subtract the tokens of each message's content.")


def learned_tokens_answer() -> int:
    return sum(tokens.loss_mask(MASK_CONVERSATION, "qwen2.5").learn)


@answer_check(accepts=learned_tokens_answer)
def check_learned_tokens(answer: int) -> bool:
    """Exercise 2: how many tokens of MASK_CONVERSATION does one SFT step learn from (Qwen2.5 template)?"""
    mask = tokens.loss_mask(MASK_CONVERSATION, "qwen2.5")
    learned = learned_tokens_answer()
    replies = sum(message["role"] == "assistant" for message in MASK_CONVERSATION)
    if answer == len(mask.ids):
        return report(False, "that counts every token, as pretraining does; SFT learns only part of the chat.")
    if answer == learned - replies:
        return report(False, "each reply ends with <|im_end|>, and the model must learn to write it.")
    if answer == learned + replies:
        return report(False, "the newline after <|im_end|> is written by the template, not learned.")
    return report(answer == learned, "use tokens.loss_mask(...) and count the True values of .learn.")


def fim_prompt_answer() -> str:
    return tokens.fim_prompt(*FIM_PARTS)


@answer_check(accepts=fim_prompt_answer)
def check_fim_prompt(prompt: str) -> bool:
    """Exercise 3: the fill-in-the-middle prompt for FIM_PARTS (prefix, suffix)."""
    prefix, suffix = FIM_PARTS
    if not isinstance(prompt, str):
        return report(False, "build the prompt as one string.")
    if "<fim_prefix>" in prompt or "<fim_suffix>" in prompt:
        return report(False, "the real Qwen FIM tokens have pipes inside the angle brackets.")
    if prompt.find("<|fim_middle|>") < prompt.find("<|fim_suffix|>"):
        return report(False, "check the order: Qwen uses prefix, then suffix, then middle (the model writes the middle).")
    if prefix not in prompt or suffix not in prompt:
        return report(False, "keep the prefix and suffix exactly as given, spaces and newlines included.")
    return report(prompt == fim_prompt_answer(), "nothing goes after <|fim_middle|>, and no extra spaces "
                  "around the special tokens.")


def no_thinking_prompt_answer() -> str:
    return tokens.render_chat(THINK_CONVERSATION, "qwen3", enable_thinking=False)


@answer_check(accepts=no_thinking_prompt_answer)
def check_no_thinking_prompt(prompt: str) -> bool:
    """Exercise 4: the Qwen3 prompt for THINK_CONVERSATION with thinking switched off."""
    expected = no_thinking_prompt_answer()
    if not isinstance(prompt, str):
        return report(False, "build the prompt as one string, with tokens.render_chat.")
    if prompt == tokens.render_chat(THINK_CONVERSATION, "qwen3"):
        return report(False, "that prompt lets the model think; look at the enable_thinking argument.")
    if prompt == tokens.render_chat(THINK_CONVERSATION, "qwen2.5"):
        return report(False, "that is the Qwen2.5 template (see its system message); ask for the Qwen3 one.")
    return report(prompt == expected, "the prompt must end with the generation prompt: set add_generation_prompt=True.")


def _tuned_accuracy(n_examples: int) -> float:
    from qwen_lessons import tinylm

    return tinylm.answer_accuracy(tinylm.instruct(n_examples, seed=0, progress=False), tinylm.heldout_examples())


def tuned_accuracy_answer() -> float:
    return _tuned_accuracy(TUNE_EXAMPLES)


@answer_check(accepts=tuned_accuracy_answer)
def check_tuned_accuracy(answer: float) -> bool:
    """Exercise 5: held-out answer accuracy of the tiny base model tuned on TUNE_EXAMPLES examples (seed 0)."""
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return report(False, "give the accuracy as a number between 0 and 1.")
    if answer > 1:
        return report(False, "give a share between 0 and 1, not a percentage.")
    if abs(answer - tuned_accuracy_answer()) < 1e-9:
        return report(True, "")
    for other in (100, 1000):
        if abs(answer - _tuned_accuracy(other)) < 1e-9:
            return report(False, f"that matches a model tuned on {other} examples; use {TUNE_EXAMPLES}.")
    return report(False, "tune pretrain() on instruction_examples(300) with the default steps and seed, then score it "
                  "with answer_accuracy on heldout_examples().")
