"""Self-checks for notebook 07 (choosing a tier). They hint at the method and never print the answer."""

from __future__ import annotations

from qwen_lessons import memory, models, tiers
from qwen_lessons.checks import answer_check, check_formula, close_enough, report
from qwen_lessons.hardware import get_gpu, hardware_ids, memory_gib
from qwen_lessons.units import GIB

GAIN_BENCHMARK = "GSM8K"  # exercise 4 (the lesson's table of gains shows MMLU and MATH)


def kv_bytes_14b_answer() -> float:
    return memory.kv_bytes_per_token("Qwen/Qwen2.5-14B-Instruct")


@answer_check(accepts=kv_bytes_14b_answer)
def check_kv_bytes_14b(answer_bytes) -> bool:
    """Exercise 1: KV-cache bytes per token of Qwen2.5-14B-Instruct in bf16."""
    arch = models.resolve("Qwen/Qwen2.5-14B-Instruct")
    expected = kv_bytes_14b_answer()
    with_query_heads = 2 * arch["num_hidden_layers"] * arch["num_attention_heads"] * arch["head_dim"] * 2
    if close_enough(answer_bytes, with_query_heads):
        return report(False, "grouped-query attention caches only the key/value heads, not every query head.")
    if close_enough(answer_bytes, expected / 2):
        return report(False, "keys AND values are cached: there is a factor 2 for K and V.")
    if close_enough(answer_bytes, expected / 2**20) or close_enough(answer_bytes, expected / 1024):
        return report(False, "the question asks for bytes, not KiB or MiB.")
    return report(close_enough(answer_bytes, expected, 1e-9),
                  "2 x num_hidden_layers x num_key_value_heads x head_dim x 2 bytes; read them from models.resolve(...).")


def smallest_gpu_for_32b_answer() -> str:
    need = memory.inference_memory("Qwen/Qwen2.5-32B-Instruct", "bf16", 7168, 1024).total_gib
    fitting = [g for g in hardware_ids() if get_gpu(g)["kind"] in ("consumer", "datacenter")
               and memory_gib(g) * 0.9 >= need]
    return min(fitting, key=memory_gib)


@answer_check(accepts=smallest_gpu_for_32b_answer)
def check_smallest_gpu_for_32b(answer_gpu_id) -> bool:
    """Exercise 2: the smallest single GPU (by memory) that serves Qwen2.5-32B-Instruct bf16 at 8K with 10% headroom."""
    need = memory.inference_memory("Qwen/Qwen2.5-32B-Instruct", "bf16", 7168, 1024).total_gib
    expected = smallest_gpu_for_32b_answer()
    if answer_gpu_id not in hardware_ids():
        return report(False, "answer with a gpu_id string from load_hardware(), e.g. 'l4'.")
    if memory_gib(answer_gpu_id) * 0.9 < need:
        return report(False, "that one is too small: compare inference_memory(...).total_gib with memory_gib(gpu) x 0.9.")
    if answer_gpu_id != expected and memory_gib(answer_gpu_id) > memory_gib(expected):
        return report(False, "it fits, but a GPU with less memory also fits; sort the fitting ones by memory.")
    return report(answer_gpu_id == expected or memory_gib(answer_gpu_id) == memory_gib(expected),
                  "only consumer and datacenter GPUs count here.")


def decode_bound_l4_answer() -> float:
    return tiers.decode_tokens_per_s_bound("Qwen/Qwen2.5-7B-Instruct", "bf16", "l4", 4096)


@answer_check(accepts=decode_bound_l4_answer)
def check_decode_bound_l4(answer_tokens_per_s) -> bool:
    """Exercise 3: decode tokens/s bound of Qwen2.5-7B-Instruct bf16 on one L4 at batch 1, 4,096 tokens of context."""
    expected = decode_bound_l4_answer()
    naive = get_gpu("l4")["memory_bandwidth_gbs"] * 1e9 / (models.count_parameters("Qwen/Qwen2.5-7B-Instruct")[0] * 2)
    if close_enough(answer_tokens_per_s, naive, 0.002):
        return report(False, "close: you divided by all weights. The input embedding is only indexed, and the KV "
                             "cache is read too; decode_bytes_per_token does both.")
    if close_enough(answer_tokens_per_s, expected * 2**30 / 1e9, 0.01):
        return report(False, "GB/s on the datasheet are 10^9 bytes per second, not GiB per second.")
    return report(close_enough(answer_tokens_per_s, expected, 0.01),
                  "bandwidth in bytes/s divided by the bytes read per generated token.")


