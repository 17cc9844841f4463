"""Lesson 7 (07_choosing_a_tier): choosing a tier. Speed bounds from bandwidth and compute, quality by size, and the tier wizard.

Memory comes from qwen_lessons.memory, hardware from qwen_lessons.hardware, published scores from
data/benchmarks.csv. Every figure the lesson shows is computed here from those tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from qwen_lessons import local_runtime, memory, models
from qwen_lessons.catalog import GENERATIONS, context_limit, load_catalog
from qwen_lessons.data import read_table
from qwen_lessons.hardware import get_gpu, hardware_ids, memory_gib
from qwen_lessons.validation import checked, integer, key

BENCHMARKS_FILE = "benchmarks.csv"
DEFAULT_HEADROOM = 0.10  # course choice: keep 10% free for the CUDA context, fragmentation and other processes
WIZARD_QUANTIZATIONS = ("bf16", "fp8", "gptq-int8", "gptq-int4")  # highest precision first; awq ~ gptq-int4 in size
MODALITIES = ("text", "code", "image", "audio")
PURPOSES = ("deploy (instruct)", "fine-tune (base)")
REPORTS = ("Qwen2.5 blog", "Qwen3 report")  # the two sources of data/benchmarks.csv, as load_benchmarks labels them


# ---------------------------------------------------------------------------------------------------------------
# Speed: decode is bound by memory bandwidth, prefill by compute
# ---------------------------------------------------------------------------------------------------------------


@checked
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


# ---------------------------------------------------------------------------------------------------------------
# Quality by size
# ---------------------------------------------------------------------------------------------------------------



@lru_cache(maxsize=1)
def _benchmarks() -> pd.DataFrame:
    table = read_table(BENCHMARKS_FILE)
    table["score_value"] = pd.to_numeric(table["score"], errors="coerce")
    table["group"] = table["variant"].map(variant_group)
    table["report"] = np.where(table["source"].str.contains("Qwen3 Technical Report"), REPORTS[1], REPORTS[0])
    table["arch_model_id"] = [arch_model_id(m, g) for m, g in zip(table["model"], table["group"], strict=True)]
    counts = [_counts_or_nan(arch_id) for arch_id in table["arch_model_id"]]
    table["params_b"] = [total for total, _ in counts]
    table["active_params_b"] = [active for _, active in counts]
    return table


@checked
def load_benchmarks() -> pd.DataFrame:
    """Published scores (data/benchmarks.csv) with numeric score, variant group, report and size columns added."""
    return _benchmarks().copy()


GROUPS = ("base", "instruct", "thinking", "non-thinking", "mode not stated")
# A post-trained checkpoint's score in the mode it runs in by default: an Instruct model's own; a hybrid (Qwen3) or
# a Qwen3.5/3.6 model thinks unless told not to; Qwen2.5-Instruct appears as a baseline in Qwen3's tables.
DEFAULT_MODE_ORDER = ("instruct", "post-trained (thinking mode)", "post-trained (mode not stated)",
                      "instruct (baseline in thinking table)", "instruct (baseline in non-thinking table)")


@checked
def variant_group(variant: str) -> str:
    """Collapse the published variant labels to base / instruct / thinking / non-thinking."""
    text = str(variant)
    if text == "base":
        return "base"
    if "mode not stated" in text:
        return "mode not stated"
    if "non-thinking" in text:
        return "non-thinking"
    if "thinking" in text and text.startswith("post-trained"):
        return "thinking"
    return "instruct"


@checked(model=key)
def arch_model_id(model: str, group: str) -> str | None:
    """The architecture row with this benchmark row's dimensions (None for API-only or unlisted models).

    A post-trained score may be reported under the base name ('Qwen2.5-7B', instruct); its '-Instruct' row is
    tried first, then the name itself."""
    candidates = [f"{model}-Instruct", model] if group == "instruct" else [model]
    for candidate in candidates:
        try:
            return models.resolve(candidate).model_id
        except ValueError:
            continue
    return None


def _counts_or_nan(arch_id: str | None) -> tuple[float, float]:
    """(total, active) in billions, or NaN when the benchmark row has no architecture the memory model covers."""
    if not isinstance(arch_id, str) or not models.resolve(arch_id).memory_modelled:
        return np.nan, np.nan
    total, active = models.count_parameters(arch_id)
    return total / 1e9, active / 1e9


@checked
def quality_by_size(benchmark: str, group: str = "base", report: str | None = None) -> pd.DataFrame:
    """Scores of one benchmark vs total parameters for one variant group (base and instruct never mixed)."""
    table = _benchmarks()
    if benchmark not in set(table["benchmark"]):
        raise ValueError(f"benchmark {benchmark!r} is not in {BENCHMARKS_FILE}; e.g. {sorted(set(table['benchmark']))[:12]}")
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    rows = table[(table["benchmark"] == benchmark) & (table["group"] == group)]
    rows = rows[rows["params_b"].notna() & rows["score_value"].notna()]
    if report is not None:
        if report not in REPORTS:
            raise ValueError(f"report must be one of {REPORTS} or None, got {report!r}")
        rows = rows[rows["report"] == report]
    # the general line only ("Qwen2.5-7B"): a Coder or Math model of the same size is another curve
    rows = rows[rows["model"].str.match(r"^Qwen[0-9.]+-[0-9]")]
    rows = rows.assign(generation=rows["model"].str.extract(r"^(Qwen[0-9.]+)")[0])
    columns = ["model", "generation", "params_b", "active_params_b", "score_value", "shots_or_setting", "report"]
    return rows[columns].sort_values(["report", "generation", "params_b"]).reset_index(drop=True)


@checked
def gains_per_doubling(benchmark: str, group: str = "base", generation: str = "Qwen2.5", report: str | None = None):
    """Points gained per doubling of parameters between consecutive sizes (diminishing returns show as a falling column)."""
    rows = quality_by_size(benchmark, group, report)
    if generation not in set(rows["generation"]):
        raise ValueError(f"generation must be one of {sorted(set(rows['generation']))} for {benchmark} ({group}), "
                         f"got {generation!r}")
    rows = rows[rows["generation"] == generation]
    if report is None and rows["report"].nunique() > 1:
        rows = rows[rows["report"] == rows["report"].iloc[0]]
    rows = rows.sort_values("params_b").drop_duplicates("params_b")
    sizes, scores = rows["params_b"].to_numpy(), rows["score_value"].to_numpy()
    out = pd.DataFrame(
        {
            "from_model": rows["model"].to_numpy()[:-1],
            "to_model": rows["model"].to_numpy()[1:],
            "size_ratio": sizes[1:] / sizes[:-1],
            "points_gained": scores[1:] - scores[:-1],
        }
    )
    out["points_per_doubling"] = out["points_gained"] / np.log2(out["size_ratio"])
    return out


@checked
@cache
def base_score(arch_id: str, benchmark: str) -> float | None:
    """Published base-model score (Qwen3 report, same settings for both generations) for a checkpoint's size."""
    table = _benchmarks()
    base_arch = arch_id.replace("-Instruct", "")
    rows = table[(table["benchmark"] == benchmark) & (table["group"] == "base") & (table["report"] == "Qwen3 report")]
    rows = rows[rows["model"].map(lambda m: f"Qwen/{m}") == base_arch]
    return None if rows.empty else float(rows["score_value"].iloc[0])


