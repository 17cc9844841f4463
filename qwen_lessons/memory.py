"""Inference memory of a Qwen checkpoint: weights by precision, KV cache, prefill working memory, runtime extras.

The model is physical: every term is a count of tensors that exist on the GPU at the moment of the peak,
computed from the checkpoint's real config (qwen_lessons.catalog.get_architecture). It is held against
Qwen's published peak-memory measurements (data/speed_benchmark_qwen25.csv) by published_memory_comparison().
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from types import MappingProxyType

import pandas as pd

from qwen_lessons.data import read_table
from qwen_lessons.units import GIB

SPEED_FILE = "speed_benchmark_qwen25.csv"
ACT_BYTES = 2  # activations run in bf16/fp16 in every format below (GPTQ/AWQ kernels compute in fp16)
GROUP_SIZE = 128  # GPTQ/AWQ group size of Qwen's official checkpoints ("typically 128", Qwen docs)
FP8_BLOCK = 128  # fine-grained FP8 checkpoints keep one fp32 scale per 128 x 128 weight block


@dataclass(frozen=True)
class QuantFormat:
    """How one quantization stores a linear layer's weight, and what else it keeps on the GPU."""

    name: str
    bits: int  # bits per quantized weight
    group_scales: bool = False  # one fp16 scale (and one packed zero point) per GROUP_SIZE inputs per output
    g_idx: bool = False  # GPTQ keeps an int32 group index per input channel
    block_scales: bool = False  # FP8: one fp32 scale per FP8_BLOCK x FP8_BLOCK block
    dequant_scratch: bool = False  # ExLlama kernel keeps one fp16 buffer the size of the largest linear layer
    tied_load_copy: bool = False  # loading materialises an untied lm_head before tying (seen in AWQ rows)
    describe: str = ""


QUANTIZATIONS = MappingProxyType(
    {
        "bf16": QuantFormat("bf16", 16, describe="every weight in 16 bits"),
        "fp8": QuantFormat(
            "fp8", 8, block_scales=True, describe="linear weights in 8-bit float, fp32 scale per 128x128 block"
        ),
        "gptq-int8": QuantFormat(
            "gptq-int8", 8, group_scales=True, g_idx=True, describe="linear weights in 8 bits, fp16 scale per 128"
        ),
        "gptq-int4": QuantFormat(
            "gptq-int4",
            4,
            group_scales=True,
            g_idx=True,
            dequant_scratch=True,
            describe="linear weights in 4 bits, fp16 scale per 128, ExLlama dequantisation buffer",
        ),
        "awq": QuantFormat(
            "awq", 4, group_scales=True, tied_load_copy=True, describe="linear weights in 4 bits, fp16 scale per 128"
        ),
    }
)
KV_CACHE_BYTES = MappingProxyType({"auto": ACT_BYTES, "bf16": 2, "fp16": 2, "fp8": 1})
_ALIASES = {"fp16": "bf16", "bfloat16": "bf16", "int8": "gptq-int8", "int4": "gptq-int4", "awq-int4": "awq"}


def normalize_quantization(quantization: str) -> str:
    """Map a published or user spelling ('BF16', 'GPTQ-Int4', 'AWQ') to a key of QUANTIZATIONS."""
    key = str(quantization).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {list(QUANTIZATIONS)}, got {quantization!r}")
    return key


def normalize_model_id(model_id: str) -> str:
    """Accept 'Qwen2.5-7B-Instruct' as well as 'Qwen/Qwen2.5-7B-Instruct'."""
    text = str(model_id).strip()
    return text if "/" in text else f"Qwen/{text}"


@cache
def _architecture(model_id: str) -> MappingProxyType:
    from qwen_lessons.catalog import get_architecture

    return MappingProxyType(get_architecture(model_id))


def architecture(model_id: str) -> MappingProxyType:
    """The checkpoint's config (read-only), from the course's architecture table; ValueError lists valid ids."""
    model_id = normalize_model_id(model_id)
    arch = _architecture(model_id)
    if arch.get("architecture") == "qwen3_next" or (arch.get("vocab_size") is None):
        raise ValueError(
            f"model_id {model_id!r}: hybrid linear-attention checkpoints (and rows without vocab_size) are not "
            "covered by this memory model; choose a Qwen2.5 or Qwen3 dense/MoE checkpoint"
        )
    return arch


