"""Lesson 7 (07_choosing_a_tier): inference memory of a Qwen checkpoint: weights by precision, KV cache, prefill working memory, runtime extras.

The model is physical: every term is a count of tensors that exist on the GPU at the moment of the peak,
computed from the checkpoint's one description (qwen_lessons.models.resolve). It is held against
Qwen's published peak-memory measurements (data/speed_benchmark_qwen25.csv) by published_memory_comparison().
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from types import MappingProxyType

import pandas as pd

from qwen_lessons import local_formats, models
from qwen_lessons.data import cached, read_table
from qwen_lessons.language import translate as _
from qwen_lessons.models import Checkpoint
from qwen_lessons.units import GIB
from qwen_lessons.validation import checked, one_of

SPEED_FILE = "speed_benchmark_qwen25.csv"
# Where loading a GPTQ checkpoint of a tied model materialised an untied fp16 output head, as AWQ does: Qwen2's table
# (transformers 4.38.2, AutoGPTQ 0.7.1) prints Qwen2-0.5B-Instruct's GPTQ-Int4 row at a one-token prompt at 0.68 GB,
# the same as its AWQ row and 0.25 GiB (151,936 x 896 x 2 bytes) above weights, scales and cache; Qwen2.5's table
# (auto_gptq 0.6.0) prints the same layer shapes at 0.48 GiB, without it. Matched in a row's stated environment.
GPTQ_TIED_COPY_STACK = "AutoGPTQ 0.7.1"
MEASUREMENTS_FILE = "memory_measurements.csv"
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
    release_layout: bool = False  # Qwen's own releases in this format pad some MLP widths (architectures.csv says)
    describe: str = ""


QUANTIZATIONS = MappingProxyType(
    {
        "bf16": QuantFormat("bf16", 16, describe="every weight in 16 bits"),
        "fp8": QuantFormat(
            "fp8", 8, block_scales=True, describe="linear weights in 8-bit float, fp32 scale per 128x128 block"
        ),
        "gptq-int8": QuantFormat(
            "gptq-int8", 8, group_scales=True, g_idx=True, release_layout=True, describe="linear weights in 8 bits, fp16 scale per 128"
        ),
        "gptq-int4": QuantFormat(
            "gptq-int4",
            4,
            group_scales=True,
            g_idx=True,
            dequant_scratch=True,
            release_layout=True,
            describe="linear weights in 4 bits, fp16 scale per 128, ExLlama dequantisation buffer",
        ),
        "awq": QuantFormat(
            "awq", 4, group_scales=True, tied_load_copy=True, release_layout=True, describe="linear weights in 4 bits, fp16 scale per 128"
        ),
    }
)
# llama.cpp's cache types (--cache-type-k/-v) are ggml blocks: q8_0 keeps 34 bytes per 32 values, q4_0 18 per 32
KV_CACHE_BYTES = MappingProxyType({"auto": ACT_BYTES, "bf16": 2, "fp16": 2, "fp8": 1, "f16": 2,
                                   "q8_0": 34 / 32, "q4_0": 18 / 32})
KV_CACHE_DTYPE = one_of(*KV_CACHE_BYTES)  # the rule of every kv_cache_dtype the memory and speed models read
_ALIASES = {"fp16": "bf16", "bfloat16": "bf16", "int8": "gptq-int8", "int4": "gptq-int4", "awq-int4": "awq"}


@checked
def normalize_quantization(quantization: str) -> str:
    """Map a published or user spelling ('BF16', 'GPTQ-Int4', 'AWQ', 'Q4_K_M', 'mlx-4bit') to a format key: one of
    QUANTIZATIONS or a local format of data/local_formats.csv (lesson 8)."""
    known = [*QUANTIZATIONS, *local_formats.local_quantizations()]
    if not isinstance(quantization, str):
        raise ValueError(f"quantization must be one of {known}, got {quantization!r}")
    key = quantization.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in known:
        raise ValueError(f"quantization must be one of {known}, got {quantization!r}")
    return key


def _format(quant: str) -> QuantFormat:
    """The QuantFormat of a key; a local format keeps its scales inside its blocks, with no extra buffers."""
    if quant in QUANTIZATIONS:
        return QUANTIZATIONS[quant]
    row = local_formats.local_format(quant)
    return QuantFormat(quant, int(row["bits"]), describe=row["describe"])


def _stored_matrices(ckpt: Checkpoint, quant: str) -> tuple[models.Matrix, ...]:
    """The decoder's linear layers as the format's published checkpoints store them."""
    matrices = ckpt.quantized_matrices if QUANTIZATIONS[quant].release_layout else ckpt.matrices
    return tuple(matrix for matrix in matrices if matrix.decoder)


@checked
def weights_bytes(model_id, quantization: str = "bf16") -> dict[str, float]:
    """Bytes of resident weights by part: quantized linear weights, their scales/zeros/indices, the 16-bit rest."""
    return dict(_weights_bytes(models.resolve(model_id, memory_modelled=True), normalize_quantization(quantization)))


@cached(maxsize=512)
def _weights_bytes(ckpt: Checkpoint, quant: str) -> MappingProxyType:
    if quant not in QUANTIZATIONS:  # GGUF or MLX: tensor by tensor (qwen_lessons.local_formats)
        parts = local_formats.weights_parts(ckpt, quant)
        return MappingProxyType({"linear_weights": parts["quantized_weights"],
                                 "scales_and_zeros": parts["scales_and_biases"],
                                 "unquantized_16bit": parts["unquantized_16bit"]})
    fmt = QUANTIZATIONS[quant]
    groups = models.parameter_groups(ckpt)
    stored = _stored_matrices(ckpt, quant)
    linear = sum(m.weights for m in stored)
    out = {"linear_weights": linear * fmt.bits / 8, "scales_and_zeros": 0.0, "unquantized_16bit": 0.0}
    if fmt.group_scales:
        scale_groups = sum(-(-m.in_features // GROUP_SIZE) * m.out_features * m.count for m in stored)
        out["scales_and_zeros"] += scale_groups * (2 + fmt.bits / 8)  # fp16 scale + one packed zero point per group
    if fmt.g_idx:
        out["scales_and_zeros"] += sum(m.in_features * m.count for m in stored) * 4
    if fmt.block_scales:
        blocks = sum(-(-m.in_features // FP8_BLOCK) * -(-m.out_features // FP8_BLOCK) * m.count for m in stored)
        out["scales_and_zeros"] += blocks * 4
    out["unquantized_16bit"] = (groups["embedding"] + groups["lm_head"] + groups["other"]) * 2
    return MappingProxyType(out)


@checked(kv_cache_dtype=KV_CACHE_DTYPE)
def kv_bytes_per_token(model_id, kv_cache_dtype: str = "auto") -> int:
    """KV-cache bytes per token: 2 (K and V) x attention layers x KV heads x head_dim x bytes per element."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    return int(2 * ckpt.kv_layers * ckpt["num_key_value_heads"] * ckpt["head_dim"] * KV_CACHE_BYTES[kv_cache_dtype])