@checked
def post_trained_score(model_id: str, benchmark: str) -> float | None:
    """A post-trained checkpoint's published score in its default mode (None when no source gives one)."""
    found = _post_trained_row(model_id, benchmark)
    return None if found is None else found[0]


def _post_trained_row(model_id: str, benchmark: str) -> tuple[float, str, str] | None:
    """(score, variant as published, setting) of the first default-mode row for this checkpoint."""
    index = _post_trained_index(benchmark)
    name = model_id.removeprefix("Qwen/")
    # Qwen2.5-7B-Instruct is reported as 'Qwen2.5-7B', instruct
    for variant in DEFAULT_MODE_ORDER:
        for candidate in (name, name.removesuffix("-Instruct")):
            if (candidate, variant) in index:
                return index[(candidate, variant)]
    return None


@lru_cache(maxsize=16)
def _post_trained_index(benchmark: str) -> dict:
    """(model, variant) -> (score, variant, setting) of the first post-trained row, read once per benchmark."""
    table = _benchmarks()
    rows = table[(table["benchmark"] == benchmark) & (table["group"] != "base") & table["score_value"].notna()]
    index: dict = {}
    for row in rows.itertuples(index=False):
        index.setdefault((row.model, row.variant), (float(row.score_value), row.variant, str(row.shots_or_setting)))
    return index


