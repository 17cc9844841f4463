"""Lesson 7 (07_choosing_a_tier): the usual sizing advice checked against the course's memory, speed and quality
numbers, and the longest context each model fits on each GPU."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qwen_lessons import memory, models
from qwen_lessons.catalog import context_limit
from qwen_lessons.hardware import DEFAULT_HEADROOM, get_gpu, memory_gib
from qwen_lessons.scores import base_score, gains_per_doubling
from qwen_lessons.speed import decode_tokens_per_s_bound
from qwen_lessons.validation import checked

@checked
def max_context_that_fits(model_id: str, quantization: str, gpu_id: str, headroom: float = DEFAULT_HEADROOM,
                          batch: int = 1, output_tokens: int = 1024) -> int:
    """Longest prompt + answer (tokens) that fits one GPU with headroom (0 if even a 1-token prompt does not)."""
    usable = memory_gib(gpu_id) * (1 - headroom)
    limit = context_limit(model_id) or 32768  # documented context, not the config's position limit
    low, high = 0, limit - output_tokens
    if memory.inference_memory(model_id, quantization, 1, output_tokens, batch).total_gib > usable:
        return 0
    while low < high:  # memory only grows with the prompt, so bisection finds the edge
        mid = (low + high + 1) // 2
        if memory.inference_memory(model_id, quantization, max(mid, 1), output_tokens, batch).total_gib <= usable:
            low = mid
        else:
            high = mid - 1
    return low + output_tokens


@checked
def linearity(model_id: str, quantization: str = "bf16", attention: str = "flash") -> dict:
    """Straight-line fit of peak memory vs prompt length: intercept (~weights), slope per token, worst deviation."""
    curve = memory.context_curve(model_id, quantization, output_tokens=0, attention=attention)
    x, y = curve["context_tokens"].to_numpy(float), curve["total_gib"].to_numpy(float)
    slope, intercept = np.polyfit(x, y, 1)
    worst = float(np.max(np.abs(y - (slope * x + intercept)) / y))
    return {"intercept_gib": float(intercept), "slope_mib_per_token": float(slope * 1024), "worst_deviation": worst,
            "contexts": (int(x[0]), int(x[-1]))}


@checked
def check_usual_advice(headroom: float = DEFAULT_HEADROOM) -> pd.DataFrame:
    """Each piece of the usual sizing advice with a verdict and the course's computed evidence."""
    rows = []
    q7 = "Qwen/Qwen2.5-7B-Instruct"
    n16 = max_context_that_fits(q7, "gptq-int4", "rtx-4060-ti-16gb", headroom)
    rows.append(("A 7B instruct fits a 16 GB GPU at 4-bit", "holds" if n16 >= 8192 else "holds only for short context",
                 f"Qwen2.5-7B-Instruct GPTQ-Int4 fits a 16 GB card with {headroom:.0%} headroom up to {n16:,} tokens "
                 f"(its documented context is {context_limit(q7):,})."))
    for gpu_id in ("a10g", "l4"):
        n = max_context_that_fits(q7, "bf16", gpu_id, headroom)
        rows.append((f"A 7B instruct in bf16 fits one {get_gpu(gpu_id)['name']} ({get_gpu(gpu_id)['memory_gb']:g} GB)", "holds" if n >= 8192 else "holds only for short context",
                     f"in bf16 up to {n:,} tokens at batch 1; {max_context_that_fits(q7, 'bf16', gpu_id, headroom, batch=8):,} "
                     "tokens per sequence at batch 8."))
    lin = linearity(q7)
    eager = linearity(q7, attention="eager")
    rows.append(("Memory grows roughly linearly with context",
                 "holds with flash attention" if lin["worst_deviation"] < 0.05 else "does not hold",
                 f"Qwen2.5-7B-Instruct bf16, {lin['contexts'][0]:,}-{lin['contexts'][1]:,} tokens: a straight line "
                 f"{lin['intercept_gib']:.1f} GiB + {lin['slope_mib_per_token']:.3f} MiB/token is off by at most "
                 f"{lin['worst_deviation']:.1%} (slope = KV cache + the prompt's working memory; intercept = weights). "
                 f"With eager attention the score matrix grows with the square of the prompt and a line is off by "
                 f"up to {eager['worst_deviation']:.0%}."))
    speeds = {m: decode_tokens_per_s_bound(m, "bf16", "a100-80gb") for m in
              ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-72B-Instruct")}
    s7, s32, s72 = speeds.values()
    rows.append(("7B for high-throughput, cost-sensitive work", "holds",
                 f"decode bound on one A100 80GB, bf16, batch 1: 7B {s7:.0f}, 32B {s32:.0f}, 72B {s72:.0f} tokens/s "
                 f"({s7 / s32:.1f}x and {s7 / s72:.1f}x faster); at equal quality need it is the cheapest tier."))
    gains = gains_per_doubling("MATH", "base", "Qwen2.5", "Qwen3 report").set_index("to_model")
    math72 = base_score("Qwen/Qwen2.5-72B", "MATH")
    math32 = base_score("Qwen/Qwen2.5-32B", "MATH")
    n14 = max_context_that_fits("Qwen/Qwen2.5-14B-Instruct", "gptq-int4", "rtx-4090", headroom)
    n32 = max_context_that_fits("Qwen/Qwen2.5-32B-Instruct", "gptq-int4", "rtx-4090", headroom)
    verdict = "holds" if n14 >= 8192 and n32 >= 8192 else "holds for 14B; 32B only at short context" if n32 else "holds for 14B"
    rows.append(("14B-32B for structured reasoning on constrained hardware", verdict,
                 f"base MATH (4-shot CoT): 32B {math32:.1f} vs 72B {math72:.1f} ({math32 / math72:.0%} of it); "
                 f"the 14B->32B step adds {gains.loc['Qwen2.5-32B', 'points_gained']:.1f} points, 32B->72B "
                 f"{gains.loc['Qwen2.5-72B', 'points_gained']:.1f}. On one 24 GB RTX 4090 with {headroom:.0%} headroom, "
                 f"4-bit 14B fits up to {n14:,} tokens and 4-bit 32B up to {n32:,}."))
    rows.append(("72B to compete with closed models", "not checkable here",
                 "data/benchmarks.csv holds only Qwen scores (no closed-model rows), so the comparison cannot be computed "
                 f"from the course's data; within Qwen2.5 the 72B leads the base MMLU ladder at "
                 f"{base_score('Qwen/Qwen2.5-72B', 'MMLU'):.1f}."))
    big = base_score("Qwen/Qwen3-235B-A22B", "MMLU")
    mid = base_score("Qwen/Qwen3-32B", "MMLU")
    w_big = memory.inference_memory("Qwen/Qwen3-235B-A22B", "gptq-int4", 7168, 1024).total_gib
    w_mid = memory.inference_memory("Qwen/Qwen3-32B", "gptq-int4", 7168, 1024).total_gib
    rows.append(("100B+ only when the tier below was benchmarked and found wanting", "consistent with the data",
                 f"Qwen3 base MMLU: 235B-A22B {big:.1f} vs 32B {mid:.1f} (+{big - mid:.1f} points) for "
                 f"{w_big / w_mid:.1f}x the memory at 4-bit ({w_big:.0f} vs {w_mid:.0f} GiB, 8K context): test the 32B first."))
    return pd.DataFrame(rows, columns=["advice", "verdict", "evidence"])


@checked
def gpu_limits_table(model_ids: list[str], quantization: str = "bf16", gpu_ids: list[str] | None = None,
                     headroom: float = DEFAULT_HEADROOM) -> pd.DataFrame:
    """Longest context (tokens) each model fits on each GPU at batch 1 (0 = does not fit at all)."""
    gpu_ids = gpu_ids or ["rtx-4060-ti-16gb", "rtx-4090", "l4", "a100-40gb", "a100-80gb", "h200-sxm"]
    # each distinct (model, GPU) pair is bisected once: a list that repeats ids (up to the list cap) costs no more
    # than the catalog itself
    fits = {(m, g): max_context_that_fits(m, quantization, g, headroom) for m in dict.fromkeys(model_ids)
            for g in gpu_ids}
    table = {g: [fits[m, g] for m in model_ids] for g in gpu_ids}
    return pd.DataFrame(table, index=[m.removeprefix("Qwen/") for m in model_ids])


@checked
def cache_by_context(model_ids: list[str], contexts: list[int] | None = None) -> pd.DataFrame:
    """What each model keeps per sequence as the context grows: the KV cache of its softmax-attention layers
    (grows with every token) and the state of its Gated DeltaNet layers (Qwen3-Next, Qwen3.5, Qwen3.6: fixed).
    Contexts past a model's max_position_embeddings are left empty."""
    contexts = contexts or [4096, 32768, 262144]
    rows = []
    for model_id in model_ids:
        ckpt = models.resolve(model_id, memory_modelled=True)
        per_token, state = memory.kv_bytes_per_token(ckpt), memory.linear_state_bytes(ckpt)
        limit = ckpt["max_position_embeddings"]
        row = {"model": ckpt.model_id.removeprefix("Qwen/"), "attention layers": ckpt.kv_layers,
               "linear-attention layers": ckpt.linear_layers}
        for tokens in contexts:
            fits = limit is None or tokens <= limit
            row[f"GiB at {tokens:,}"] = (per_token * tokens + state) / 2**30 if fits else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