@checked
def linear_state_bytes(model_id) -> int:
    """Bytes of the fixed-size state the Gated DeltaNet layers keep per sequence (Qwen3-Next, Qwen3.5, Qwen3.6).

    Each linear-attention layer keeps, whatever the context length, one key_dim x value_dim matrix per value head
    (fp32, as transformers' and the fla kernels' recurrent state is) and the last kernel-1 inputs of its causal
    convolution (16-bit). A softmax-attention layer's KV cache grows with every token instead."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    if not ckpt.linear_layers:
        return 0
    n_k, n_v = ckpt["linear_num_key_heads"], ckpt["linear_num_value_heads"]
    d_k, d_v = ckpt["linear_key_head_dim"], ckpt["linear_value_head_dim"]
    recurrent = n_v * d_k * d_v * 4
    conv = (2 * n_k * d_k + n_v * d_v) * (ckpt["linear_conv_kernel_dim"] - 1) * ACT_BYTES
    return ckpt.linear_layers * (recurrent + conv)


def _linear_layer_bytes_per_token(arch: Checkpoint) -> int:
    """Transient bytes per prompt token of one Gated DeltaNet layer: residual and normed input, the projections'
    outputs, the convolution's output and the fp32 copies of q, k, v the chunked delta rule works on."""
    h = arch["hidden_size"]
    key_dim = arch["linear_num_key_heads"] * arch["linear_key_head_dim"]
    value_dim = arch["linear_num_value_heads"] * arch["linear_value_head_dim"]
    projections = (2 * key_dim + 2 * value_dim + 2 * arch["linear_num_value_heads"]) * ACT_BYTES
    return 4 * h + projections + (2 * key_dim + value_dim) * (ACT_BYTES + 4) + value_dim * ACT_BYTES


