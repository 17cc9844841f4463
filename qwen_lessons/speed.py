"""Lesson 7 (07_choosing_a_tier): speed bounds. Decode is bound by memory bandwidth, prefill by compute; Qwen's
published speeds next to those bounds. Re-exported by qwen_lessons.tiers, where the lesson reads them.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from qwen_lessons import memory, models
from qwen_lessons.hardware import get_gpu
from qwen_lessons.validation import checked, integer

# ---------------------------------------------------------------------------------------------------------------
# Speed: decode is bound by memory bandwidth, prefill by compute
# ---------------------------------------------------------------------------------------------------------------


@checked(kv_cache_dtype=memory.KV_CACHE_DTYPE)
def decode_bytes_per_token(
    model_id, quantization: str = "bf16", context_tokens: int = 1, batch: int = 1, kv_cache_dtype: str = "auto"
) -> float:
    """Bytes read from memory to generate one token per sequence: weights touched once per step + every KV entry."""
    arch = models.resolve(model_id, memory_modelled=True)
    # a mean context (input + output / 2) may be fractional, so any number >= 0 is accepted
    parts = memory.weights_bytes(arch, quantization)
    resident = sum(parts.values())
    if not arch["tie_word_embeddings"]:
        # an untied input embedding is only indexed (one row per token), not streamed
        resident -= arch["vocab_size"] * arch["hidden_size"] * 2
    experts = arch["num_experts"]
    if experts:
        decoder = arch.decoder_matrices
        expert_share = sum(m.weights for m in decoder if m.part == "experts")
        total_linear = sum(m.weights for m in decoder)
        expert_bytes = (parts["linear_weights"] + parts["scales_and_zeros"]) * expert_share / total_linear
        # each sequence picks k experts per layer; with a batch, the distinct experts touched grow
        touched = experts * (1 - (1 - arch["num_experts_per_tok"] / experts) ** batch)
        resident -= expert_bytes * (1 - touched / experts)
    kv = memory.kv_bytes_per_token(arch, kv_cache_dtype) * context_tokens * batch
    state = 2 * memory.linear_state_bytes(arch) * batch  # linear-attention state: read and written every step
    return resident + kv + state


@checked
def decode_tokens_per_s_bound(
    model_id, quantization: str, gpu_id: str, context_tokens: int = 1, batch: int = 1, num_gpus: int = 1
) -> float:
    """Upper bound on generated tokens/s (all sequences): bandwidth / bytes per step; tensor parallel adds GPUs."""
    gpu = get_gpu(gpu_id)
    if not gpu["memory_bandwidth_gbs"]:
        raise ValueError(f"gpu_id {gpu_id!r} has no verified memory bandwidth")
    bandwidth = gpu["memory_bandwidth_gbs"] * 1e9 * num_gpus
    return batch * bandwidth / decode_bytes_per_token(model_id, quantization, context_tokens, batch)


@checked
def prefill_flops(model_id, input_tokens: int, batch: int = 1) -> float:
    """FLOPs to process a prompt: 2 x active parameters per token + causal attention scores and mixing."""
    arch = models.resolve(model_id, memory_modelled=True)
    batch = batch
    linear = 2 * models.count_parameters(arch)[1] * input_tokens
    # causal softmax attention grows with the square of the prompt, in the layers that have it
    attention = 2 * arch.kv_layers * arch["num_attention_heads"] * arch["head_dim"] * input_tokens**2
    # a Gated DeltaNet layer updates and reads its key x value state once per token: linear in the prompt
    delta_rule = (4 * arch.linear_layers * arch["linear_num_value_heads"] * arch["linear_key_head_dim"]
                  * arch["linear_value_head_dim"] * input_tokens)
    return (linear + attention + delta_rule) * batch


@checked
def prefill_seconds_bound(model_id, gpu_id: str, input_tokens: int, batch: int = 1, num_gpus: int = 1):
    """Lower bound on prompt-processing time from dense bf16 throughput (None when the GPU's TFLOPS are unverified)."""
    tflops = get_gpu(gpu_id)["bf16_tflops"]
    if not tflops:
        return None
    return prefill_flops(model_id, input_tokens, batch) / (tflops * 1e12 * num_gpus)


@checked(output_tokens=integer(1, 10_000_000, "tokens"))
def generation_tokens_per_s_bound(
    model_id,
    quantization: str,
    gpu_id: str,
    input_tokens: int,
    output_tokens: int = 2048,
    batch: int = 1,
    num_gpus_bandwidth: int = 1,
) -> float:
    """Upper bound on Qwen's published speed (output tokens / wall time incl. prefill) for one configuration."""
    gpu = get_gpu(gpu_id)
    if not gpu["memory_bandwidth_gbs"]:
        raise ValueError(f"gpu_id {gpu_id!r} has no verified memory bandwidth")
    input_tokens = input_tokens
    bandwidth = gpu["memory_bandwidth_gbs"] * 1e9 * num_gpus_bandwidth
    # the KV cache grows linearly during decoding, so the mean context gives the exact total of a linear sum
    mean_context = input_tokens + output_tokens / 2
    ckpt = models.resolve(model_id, memory_modelled=True)
    decode = output_tokens * decode_bytes_per_token(ckpt, quantization, mean_context, batch) / bandwidth
    prefill = prefill_seconds_bound(ckpt, gpu_id, input_tokens, batch, num_gpus_bandwidth) or 0.0
    return output_tokens * batch / (prefill + decode)


@checked
def published_speed_comparison(framework: str | None = None) -> pd.DataFrame:
    """Published tokens/s next to the bandwidth/compute bound on the same GPU; achieved fraction = published / bound."""
    table = _speed_comparison()
    if framework is not None:
        if framework not in set(table["framework"]):
            raise ValueError(f"framework must be one of {sorted(set(table['framework']))}, got {framework!r}")
        table = table[table["framework"] == framework]
    return table.reset_index(drop=True).copy()


@lru_cache(maxsize=1)
def _speed_comparison() -> pd.DataFrame:
    rows = []
    for row in memory.load_speed_benchmark().itertuples(index=False):
        # transformers splits layers across GPUs (one works at a time); vLLM splits every layer (all work at once)
        parallel = int(row.gpu_num) if row.framework == "vLLM" else 1
        ckpt = models.resolve(row.model_id, memory_modelled=True)
        bound = generation_tokens_per_s_bound(
            ckpt, row.quantization, row.gpu_id, int(row.input_length), int(row.output_length),
            int(row.batch_size), parallel,
        )
        rows.append(
            {
                "model_id": row.model_id,
                "params_b": models.count_parameters(ckpt)[0] / 1e9,
                "quantization": memory.normalize_quantization(row.quantization),
                "framework": row.framework,
                "gpu_num": int(row.gpu_num),
                "input_length": int(row.input_length),
                "published_tokens_per_s": float(row.tokens_per_s),
                "bound_tokens_per_s": bound,
                "achieved_fraction": float(row.tokens_per_s) / bound,
                # time per token beyond the bound: kernel launches, Python, sampling (the framework's share)
                "overhead_ms_per_token": (1 / float(row.tokens_per_s) - 1 / bound) * 1000,
            }
        )
    return pd.DataFrame(rows)


@checked
def achieved_fraction_summary() -> pd.DataFrame:
    """Median (and range) of published / bound by framework and model size, at the shortest input."""
    table = published_speed_comparison()
    table = table[table["input_length"] == 1]
    summary = table.groupby(["framework", "model_id"], sort=False)["achieved_fraction"].agg(["median", "min", "max"])
    return summary.reset_index()