def gain_per_doubling_answer() -> float:
    gains = tiers.gains_per_doubling(GAIN_BENCHMARK, "base", "Qwen2.5", "Qwen3 report").set_index("to_model")
    return float(gains.loc["Qwen2.5-72B", "points_per_doubling"])


@answer_check(accepts=gain_per_doubling_answer)
def check_gain_per_doubling(answer_points) -> bool:
    """Exercise 4: base GSM8K points per doubling of parameters from Qwen2.5-32B to Qwen2.5-72B (Qwen3 report rows)."""
    gains = tiers.gains_per_doubling(GAIN_BENCHMARK, "base", "Qwen2.5", "Qwen3 report").set_index("to_model")
    expected = gain_per_doubling_answer()
    raw = float(gains.loc["Qwen2.5-72B", "points_gained"])
    if close_enough(answer_points, raw, 0.005):
        return report(False, "that is the raw gain; divide by how many doublings 32B -> 72B is (log2 of the size ratio).")
    return report(close_enough(answer_points, expected, 0.02),
                  "points gained / log2(params_72B / params_32B), with parameter counts from the configs.")


def wizard_16gb_answer():
    result = tiers.recommend("text", tiers.PURPOSES[0], "rtx-4060-ti-16gb", 1, 8192, 1, 80)
    return result.recommended.split(" (")[0] if result.recommended else None


@answer_check(accepts=wizard_16gb_answer)
def check_wizard_16gb(answer_model_id) -> bool:
    """Exercise 5: the wizard's pick for text deployment on an RTX 4060 Ti 16 GB, 8K context, MMLU-Redux >= 80."""
    expected = wizard_16gb_answer()
    if answer_model_id is None:
        return report(False, "call recommend(...) and read .choice.model (the model its first line names).")
    given = "Qwen/" + str(answer_model_id).split(" (")[0].removeprefix("Qwen/")
    try:
        score = tiers.post_trained_score(given, tiers.DEPLOY_TEXT_BENCHMARK)
    except ValueError:  # not a model id at all: the plain hint below
        score = None
    if given != expected and score is not None and score < 80:
        return report(False, "that model fits, but check its published MMLU-Redux against the need of 80.")
    if given != expected and score is not None:
        return report(False, "that one passes the need, but is it the smallest that does? The wizard picks the smallest model that meets the need.")
    return report(expected is not None and given == expected,
                  "use modality 'text', purpose PURPOSES[0], gpu 'rtx-4060-ti-16gb', 1 GPU, 8192 tokens, batch 1, 80.")


# ---------------------------------------------------------------- the formula cell (not an exercise)


def check_formula_peak_bytes(formula) -> bool:
    """Section 2's formula cell against memory.inference_memory: every checkpoint and format the calculator
    offers, short and long prompts, batch 1 and 4; the cases whose peak holds a term the cell leaves out (GPTQ's
    buffer, a hybrid's state, the loading moment) are skipped, as the cell says."""
    def cases():
        for model_id in models.model_ids(memory_modelled=True):
            ckpt = models.resolve(model_id, memory_modelled=True)
            limit = ckpt["max_position_embeddings"] or models.longest_context(ckpt) or 10**9
            for quantization in memory.QUANTIZATIONS:
                weights = sum(memory.weights_bytes(model_id, quantization).values())
                for prompt, output, batch in ((1, 2048, 1), (6144, 2048, 1), (30720, 2048, 1), (2048, 512, 4)):
                    if prompt + output > limit:
                        continue
                    used = memory.inference_memory(model_id, quantization, prompt, output, batch)
                    if used.quant_scratch_gib or used.linear_state_gib or used.peak_phase == "loading":
                        continue
                    yield (f"{model_id} in {quantization}, {prompt:,} + {output:,} tokens, batch {batch}",
                           (weights, memory.kv_bytes_per_token(model_id), memory.prefill_bytes_per_token(model_id),
                            ckpt["vocab_size"], prompt, output, batch), used.total_gib * GIB)

    return check_formula(formula, cases(), "peak-memory", rel_tol=1e-9)