@cache
def _memory_model_ids() -> tuple[str, ...]:
    from qwen_lessons.catalog import load_architectures

    ids = []
    for model_id in load_architectures()["model_id"]:
        try:
            architecture(model_id)
        except ValueError:
            continue
        ids.append(model_id)
    return tuple(ids)


def memory_model_ids() -> list[str]:
    """Architecture rows this memory model covers (standard attention, complete config)."""
    return list(_memory_model_ids())


def _intermediate(arch, quant: str, model_id: str) -> int:
    """FFN width; Qwen's official quantized 72B checkpoints pad 29568 to 29696 (Qwen GPTQ docs)."""
    width = arch["intermediate_size"]
    if quant != "bf16" and quant != "fp8" and "Qwen2.5-72B" in model_id and width == 29568:
        return 29696
    return width


def linear_shapes(model_id: str, quantization: str = "bf16") -> list[tuple[str, int, int, int]]:
    """Every quantizable linear layer as (role, in_features, out_features, copies in the model)."""
    model_id = normalize_model_id(model_id)
    arch = architecture(model_id)
    quant = normalize_quantization(quantization)
    h, layers, hd = arch["hidden_size"], arch["num_hidden_layers"], arch["head_dim"]
    q_out, kv_out = arch["num_attention_heads"] * hd, arch["num_key_value_heads"] * hd
    shapes = [
        ("attn.q_proj", h, q_out, layers),
        ("attn.k_proj", h, kv_out, layers),
        ("attn.v_proj", h, kv_out, layers),
        ("attn.o_proj", q_out, h, layers),
    ]
    experts = arch.get("num_experts") or 0
    if experts:
        width = arch["moe_intermediate_size"]
        shapes += [
            ("moe.experts.gate_up", h, width, 2 * experts * layers),
            ("moe.experts.down", width, h, experts * layers),
        ]
        shared = arch.get("shared_expert_intermediate_size") or 0
        if shared:
            shapes += [("moe.shared.gate_up", h, shared, 2 * layers), ("moe.shared.down", shared, h, layers)]
    else:
        width = _intermediate(arch, quant, model_id)
        shapes += [("mlp.gate_up", h, width, 2 * layers), ("mlp.down", width, h, layers)]
    return shapes


@cache
def _counts(model_id: str) -> tuple[int, int, int, int]:
    """(total, active, embedding, lm_head) from lesson 1's config arithmetic, cached: widgets ask for them per update."""
    from qwen_lessons import catalog

    config = dict(_architecture(model_id))
    total, active = catalog.count_from_config(config)
    parts = catalog.parameter_breakdown(config)
    return total, active, parts["embedding"], parts["lm_head"]


def parameter_breakdown(model_id: str) -> dict[str, int]:
    """Parameters by how they are stored: quantizable linear layers, embedding, untied lm_head, the small rest."""
    model_id = normalize_model_id(model_id)
    linear = sum(i * o * n for _, i, o, n in linear_shapes(model_id))
    total, _, embedding, lm_head = _counts(model_id)
    # the rest (norms, biases, routers) is whatever lesson 1's count holds beyond these three
    return {"linear": linear, "embedding": embedding, "lm_head": lm_head, "norms_biases_router": total - linear - embedding - lm_head}


def total_parameters(model_id: str) -> int:
    """All parameters of the checkpoint (tied embeddings counted once), as lesson 1 counts them."""
    return _counts(normalize_model_id(model_id))[0]


def active_parameters(model_id: str) -> int:
    """Parameters one token passes through: for MoE only num_experts_per_tok experts of each layer."""
    return _counts(normalize_model_id(model_id))[1]