@checked
def prefill_bytes_per_token(model_id) -> int:
    """Transient activation bytes per prompt token at the busiest moment of one layer's forward pass."""
    arch = models.resolve(model_id, memory_modelled=True)
    h, hd = arch["hidden_size"], arch["head_dim"]
    nq, nkv = arch["num_attention_heads"], arch["num_key_value_heads"]
    gate = 2 if arch["attention_output_gate"] else 1  # a gated q_proj also outputs the sigmoid gate
    # attention block: residual + normed input + q (and gate), k, v + rotated q, k + attention output
    attention = 2 * h + 2 * h + (2 * nq * gate + 3 * nkv) * hd + nq * hd
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
    linear = _linear_layer_bytes_per_token(arch) if arch.linear_layers else 0
    return int(max(attention, norm, mlp, linear))


@dataclass(frozen=True)
class InferenceMemory:
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
    linear_state_gib: float
    prefill_kv_gib: float
    prefill_activations_gib: float
    runtime_gib: float
    loading_extra_gib: float
    peak_phase: str
    total_gib: float
    legacy_cache_gib: float = 0.0

    def as_dict(self) -> dict:
        """All fields as a plain dict."""
        return asdict(self)

    def terms(self) -> pd.DataFrame:
        """The breakdown as a table: term, GiB, whether it counts at the peak, and what it is."""
        at_peak = {
            "prefill": {"weights", "quant_scratch", "linear_state", "prefill_kv", "prefill_activations"},
            "decode": {"weights", "quant_scratch", "kv_cache", "linear_state", "runtime", "legacy_cache"},
            "loading": {"weights", "loading_extra"},
        }[self.peak_phase]
        rows = [
            ("weights", self.weights_gib, _("resident weights incl. scales, zero points and group indices")),
            ("quant_scratch", self.quant_scratch_gib, _("kernel buffer for dequantised weights (GPTQ-Int4/ExLlama)")),
            ("kv_cache", self.kv_cache_gib, _("K and V of every attention layer for input + output tokens (end of decoding)")),
            ("linear_state", self.linear_state_gib, _("fixed-size Gated DeltaNet state per sequence (any context length)")),
            ("prefill_kv", self.prefill_kv_gib, _("K and V of the prompt, held while the prompt is processed")),
            ("prefill_activations", self.prefill_activations_gib,
             _("transient tensors of one layer over the prompt (or the whole prompt's logits, when larger)")),
            ("runtime", self.runtime_gib, _("next-token logits and probabilities in fp32")),
            ("loading_extra", self.loading_extra_gib, _("temporary copy while loading (untied lm_head)")),
        ]
        if self.legacy_cache_gib:  # shown only when asked for: today's transformers holds one cache
            rows.append(("legacy_cache", self.legacy_cache_gib,
                         _("the previous step's K and V, still held while the step concatenates (transformers < 4.42)")))
        table = pd.DataFrame(rows, columns=["term", "gib", "meaning"])
        table.insert(2, "at_peak", table["term"].isin(at_peak))
        return table