# ---------------------------------------------------------------------------------------------------------------
# Tier wizard: pure logic
# ---------------------------------------------------------------------------------------------------------------

QUALITY_BENCHMARK = {"text": "MMLU", "code": "EvalPlus", "image": "MMLU", "audio": "MMLU"}
# Deploying a text model: the post-trained checkpoints' own published score, in their default mode. Base-model MMLU
# (Qwen3 report) judges fine-tuning starts; it exists for no Qwen3-2507, Qwen3.5 or Qwen3.6 checkpoint.
DEPLOY_TEXT_BENCHMARK = "MMLU-Redux"


def _quality(modality: str, purpose: str) -> tuple[str, bool]:
    """(benchmark, whether post-trained scores judge) for a modality and purpose."""
    if modality == "text" and purpose == PURPOSES[0]:
        return DEPLOY_TEXT_BENCHMARK, True
    return QUALITY_BENCHMARK[modality], False


def _score(arch_id: str, shown: str, benchmark: str, post_trained: bool) -> float | None:
    return post_trained_score(shown, benchmark) if post_trained else base_score(arch_id, benchmark)


@dataclass
class WizardResult:
    """What the wizard decided and why: ordered reasoning steps, the fit table and the recommendation."""

    steps: list[str] = field(default_factory=list)
    fit: pd.DataFrame = field(default_factory=pd.DataFrame)
    recommendation: str = ""
    recommended: str | None = None


@cache
def _candidates(purpose: str, benchmark: str, post_trained: bool = False) -> tuple[tuple[str, str], ...]:
    """(shown checkpoint id, architecture id) for every general-purpose checkpoint of the catalog in the purpose's
    training states that the memory model covers and that has a published score to judge it by; smallest first.
    Deploying considers every post-trained state (instruct, hybrid, thinking, and Qwen3.5/3.6, whose ids carry no
    suffix); the natively multimodal Qwen3.5/3.6 count as general-purpose text models too."""
    catalog = load_catalog()
    variant = catalog["variant"].fillna("")
    if purpose == PURPOSES[1]:
        rows = catalog[(catalog["line"] == "text") & (variant == "base")]
    else:
        lines = ("text", "vision-language") if post_trained else ("text",)
        wanted = variant != "base" if post_trained else variant.isin(["instruct", "hybrid"])
        rows = catalog[catalog["line"].isin(lines) & wanted]
    out = []
    for model_id in rows["model_id"]:
        try:
            ckpt = models.resolve(model_id, memory_modelled=True)
        except ValueError:
            continue
        if _score(ckpt.model_id, model_id, benchmark, post_trained) is not None:
            out.append((model_id, ckpt.model_id))
    return tuple(sorted(out, key=lambda pair: models.count_parameters(pair[1])[0]))


@cache
def _candidate_generations(purpose: str, benchmark: str, post_trained: bool = False) -> tuple[str, ...]:
    """The catalog generations the wizard's candidates come from, oldest first (data decides, not code)."""
    catalog = load_catalog().set_index("model_id")
    present = {catalog.at[shown, "generation"] for shown, _ in _candidates(purpose, benchmark, post_trained)}
    return tuple(generation for generation in GENERATIONS if generation in present)