def weights_bytes(model_id: str, quantization: str = "bf16") -> dict[str, float]:
    """Bytes of resident weights by part: quantized linear weights, their scales/zeros/indices, the 16-bit rest."""
    model_id = normalize_model_id(model_id)
    quant = normalize_quantization(quantization)
    fmt = QUANTIZATIONS[quant]
    parts = parameter_breakdown(model_id)
    shapes = linear_shapes(model_id, quant)
    linear = sum(i * o * n for _, i, o, n in shapes)
    out = {"linear_weights": linear * fmt.bits / 8, "scales_and_zeros": 0.0, "unquantized_16bit": 0.0}
    if fmt.group_scales:
        groups = sum(-(-i // GROUP_SIZE) * o * n for _, i, o, n in shapes)
        out["scales_and_zeros"] += groups * (2 + fmt.bits / 8)  # fp16 scale + one packed zero point per group
    if fmt.g_idx:
        out["scales_and_zeros"] += sum(i * n for _, i, _, n in shapes) * 4
    if fmt.block_scales:
        blocks = sum(-(-i // FP8_BLOCK) * -(-o // FP8_BLOCK) * n for _, i, o, n in shapes)
        out["scales_and_zeros"] += blocks * 4
    out["unquantized_16bit"] = (parts["embedding"] + parts["lm_head"] + parts["norms_biases_router"]) * 2
    return out


def kv_bytes_per_token(model_id: str, kv_cache_dtype: str = "auto") -> int:
    """KV-cache bytes per token: 2 (K and V) x layers x KV heads x head_dim x bytes per element."""
    if kv_cache_dtype not in KV_CACHE_BYTES:
        raise ValueError(f"kv_cache_dtype must be one of {list(KV_CACHE_BYTES)}, got {kv_cache_dtype!r}")
    arch = architecture(model_id)
    return 2 * arch["num_hidden_layers"] * arch["num_key_value_heads"] * arch["head_dim"] * KV_CACHE_BYTES[kv_cache_dtype]


def prefill_bytes_per_token(model_id: str) -> int:
    """Transient activation bytes per prompt token at the busiest moment of one layer's forward pass."""
    arch = architecture(model_id)
    h, hd = arch["hidden_size"], arch["head_dim"]
    nq, nkv = arch["num_attention_heads"], arch["num_key_value_heads"]
    # attention block: residual + normed input + q, k, v + rotated q, k + attention output
    attention = 2 * h + 2 * h + (2 * nq + 3 * nkv) * hd + nq * hd
    # RMSNorm upcasts to fp32: residual (16-bit) + fp32 copy + fp32 square
    norm = 2 * h + 4 * h + 4 * h
    experts = arch.get("num_experts") or 0
    if experts:
        k, width = arch["num_experts_per_tok"], arch["moe_intermediate_size"]
        # residual, normed input, output accumulator; router logits (16-bit) + fp32 softmax; int64 one-hot mask;
        # then one expert at a time on its share of tokens (balanced routing: k / experts of them)
        mlp = 3 * 2 * h + experts * (2 + 4) + 8 * k * experts + (2 * h + 3 * 2 * width) * k / experts
    else:
        # residual + normed input alive while act(gate), up and their product exist together
        mlp = 2 * h + 2 * h + 3 * ACT_BYTES * arch["intermediate_size"]
    return int(max(attention, norm, mlp))


@dataclass(frozen=True)
class MemoryBreakdown:
    """Peak inference memory by term, in GiB (2**30 bytes), as torch.cuda.max_memory_allocated would count it."""

    model_id: str
    quantization: str
    input_tokens: int
    output_tokens: int
    batch: int
    num_gpus: int
    kv_cache_dtype: str
    weights_gib: float
    quant_scratch_gib: float
    kv_cache_gib: float
    prefill_kv_gib: float
    prefill_activations_gib: float
    runtime_gib: float
    loading_extra_gib: float
    peak_phase: str
    total_gib: float

    def as_dict(self) -> dict:
        """All fields as a plain dict."""
        return asdict(self)

    def terms(self) -> pd.DataFrame:
        """The breakdown as a table: term, GiB, whether it counts at the peak, and what it is."""
        at_peak = {
            "prefill": {"weights", "quant_scratch", "prefill_kv", "prefill_activations"},
            "decode": {"weights", "quant_scratch", "kv_cache", "runtime"},
            "loading": {"weights", "loading_extra"},
        }[self.peak_phase]
        rows = [
            ("weights", self.weights_gib, "resident weights incl. scales, zero points and group indices"),
            ("quant_scratch", self.quant_scratch_gib, "kernel buffer for dequantised weights (GPTQ-Int4/ExLlama)"),
            ("kv_cache", self.kv_cache_gib, "K and V of every layer for input + output tokens (end of decoding)"),
            ("prefill_kv", self.prefill_kv_gib, "K and V of the prompt, held while the prompt is processed"),
            ("prefill_activations", self.prefill_activations_gib, "transient tensors of one layer over the prompt"),
            ("runtime", self.runtime_gib, "next-token logits and probabilities in fp32"),
            ("loading_extra", self.loading_extra_gib, "temporary copy while loading (untied lm_head)"),
        ]
        table = pd.DataFrame(rows, columns=["term", "gib", "meaning"])
        table.insert(2, "at_peak", table["term"].isin(at_peak))
        return table


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def max_context(model_id: str) -> int | None:
    """The checkpoint's max_position_embeddings (None when the course has not verified it)."""
    return architecture(model_id).get("max_position_embeddings")


def inference_memory(
    model_id: str,
    quantization: str = "bf16",
    input_tokens: int = 1,
    output_tokens: int = 2048,
    batch: int = 1,
    *,
    num_gpus: int = 1,
    kv_cache_dtype: str = "auto",
    attention: str = "flash",
) -> MemoryBreakdown:
    """Peak GPU memory to generate output_tokens after input_tokens, summed over num_gpus (layer-split) GPUs.

    attention="flash" (as measured by Qwen) never stores the prompt x prompt score matrix; attention="eager"
    does, adding a term that grows with the square of the prompt (not validated against a measurement).
    """
    model_id = normalize_model_id(model_id)
    quant = normalize_quantization(quantization)
    input_tokens = _check_count("input_tokens", input_tokens, 1)
    output_tokens = _check_count("output_tokens", output_tokens, 0)
    batch = _check_count("batch", batch, 1)
    num_gpus = _check_count("num_gpus", num_gpus, 1)
    arch = architecture(model_id)
    limit = max_context(model_id)
    if limit is not None and input_tokens + output_tokens > limit:
        raise ValueError(
            f"input_tokens + output_tokens = {input_tokens + output_tokens:,} exceeds the maximum context of "
            f"{model_id} ({limit:,} tokens, max_position_embeddings)"
        )
    if attention not in ("flash", "eager"):
        raise ValueError(f"attention must be 'flash' or 'eager', got {attention!r}")
    fmt = QUANTIZATIONS[quant]
    weights = sum(weights_bytes(model_id, quant).values())
    scratch = 0.0
    if fmt.dequant_scratch:
        scratch = max(i * o for _, i, o, _ in linear_shapes(model_id, quant)) * 2 * num_gpus
    per_token_kv = kv_bytes_per_token(model_id, kv_cache_dtype)
    kv_end = per_token_kv * (input_tokens + output_tokens) * batch
    kv_prompt = per_token_kv * input_tokens * batch
    # each GPU of a layer split reaches its own activation peak; the published figure sums the peaks
    activations = prefill_bytes_per_token(model_id) * input_tokens * batch * num_gpus
    if attention == "eager":
        # one layer's scores: 16-bit matmul output, fp32 softmax, 16-bit copy, for every query head
        activations += 8 * arch["num_attention_heads"] * input_tokens**2 * batch * num_gpus
    runtime = arch["vocab_size"] * 4 * 2 * batch
    loading = 0.0
    if fmt.tied_load_copy and arch["tie_word_embeddings"]:
        loading = arch["vocab_size"] * arch["hidden_size"] * 2
    base = weights + scratch
    phases = {
        "prefill": base + kv_prompt + activations,
        "decode": base + kv_end + runtime,
        "loading": weights + loading,  # before the kernels allocate their buffers
    }
    peak_phase = max(phases, key=phases.get)
    total = phases[peak_phase]
    return MemoryBreakdown(
        model_id=model_id,
        quantization=quant,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        batch=batch,
        num_gpus=num_gpus,
        kv_cache_dtype=kv_cache_dtype,
        weights_gib=weights / GIB,
        quant_scratch_gib=scratch / GIB,
        kv_cache_gib=kv_end / GIB,
        prefill_kv_gib=kv_prompt / GIB,
        prefill_activations_gib=activations / GIB,
        runtime_gib=runtime / GIB,
        loading_extra_gib=loading / GIB,
        peak_phase=peak_phase,
        total_gib=total / GIB,
    )


def naive_weights_gib(model_id: str, quantization: str = "bf16") -> float:
    """What simple calculators count: every parameter at the format's nominal bits, no scales, nothing unquantized."""
    return total_parameters(model_id) * QUANTIZATIONS[normalize_quantization(quantization)].bits / 8 / GIB


def rule_weights_times_1_2(model_id: str, quantization: str = "bf16") -> float:
    """Rule of thumb 1 (EleutherAI / HF model-memory calculator): inference needs weights x 1.2."""
    return 1.2 * naive_weights_gib(model_id, quantization)


def rule_weights_plus_kv(
    model_id: str, quantization: str = "bf16", input_tokens: int = 1, output_tokens: int = 2048, batch: int = 1
) -> float:
    """Rule of thumb 2: nominal weights plus the KV cache of input + output tokens, nothing else."""
    input_tokens = _check_count("input_tokens", input_tokens, 1)
    output_tokens = _check_count("output_tokens", output_tokens, 0)
    batch = _check_count("batch", batch, 1)
    kv = kv_bytes_per_token(model_id) * (input_tokens + output_tokens) * batch / GIB
    return naive_weights_gib(model_id, quantization) + kv


_SPEED_DTYPES = {
    "model_id": "string",
    "quantization": "string",
    "framework": "string",
    "gpu": "string",
    "gpu_id": "string",
    "gpu_num": "Int64",
    "batch_size": "Int64",
    "input_length": "Int64",
    "output_length": "Int64",
    "tokens_per_s": "float64",
    "peak_memory_gib": "float64",
    "speed_definition": "string",
    "memory_definition": "string",
    "note": "string",
    "source": "string",
}


def load_speed_benchmark() -> pd.DataFrame:
    """Qwen's published Qwen2.5 speed/memory table (A100 80GB, batch 1, 2048 generated tokens)."""
    return read_table(SPEED_FILE, dtypes=_SPEED_DTYPES, required=tuple(_SPEED_DTYPES))


@lru_cache(maxsize=1)
def _comparison() -> pd.DataFrame:
    rows = load_speed_benchmark()
    rows = rows[rows["peak_memory_gib"].notna()]
    records = []
    for row in rows.itertuples(index=False):
        est = inference_memory(
            row.model_id, row.quantization, int(row.input_length), int(row.output_length), int(row.batch_size),
            num_gpus=int(row.gpu_num),
        )
        rule1 = rule_weights_times_1_2(row.model_id, row.quantization)
        rule2 = rule_weights_plus_kv(row.model_id, row.quantization, int(row.input_length), int(row.output_length))
        measured = float(row.peak_memory_gib)
        records.append(
            {
                "model_id": row.model_id,
                "quantization": est.quantization,
                "input_length": int(row.input_length),
                "gpu_num": int(row.gpu_num),
                "measured_gib": measured,
                "model_gib": est.total_gib,
                "peak_phase": est.peak_phase,
                "rule_1_2x_gib": rule1,
                "rule_weights_kv_gib": rule2,
                "model_error": est.total_gib / measured - 1,
                "rule_1_2x_error": rule1 / measured - 1,
                "rule_weights_kv_error": rule2 / measured - 1,
            }
        )
    return pd.DataFrame(records)


def published_memory_comparison() -> pd.DataFrame:
    """Every published transformers peak-memory row next to this model and the two rules of thumb (errors signed)."""
    return _comparison().copy()


def error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and worst absolute relative error of the model and of both rules of thumb over the published rows."""
    table = published_memory_comparison() if comparison is None else comparison
    out = []
    for label, column in [
        ("physical model", "model_error"),
        ("rule: weights x 1.2", "rule_1_2x_error"),
        ("rule: weights + KV cache", "rule_weights_kv_error"),
    ]:
        errors = table[column].abs()
        out.append({"estimate": label, "rows": len(errors), "median_abs_error": errors.median(), "worst_abs_error": errors.max()})
    return pd.DataFrame(out)


def context_curve(
    model_id: str,
    quantization: str = "bf16",
    contexts: list[int] | None = None,
    output_tokens: int = 0,
    batch: int = 1,
    attention: str = "flash",
) -> pd.DataFrame:
    """Peak memory as the prompt grows: constant weight term and context-dependent terms side by side."""
    model_id = normalize_model_id(model_id)
    limit = max_context(model_id) or 32768
    if contexts is None:
        contexts = [c for c in (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072) if c + output_tokens <= limit]
    rows = []
    for tokens in contexts:
        est = inference_memory(model_id, quantization, tokens, output_tokens, batch, attention=attention)
        rows.append(
            {
                "context_tokens": tokens,
                "weights_gib": est.weights_gib + est.quant_scratch_gib,
                "kv_cache_gib": est.kv_cache_gib,
                "prefill_activations_gib": est.prefill_activations_gib if est.peak_phase == "prefill" else 0.0,
                "total_gib": est.total_gib,
            }
        )
    return pd.DataFrame(rows)