@checked(kv_cache_dtype=KV_CACHE_DTYPE)
def inference_memory(
    model_id,
    quantization: str = "bf16",
    input_tokens: int = 1,
    output_tokens: int = 2048,
    batch: int = 1,
    *,
    num_gpus: int = 1,
    kv_cache_dtype: str = "auto",
    attention: str = "flash",
    whole_prompt_logits: bool = False,
    gptq_load_copy: bool = False,
    legacy_cache: bool = False,
) -> InferenceMemory:
    """Peak GPU memory to generate output_tokens after input_tokens, summed over num_gpus (layer-split) GPUs.

    attention="flash" (as measured by Qwen) never stores the prompt x prompt score matrix; attention="eager"
    does, adding a term that grows with the square of the prompt (not validated against a measurement).
    whole_prompt_logits=True is what transformers' generate() did before 4.45: the output head ran over every
    prompt position, and the logits were upcast to fp32 (2 + 4 bytes per vocabulary entry per prompt token);
    since 4.45 it keeps only the last position's. prompt_logits_for() maps a transformers version to the setting.
    gptq_load_copy=True: loading a GPTQ checkpoint materialises an untied fp16 output head before tying it, as AWQ
    loading always does; it depends on the loading stack (GPTQ_TIED_COPY_STACK names where it was seen).
    legacy_cache=True is generate() before transformers 4.42 (see DYNAMIC_CACHE_SINCE): each decode step builds the
    grown cache while the previous step's tuple is still held, so the last step holds the KV cache twice.
    """
    arch = models.resolve(model_id, memory_modelled=True)
    model_id = arch.model_id
    quant = normalize_quantization(quantization)
    limit = arch["max_position_embeddings"]
    if limit is not None and input_tokens + output_tokens > limit:
        raise ValueError(
            f"input_tokens + output_tokens = {input_tokens + output_tokens:,} exceeds the maximum context of "
            f"{model_id} ({limit:,} tokens, max_position_embeddings)"
        )
    if attention not in ("flash", "eager"):
        raise ValueError(f"attention must be 'flash' or 'eager', got {attention!r}")
    fmt = _format(quant)
    weights = sum(weights_bytes(arch, quant).values())
    scratch = 0.0
    if fmt.dequant_scratch:
        scratch = max(m.in_features * m.out_features for m in _stored_matrices(arch, quant)) * 2 * num_gpus
    per_token_kv = kv_bytes_per_token(arch, kv_cache_dtype)
    kv_end = per_token_kv * (input_tokens + output_tokens) * batch
    kv_prompt = per_token_kv * input_tokens * batch
    state = linear_state_bytes(arch) * batch  # the same at 1 token and at 256K
    # each GPU of a layer split reaches its own activation peak; the published figure sums the peaks
    per_gpu_activations = prefill_bytes_per_token(arch) * input_tokens * batch
    if attention == "eager":
        # one layer's scores: 16-bit matmul output, fp32 softmax, 16-bit copy, for every query head
        per_gpu_activations += 8 * arch["num_attention_heads"] * input_tokens**2 * batch
    activations = per_gpu_activations * num_gpus
    runtime = arch["vocab_size"] * 4 * 2 * batch
    # after the last layer, the output head's logits for every prompt position (16-bit) and their fp32 copy
    logits = (ACT_BYTES + 4) * arch["vocab_size"] * input_tokens * batch if whole_prompt_logits else 0.0
    loading = 0.0
    if (fmt.tied_load_copy or (gptq_load_copy and quant.startswith("gptq"))) and arch["tie_word_embeddings"]:
        loading = arch["vocab_size"] * arch["hidden_size"] * 2
    base = weights + scratch
    legacy = per_token_kv * (input_tokens + output_tokens - 1) * batch if legacy_cache else 0.0
    phases = {
        # the layers' working memory is freed before the output head runs: the larger of the two sets the peak
        # the output head sits on the last GPU of a layer split: the prompt's logits are that GPU's peak, while
        # every other GPU keeps its own layer peak (the published figure sums the GPUs' peaks)
        "prefill": base + state + kv_prompt + activations - per_gpu_activations + max(per_gpu_activations, logits),
        "decode": base + kv_end + state + runtime + legacy,
        "loading": weights + loading,  # before the kernels allocate their buffers
    }
    peak_phase = max(phases, key=phases.get)
    total = phases[peak_phase]
    return InferenceMemory(
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
        linear_state_gib=state / GIB,
        prefill_kv_gib=kv_prompt / GIB,
        prefill_activations_gib=(activations - per_gpu_activations + max(per_gpu_activations, logits)) / GIB,
        runtime_gib=runtime / GIB,
        loading_extra_gib=loading / GIB,
        peak_phase=peak_phase,
        total_gib=total / GIB,
        legacy_cache_gib=legacy / GIB,
    )


@checked
def naive_weights_gib(model_id, quantization: str = "bf16") -> float:
    """What simple calculators count: every parameter at the format's nominal bits, no scales, nothing unquantized."""
    total = models.count_parameters(models.resolve(model_id, memory_modelled=True))[0]
    return total * _format(normalize_quantization(quantization)).bits / 8 / GIB


@checked
def rule_weights_times_1_2(model_id, quantization: str = "bf16") -> float:
    """Rule of thumb 1 (EleutherAI / HF model-memory calculator): inference needs weights x 1.2."""
    return 1.2 * naive_weights_gib(model_id, quantization)


