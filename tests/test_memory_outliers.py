"""Issue 32: the four transformers inference rows of Qwen's Qwen2 table beyond 25%, each explained by a stated term:
the output head's load-time copy (GPTQ under AutoGPTQ 0.7.1, as AWQ) and the last GPU of a layer split, whose peak
is the prompt's logits while the other GPUs keep their own layer peak."""

from __future__ import annotations

import pytest

from qwen_lessons import memory, models
from qwen_lessons.units import GIB

QWEN2 = "Qwen2 docs (2024-09)"


def qwen2_row(model_id, quantization, tokens, gpus):
    table = memory.generations_memory_comparison()
    match = table[(table["table"] == QWEN2) & (table["model_id"] == model_id) & (table["quantization"] == quantization)
                  & (table["input_length"] == tokens) & (table["gpu_num"] == gpus)]
    assert len(match) == 1
    return match.iloc[0]


@pytest.mark.parametrize("model_id, quantization, tokens, gpus, before", [
    ("Qwen/Qwen2-0.5B-Instruct", "gptq-int4", 1, 1, -0.32),
    ("Qwen/Qwen2-0.5B-Instruct", "gptq-int8", 1, 1, -0.27),
    ("Qwen/Qwen2-1.5B-Instruct", "gptq-int4", 1, 1, -0.31),
    ("Qwen/Qwen2-72B-Instruct", "gptq-int4", 30720, 2, -0.30),
])
def test_the_four_rows_are_inside_a_quarter(model_id, quantization, tokens, gpus, before):
    row = qwen2_row(model_id, quantization, tokens, gpus)
    assert abs(row["model_error"]) <= 0.25, (model_id, quantization, row["model_error"], "was", before)


def test_the_gptq_load_copy_is_the_tied_output_head_and_only_under_its_stack():
    # Qwen2-0.5B-Instruct at one prompt token: GPTQ-Int4 prints 0.68 GB, exactly its AWQ row; the difference to the
    # weights is the fp16 tied head, 151,936 x 896 x 2 bytes
    gptq, awq = qwen2_row("Qwen/Qwen2-0.5B-Instruct", "gptq-int4", 1, 1), qwen2_row("Qwen/Qwen2-0.5B-Instruct", "awq", 1, 1)
    assert gptq["measured_gib"] == awq["measured_gib"] == 0.68
    with_copy = memory.inference_memory("Qwen/Qwen2-0.5B-Instruct", "gptq-int4", 1, 2048, gptq_load_copy=True)
    without = memory.inference_memory("Qwen/Qwen2-0.5B-Instruct", "gptq-int4", 1, 2048)
    assert with_copy.loading_extra_gib == pytest.approx(151_936 * 896 * 2 / GIB)
    assert without.loading_extra_gib == 0 and with_copy.peak_phase == "loading"
    # Qwen2.5's table (auto_gptq 0.6.0), same layer shapes, shows no copy: its rows keep the format's default
    speed = memory.published_memory_comparison()
    row = speed[(speed["model_id"] == "Qwen/Qwen2.5-0.5B-Instruct") & (speed["quantization"] == "gptq-int4")
                & (speed["input_length"] == 1)].iloc[0]
    assert row["measured_gib"] == 0.48 and abs(row["model_error"]) < 0.07
    assert memory.inference_error_summary().set_index("estimate").loc["physical model", "worst_abs_error"] < 0.07
    with pytest.raises(ValueError, match="gptq_load_copy must be True or False"):
        memory.inference_memory("Qwen/Qwen2-0.5B-Instruct", "gptq-int4", gptq_load_copy="yes")
    # AWQ keeps its copy either way; bf16 has none to make
    assert memory.inference_memory("Qwen/Qwen2-0.5B-Instruct", "bf16", 1, 2048, gptq_load_copy=True).loading_extra_gib == 0


def test_the_last_gpu_holds_the_logits_the_others_their_layer_peak():
    model, tokens = "Qwen/Qwen2-72B-Instruct", 30720
    one_layer = memory.prefill_bytes_per_token(model) * tokens
    logits = (2 + 4) * models.resolve(model)["vocab_size"] * tokens  # bf16 logits and their fp32 copy (4.38.2)
    assert logits > one_layer
    two = memory.inference_memory(model, "gptq-int4", tokens, 2048, num_gpus=2, whole_prompt_logits=True)
    # the sum of the GPUs' peaks: GPU 0's layer peak + GPU 1's logits (not the larger of 2 layer peaks and the logits)
    assert two.prefill_activations_gib == pytest.approx((one_layer + logits) / GIB)
    base = two.weights_gib + two.quant_scratch_gib + two.prefill_kv_gib
    assert two.total_gib == pytest.approx(base + (one_layer + logits) / GIB)
    one = memory.inference_memory(model, "gptq-int4", tokens, 2048, num_gpus=1, whole_prompt_logits=True)
    assert one.total_gib == pytest.approx(one.weights_gib + one.quant_scratch_gib + one.prefill_kv_gib + logits / GIB)
