"""Self-checks for notebook 04 (fine-tuning): they say whether an answer is right and hint, never reveal."""

from __future__ import annotations

from qwen_lessons import finetune, models
from qwen_lessons.catalog import filter_catalog
from qwen_lessons.checks import answer_check, as_model_id, check_formula, close_enough, report
from qwen_lessons.units import GB, GIB

LORA_MODEL = "Qwen/Qwen2.5-1.5B"
FIT_GPU = "rtx-4090"
FIT_SETTINGS = {"rank": 16, "seq_len": 2048, "micro_batch": 1, "checkpointing": True}
HOURS_EXAMPLES, HOURS_TOKENS, HOURS_EPOCHS = 30_000, 640, 2  # exercise 5 (the lesson's table shows 512 x 3)


def lora_params_answer() -> int:
    return finetune.lora_trainable_params(LORA_MODEL, 16, ("q_proj", "v_proj"))


@answer_check(accepts=lora_params_answer)
def check_lora_params(answer: int) -> bool:
    """Exercise 1: LoRA rank 16 on q_proj and v_proj of Qwen2.5-1.5B, trainable parameters."""
    expected = lora_params_answer()
    layers = models.resolve(LORA_MODEL)["num_hidden_layers"]
    if close_enough(answer, expected / layers, 1e-9):
        return report(False, "that is one layer's worth; every decoder layer has its own q_proj and v_proj.")
    if close_enough(answer, 2 * finetune.lora_trainable_params(LORA_MODEL, 16, ("q_proj",)), 1e-9):
        return report(False, "q_proj and v_proj do not have the same shape: v_proj's output is only "
                             "num_key_value_heads x head_dim wide (grouped-query attention).")
    if close_enough(answer, expected / 2, 1e-9):
        return report(False, "LoRA adds two matrices per module: A (rank x in) and B (out x rank).")
    return report(close_enough(answer, expected, 1e-9),
                  "per module rank x (in_features + out_features); sum q_proj and v_proj; times the layers. "
                  "finetune.linear_layers() lists the shapes.")


def full_state_gib_answer() -> float:
    return 18 * models.count_parameters(LORA_MODEL)[0] / GIB


@answer_check(accepts=full_state_gib_answer)
def check_full_state_gib(answer_gib: float) -> bool:
    """Exercise 2: weights + gradients + optimizer states of full mixed-precision fine-tuning of Qwen2.5-1.5B, GiB."""
    params = models.count_parameters(LORA_MODEL)[0]
    expected = full_state_gib_answer()
    if close_enough(answer_gib, 16 * params / GIB, 0.01):
        return report(False, "that is the ZeRO paper's count, with 16-bit gradients; the course's 'full' "
                             "convention keeps the gradients in fp32.")
    if close_enough(answer_gib, 18 * params / GB, 0.01):
        return report(False, "right bytes, wrong unit: divide by 2**30 for GiB, not by 10**9.")
    if close_enough(answer_gib, 2 * params / GIB, 0.01):
        return report(False, "that is only the bf16 weights; gradients and Adam's states come on top.")
    return report(close_enough(answer_gib, expected, 0.01),
                  "count bytes per parameter: bf16 weights, fp32 gradients, fp32 master copy, Adam m and v.")


def lora_compute_share_answer() -> float:
    tokens = 1e6  # any count: both costs are proportional to it
    full = finetune.training_flops("Qwen/Qwen2.5-7B", "full", tokens, checkpointing=False)
    return finetune.training_flops("Qwen/Qwen2.5-7B", "lora", tokens, checkpointing=False, rank=8) / full


@answer_check(accepts=lora_compute_share_answer)
def check_lora_compute_share(answer: float) -> bool:
    """Exercise 3: LoRA (rank 8) compute as a share of full fine-tuning compute, Qwen2.5-7B, no checkpointing."""
    expected = lora_compute_share_answer()
    share_trainable = finetune.lora_trainable_params("Qwen/Qwen2.5-7B", 8) / models.count_parameters("Qwen/Qwen2.5-7B")[0]
    if close_enough(answer, share_trainable, 0.1) or (isinstance(answer, int | float) and answer < 0.1):
        return report(False, "that is the share of trainable parameters; the forward pass and the gradients "
                             "flowing back through every frozen layer still cost the full matrix products.")
    return report(close_enough(answer, expected, 0.03),
                  "count which matrix products LoRA still pays for: the forward pass, and in the backward pass "
                  "the gradients for the inputs and for the weights; the frozen layers skip only one of these "
                  "(use finetune.training_flops).")