@checked
def rule_weights_plus_kv(
    model_id, quantization: str = "bf16", input_tokens: int = 1, output_tokens: int = 2048, batch: int = 1
) -> float:
    """Rule of thumb 2: nominal weights plus the KV cache of input + output tokens, nothing else."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    kv = kv_bytes_per_token(ckpt) * (input_tokens + output_tokens) * batch / GIB
    return naive_weights_gib(ckpt, quantization) + kv


@checked
def load_speed_benchmark() -> pd.DataFrame:
    """Qwen's published Qwen2.5 speed/memory table (A100 80GB, batch 1, 2048 generated tokens)."""
    return read_table(SPEED_FILE)


@cached(maxsize=4)
def _comparison() -> pd.DataFrame:
    rows = load_speed_benchmark()
    rows = rows[rows["peak_memory_gib"].notna()]
    records = []
    for row in rows.itertuples(index=False):
        ckpt = models.resolve(row.model_id, memory_modelled=True)  # once per row, for the three estimates
        est = inference_memory(
            ckpt, row.quantization, int(row.input_length), int(row.output_length), int(row.batch_size),
            num_gpus=int(row.gpu_num),
        )
        rule1 = rule_weights_times_1_2(ckpt, row.quantization)
        rule2 = rule_weights_plus_kv(ckpt, row.quantization, int(row.input_length), int(row.output_length))
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


# transformers 4.45.0 gave generate() num_logits_to_keep: the output head runs on the last prompt position only
# (checked in the released wheels: 4.38.2 computes logits for the whole prompt and upcasts them, 4.46.0 does not)
LAST_TOKEN_LOGITS_SINCE = (4, 45)


@checked
def prompt_logits_for(transformers_version: str) -> bool:
    """Whether transformers' generate() of that version computes logits for every prompt token (before 4.45)."""
    parts = transformers_version.strip().split(".")
    if len(parts) < 2 or not all(part.isdigit() for part in parts[:2]):
        raise ValueError(f"transformers_version must look like '4.38.2', got {transformers_version!r}")
    return (int(parts[0]), int(parts[1])) < LAST_TOKEN_LOGITS_SINCE


# transformers 4.42.0 made generate() keep one DynamicCache object ("Use DynamicCache() instance by default",
# generation/utils.py). Before, generate() passed the previous step's tuple of K/V tensors; the model wrapped it in a
# DynamicCache and torch.cat each layer into a new tensor while generate's model_kwargs and model_inputs still held the
# old tuple, so the last decode step holds the KV cache twice (read in the released wheels 4.38.2, 4.41.2 and 4.42.0;
# Qwen-1's own modelling code concatenates its layer_past the same way)
DYNAMIC_CACHE_SINCE = (4, 42)
# when each change was released (the file dates inside transformers-4.42.0 and -4.45.0-py3-none-any.whl): a table
# dated before a release cannot have used it
RELEASED = {DYNAMIC_CACHE_SINCE: "2024-06-27", LAST_TOKEN_LOGITS_SINCE: "2024-09-25"}


@checked
def legacy_cache_for(transformers_version: str) -> bool:
    """Whether transformers' generate() of that version holds the previous step's KV cache while it grows (< 4.42)."""
    prompt_logits_for(transformers_version)  # the one version rule: refuses what is not a version
    parts = transformers_version.strip().split(".")
    return (int(parts[0]), int(parts[1])) < DYNAMIC_CACHE_SINCE


def _before_release(table: str, since: tuple[int, int]) -> bool | None:
    """True when the table's date (its name ends '(YYYY-MM)') is a month before the release of `since`, else None."""
    dated = re.search(r"\((\d{4}-\d{2})\)$", table)
    return True if dated and dated.group(1) < RELEASED[since][:7] else None


@checked
def load_memory_measurements() -> pd.DataFrame:
    """Qwen's other published peak-memory tables (Qwen1.5, Qwen2, Qwen3 docs): transformers, batch 1."""
    return read_table(MEASUREMENTS_FILE)