@cache
def _catalog_ids(lines: tuple[str, ...], generations: tuple[str, ...]) -> tuple[str, ...]:
    catalog = load_catalog()
    rows = catalog[catalog["line"].isin(lines) & catalog["generation"].isin(generations)]
    return tuple(rows["model_id"])


def _same_shape_as_general(coder_ids: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split code checkpoints into those whose config gives the same count as the general model of the same size
    ('Qwen2.5-Coder-7B-Instruct' vs 'Qwen2.5-7B') and those the course cannot compare (no config row)."""
    same, unknown = [], []
    for coder in coder_ids:
        general = coder.replace("-Coder", "").replace("-Instruct", "")
        try:
            equal = models.count_parameters(coder) == models.count_parameters(general)
        except ValueError:
            equal = False
        (same if equal else unknown).append(coder)
    return same, unknown


def _validate_wizard(modality, purpose, gpu_id, num_gpus, context_tokens, batch, min_score, headroom):
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
    if gpu_id not in hardware_ids():
        raise ValueError(f"gpu_id {gpu_id!r} is unknown; valid ids: {', '.join(hardware_ids())}")
    for name, value, low in (("num_gpus", num_gpus, 1), ("context_tokens", context_tokens, 2), ("batch", batch, 1)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    if not 0 <= min_score <= 100:
        raise ValueError(f"min_score must be between 0 and 100, got {min_score!r}")
    if not 0 <= headroom < 1:
        raise ValueError(f"headroom must be in [0, 1), got {headroom!r}")


@checked
def split_context(context_tokens: int) -> tuple[int, int]:
    """Course convention for a context budget: up to 1,024 tokens (at most half) reserved for the answer."""
    output = min(1024, context_tokens // 2)
    return context_tokens - output, output


@checked
def recommend(
    modality: str = "text",
    purpose: str = PURPOSES[0],
    gpu_id: str = "rtx-4090",
    num_gpus: int = 1,
    context_tokens: int = 8192,
    batch: int = 1,
    min_score: float = 70.0,
    headroom: float = DEFAULT_HEADROOM,
) -> WizardResult:
    """Walk modality -> purpose -> hardware -> context/batch -> quality -> fit, recording every step's reasoning."""
    _validate_wizard(modality, purpose, gpu_id, num_gpus, context_tokens, batch, min_score, headroom)
    num_gpus, context_tokens, batch = int(num_gpus), int(context_tokens), int(batch)
    result = WizardResult()
    steps = result.steps
    benchmark, post_trained = _quality(modality, purpose)

    # 1. modality
    generations = tuple(_candidate_generations(purpose, benchmark, post_trained))
    if modality == "text":
        steps.append(f"Modality text: candidates are the {', '.join(generations)} general-purpose checkpoints "
                     "(dense, MoE and hybrid-attention) with a published score.")
    elif modality == "code":
        coders = [i for i in _catalog_ids(("code",), generations) if "Instruct" in i]
        same, unknown = _same_shape_as_general(tuple(coders))
        steps.append(
            "Modality code: quality is judged by base-model EvalPlus (0-shot). The general checkpoints are ranked here; "
            + (f"the code-specialised {', '.join(i.removeprefix('Qwen/') for i in same)} have exactly the decoder of "
               "the general model of the same size (their configs give the same parameter count), so the memory shown "
               "holds for them too" if same else "no code-specialised checkpoint has a config row yet")
            + (f"; {', '.join(i.removeprefix('Qwen/') for i in unknown)} cannot be compared here (no config of their "
               "own, or no general model of their size), so for them the table is a stand-in, not verified."
               if unknown else ".")
        )
    else:
        lines = ("vision-language", "omni") if modality == "image" else ("audio", "omni")
        ids = ", ".join(i.removeprefix("Qwen/") for i in _catalog_ids(lines, generations))
        steps.append(
            f"Modality {modality}: the checkpoints are {ids}. This calculator covers the language decoder only; the "
            f"{'vision' if modality == 'image' else 'audio'} encoder and the extra input tokens add memory not modelled, "
            "so each fit below is a lower bound for the same-size text decoder."
        )

    # 2. purpose
    if purpose == PURPOSES[1]:
        steps.append(
            "Purpose fine-tune: start from base checkpoints (training memory is another lesson; the table below is the "
            "memory to serve the result). Qwen3 base checkpoints reuse the dimensions of the same-size post-trained one."
        )
    elif post_trained:
        steps.append("Purpose deploy: post-trained checkpoints (instruct, hybrid thinking, thinking), each judged by "
                     f"its own published {benchmark} score in the mode it runs in by default. Memory counts the "
                     "language model; the vision encoder that Qwen3.5 and Qwen3.6 checkpoints also ship is not counted.")
    else:
        steps.append("Purpose deploy: instruct (Qwen2.5) and hybrid-thinking post-trained (Qwen3) checkpoints.")

    # 3. hardware
    gpu = get_gpu(gpu_id)
    capacity = memory_gib(gpu_id) * num_gpus
    usable = capacity * (1 - headroom)
    multi = f"{num_gpus} x " if num_gpus > 1 else ""
    bw = gpu["memory_bandwidth_gbs"]
    steps.append(
        f"Hardware {multi}{gpu['name']}: {multi}{gpu['memory_gb']:g} GB as sold = {capacity:.1f} GiB; keeping "
        f"{headroom:.0%} headroom leaves {usable:.1f} GiB for the model. Memory bandwidth "
        f"{bw:g} GB/s{' per device' if num_gpus > 1 else ''} sets the decode speed bound."
    )
    if gpu["kind"] in ("apple", "cpu"):
        steps.append(
            "This memory is shared with the operating system and other programs, and GPTQ/AWQ/FP8 GPU kernels do not run "
            "here (llama.cpp / MLX use their own 4- and 8-bit formats of similar size): read the int8/int4 rows as sizes."
        )
    if gpu["kind"] != "datacenter" and num_gpus == 1:  # a learner's own machine: the local formats (lesson 8)
        local = local_runtime.laptop_answer(gpu_id, int(context_tokens))
        steps.append(
            f"On this machine with llama.cpp / Ollama (GGUF, lesson 8): {local['model']} in {local['quantization']} "
            f"needs {local['memory_gib']:.1f} of {local['usable_gib']:.1f} GiB at {int(context_tokens):,} tokens, decode "
            f"bound {local['tokens_per_s_bound']:.0f} tokens/s." if local["model"] else
            f"On this machine with llama.cpp / Ollama (GGUF, lesson 8): {local['why']}."
        )

    # 4. context and batch
    input_tokens, output_tokens = split_context(context_tokens)
    steps.append(
        f"Context {context_tokens:,} tokens x batch {batch}: {input_tokens:,} prompt + {output_tokens:,} answer tokens "
        f"per sequence. The KV cache grows linearly with tokens x batch; the prompt's working memory grows with prompt x batch."
    )

    # 5. quality
    candidates = _candidates(purpose, benchmark, post_trained)
    scored = [(shown, arch, _score(arch, shown, benchmark, post_trained)) for shown, arch in candidates]
    passing = [(s, a, q) for s, a, q in scored if q is not None and q >= min_score]
    ladder = "; ".join(f"{(s if post_trained else a).removeprefix('Qwen/')} {q:.1f}" for s, a, q in scored
                       if q is not None)
    if post_trained:
        where = (f"post-trained {benchmark} >= {min_score:g}, each checkpoint's published score in its default mode "
                 "(Qwen3 report tables for Qwen2.5-Instruct and Qwen3; the model cards for Qwen3-2507, Qwen3-Next, "
                 "Qwen3.5 and Qwen3.6, whose tables state no settings: thinking and non-thinking scores are not the same "
                 "contest, so compare within a mode when it matters)")
    else:
        where = f"base-model {benchmark} >= {min_score:g} (published, Qwen3 report, same settings for both generations)"
    steps.append(
        f"Quality need: {where}. Scores by size: {ladder}. {len(passing)} of {len(scored)} candidates pass."
        + (" The course has no image/audio benchmark scores, so the need is applied to the text decoder of the same size."
           if modality in ("image", "audio") else "")
    )

    # 6. fit
    rows = []
    for shown, arch_id, score in passing:
        arch = models.resolve(arch_id, memory_modelled=True)  # once per candidate, for every format tried
        limit = context_limit(shown)  # the documented context, not the config's larger position limit
        for quant in WIZARD_QUANTIZATIONS:
            if limit is not None and context_tokens > limit:
                rows.append({"model": shown, "quantization": quant, "fits": False, "memory_gib": np.nan,
                             "tokens_per_s_bound": np.nan, "score": score, "why": f"context > {limit:,}"})
                continue
            est = memory.inference_memory(arch, quant, input_tokens, output_tokens, batch, num_gpus=num_gpus)
            speed = decode_tokens_per_s_bound(arch, quant, gpu_id, context_tokens, batch)
            fits = est.total_gib <= usable
            rows.append({"model": shown, "quantization": quant, "fits": fits, "memory_gib": est.total_gib,
                         "tokens_per_s_bound": speed, "score": score,
                         "why": f"peak in {est.peak_phase}"})
    fit = pd.DataFrame(rows, columns=["model", "quantization", "fits", "memory_gib", "tokens_per_s_bound", "score", "why"])
    result.fit = fit
    fitting = fit[fit["fits"].astype(bool)]  # an empty object column would select columns, not rows
    steps.append(
        f"Fit: {fitting['model'].nunique()} of {len(passing)} passing models fit in {usable:.1f} GiB in at least one "
        "format (tried from highest precision: bf16, fp8, int8, int4; AWQ is the size of int4). Check that the chosen "
        "format is published for that checkpoint: the course's catalog does not list quantized releases."
    )

    # 7. recommendation: the smallest passing model that fits, at the highest precision that fits
    if fitting.empty:
        result.recommendation = (
            "Nothing that meets the quality need fits: lower the quality need, shorten the context or batch, "
            "or add memory (more or larger GPUs)."
        )
    else:
        best = fitting.iloc[0]
        # idxmax: the first (smallest) of equal rows, whatever sort the pandas version uses (Qwen3.5 and Qwen3.6
        # share a config, so their bounds tie)
        largest = fitting.loc[fitting["score"].idxmax()]
        result.recommended = f"{best['model']} ({best['quantization']})"
        upgrade = (
            f"Highest-scoring option that still fits: {largest['model']} ({largest['quantization']}, "
            f"{benchmark} {largest['score']:.1f})."
            if largest["model"] != best["model"]
            else "No higher-scoring model fits."
        )
        # smallest by total parameters is not always fastest: a MoE reads only its routed experts per token
        fastest = fitting.loc[fitting["tokens_per_s_bound"].idxmax()]
        faster = (
            f" Fastest option that fits: {fastest['model']} ({fastest['quantization']}, decode bound "
            f"{fastest['tokens_per_s_bound']:.0f} tokens/s), more parameters but fewer read per token."
            if fastest["model"] != best["model"]
            else ""
        )
        result.recommendation = (
            f"Recommended: {best['model']} in {best['quantization']}: {best['memory_gib']:.1f} GiB of "
            f"{usable:.1f} GiB, decode bound {best['tokens_per_s_bound']:.0f} tokens/s (batch {batch}). It is the "
            f"smallest model meeting {benchmark} >= {min_score:g}, so the least memory to hold. {upgrade}{faster}"
        )
    steps.append(result.recommendation)
    return result