def _base_candidates() -> list:
    # the catalog says which checkpoints are Qwen2.5 base models (the Omni ones are post-trained, not base)
    base = set(filter_catalog(generation="Qwen2.5", variant="base")["model_id"])
    return [m for m in models.model_ids(memory_modelled=True) if m in base]


def largest_fit_answer() -> str:
    fitting = [m for m in _base_candidates() if finetune.plan(m, "qlora-4bit", FIT_GPU, **FIT_SETTINGS).fits]
    return max(fitting, key=lambda m: models.count_parameters(m)[0])


@answer_check(accepts=largest_fit_answer)
def check_largest_fit(model_id: str) -> bool:
    """Exercise 4: the largest Qwen2.5 base model whose QLoRA-4bit run (rank 16, 2048 tokens) fits an RTX 4090."""
    candidates = _base_candidates()
    largest = models.count_parameters(largest_fit_answer())[0]
    model_id = as_model_id(model_id, candidates) or model_id
    if model_id not in candidates:
        return report(False, f"answer with one of the base ids: {', '.join(candidates)}.")
    result = finetune.plan(model_id, "qlora-4bit", FIT_GPU, **FIT_SETTINGS)
    if not result.fits:
        return report(False, f"the planner says that one needs {result.memory.total_gib:.1f} GiB, more than "
                              f"the card's {result.capacity_gib:.1f} GiB.")
    if models.count_parameters(model_id)[0] < largest:  # a same-size sibling (Coder beside the general model) is right
        return report(False, "it fits, but a larger Qwen2.5 model fits as well: try the next size up.")
    return report(True, "")


def _hours_plan():
    return finetune.data_scenarios("Qwen/Qwen2.5-7B", "lora", "a100-80gb", tokens_per_example=HOURS_TOKENS,
                                   epochs=HOURS_EPOCHS, examples=(HOURS_EXAMPLES,))


def hours_answer() -> float:
    table = _hours_plan()
    return float(table.loc[table["examples"] == HOURS_EXAMPLES, "hours"].iloc[0])


@answer_check(accepts=hours_answer)
def check_hours(answer_hours: float) -> bool:
    """Exercise 5: hours to LoRA-tune Qwen2.5-7B on 30,000 examples x 640 tokens x 2 epochs on one A100 80 GB."""
    table = _hours_plan()
    expected = hours_answer()
    if close_enough(answer_hours, expected / HOURS_EPOCHS, 0.05):
        return report(False, "that is one epoch; the plan makes two passes over the data.")
    if close_enough(answer_hours, expected, 0.05):
        return report(True, "")
    tokens = float(table.loc[table["examples"] == HOURS_EXAMPLES, "tokens"].iloc[0])
    no_recompute = finetune.training_flops("Qwen/Qwen2.5-7B", "lora", tokens, checkpointing=False)
    if close_enough(answer_hours, finetune.training_hours(no_recompute, "a100-80gb"), 0.05):
        return report(False, "gradient checkpointing is on in this plan: it recomputes the forward pass once more.")
    return report(close_enough(answer_hours, expected, 0.05),
                  "tokens = examples x tokens per example x epochs; FLOPs from training_flops; then "
                  "training_hours at 40% of the GPU's bf16 peak.")


# ---------------------------------------------------------------- the formula cell (not an exercise)


def check_formula_lora_params(formula) -> bool:
    """Section 1's formula cell against finetune.lora_trainable_params: every checkpoint the planner offers, each
    linear module alone and all of them, at ranks 1, 8 and 64 (where the rank fits the narrowest module)."""
    def cases():
        for model_id in models.model_ids(memory_modelled=True):
            decoder = models.resolve(model_id, memory_modelled=True).decoder_matrices
            names = sorted({m.name for m in decoder})
            for targets in [[name] for name in names] + [names]:
                adapted = [(m.in_features, m.out_features, m.copies, m.layers) for m in decoder if m.name in targets]
                for rank in (1, 8, 64):
                    if rank <= min(min(fan_in, fan_out) for fan_in, fan_out, _, _ in adapted):
                        yield (f"{model_id} at rank {rank} on {', '.join(targets)}", (rank, adapted),
                               finetune.lora_trainable_params(model_id, rank, targets))

    return check_formula(formula, cases(), "LoRA-count")