@cached(maxsize=4)
def _generations_comparison() -> pd.DataFrame:
    rows = load_memory_measurements()
    records = []
    for row in rows.itertuples(index=False):
        ckpt = models.resolve(row.model_id, memory_modelled=True)
        version = row.transformers_version if isinstance(row.transformers_version, str) else None
        settings = [prompt_logits_for(version)] if version else [False, True]  # unknown version: both shown
        # a row that names no version: its table's date decides where the table predates a release
        decided = prompt_logits_for(version) if version else _before_release(row.table, LAST_TOKEN_LOGITS_SINCE)
        legacy = legacy_cache_for(version) if version else bool(_before_release(row.table, DYNAMIC_CACHE_SINCE))
        gptq_copy = GPTQ_TIED_COPY_STACK in str(row.environment)
        for whole in settings:
            est = inference_memory(ckpt, row.quantization, int(row.input_length), int(row.output_length),
                                   int(row.batch_size), num_gpus=int(row.gpu_num), whole_prompt_logits=whole,
                                   gptq_load_copy=gptq_copy, legacy_cache=legacy)
            records.append({"table": row.table, "model_id": row.model_id, "quantization": est.quantization,
                            "input_length": int(row.input_length), "gpu_num": int(row.gpu_num),
                            "transformers": version or "not stated", "whole_prompt_logits": whole,
                            "decided": decided is None or whole == decided, "decided_by": "version" if version
                            else "table date" if decided is not None else "growth", "legacy_cache": legacy,
                            "measured_gib": float(row.peak_memory_gib), "model_gib": est.total_gib,
                            "model_error": est.total_gib / float(row.peak_memory_gib) - 1})
    frame = pd.DataFrame(records)
    # where neither decides (Qwen2-57B-A14B: 4.38.2 cannot load it, its table is dated the month 4.45 came out), the
    # rows' own growth with the prompt does: whole-prompt logits add 6 bytes x vocabulary per prompt token, far more
    # than the KV cache, so of the two settings the one whose growth (first to last prompt) is nearer the measured
    undecided = frame[frame["decided_by"] == "growth"]
    for _key, group in undecided.groupby(["table", "model_id", "quantization"]):
        ends = group.sort_values("input_length").groupby("whole_prompt_logits")
        miss = {whole: abs((g["model_gib"].iloc[-1] - g["model_gib"].iloc[0])
                           - (g["measured_gib"].iloc[-1] - g["measured_gib"].iloc[0])) for whole, g in ends}
        frame.loc[group.index, "decided"] = group["whole_prompt_logits"] == min(miss, key=miss.get)
    return frame


@checked
def generations_memory_comparison() -> pd.DataFrame:
    """Every row of the Qwen1.5, Qwen2 and Qwen3 memory tables next to this model, with the prompt-logits setting
    the row's transformers version implies (both settings where the table does not state the version)."""
    return _generations_comparison().copy()


@checked
def generations_error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and worst absolute error per published table and prompt-logits setting."""
    table = generations_memory_comparison() if comparison is None else comparison
    grouped = table.assign(abs_error=table["model_error"].abs()).groupby(
        ["table", "transformers", "whole_prompt_logits"], sort=False)["abs_error"]
    return grouped.agg(rows="size", median_abs_error="median", worst_abs_error="max").reset_index()


@checked
def decided_error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and worst absolute error per published table, each row with the one setting its transformers version
    (or its table's stated version, or its table's date) decides."""
    table = generations_memory_comparison() if comparison is None else comparison
    decided = table[table["decided"]]
    grouped = decided.assign(abs_error=decided["model_error"].abs()).groupby("table", sort=False)["abs_error"]
    return grouped.agg(rows="size", median_abs_error="median", worst_abs_error="max").reset_index()


@checked
def published_memory_comparison() -> pd.DataFrame:
    """Every published transformers peak-memory row next to this model and the two rules of thumb (errors signed)."""
    return _comparison().copy()


@checked
def inference_error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
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


@checked
def context_curve(
    model_id,
    quantization: str = "bf16",
    contexts: list[int] | None = None,
    output_tokens: int = 0,
    batch: int = 1,
    attention: str = "flash",
) -> pd.DataFrame:
    """Peak memory as the prompt grows: constant weight term and context-dependent terms side by side."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    limit = ckpt["max_position_embeddings"] or models.longest_context(ckpt) or 32768  # a context it documents
    if contexts is None:
        contexts = [c for c in (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072) if c + output_tokens <= limit]
    rows = []
    for tokens in contexts:
        est = inference_memory(ckpt, quantization, tokens, output_tokens, batch, attention=attention)
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
