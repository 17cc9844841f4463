"""Lesson 4 (04_fine_tuning): the evidence behind the fine-tuning planner — each setting's stated term with its
primary source, and the measured rows that fit its two constants (Qwen-1's profile) or only judge them (the rest).

Which rows fit and which judge was decided before fitting, by source (data/README.md, finetune_measurements.csv):
``fit_constants`` reads the Qwen-1 profile of data/finetune_memory.csv and nothing else; ``compare_measured`` holds
the planner against every comparable row, with each row's stated settings and the framework's defaults for the rest.
A row whose printed figure does not measure its run (``evidence``: carried over from another run, or the card's size;
one rule for every row, data/README.md) is shown with its reason and never judged.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from qwen_lessons.data import read_table
from qwen_lessons.finetune import (
    ADAPTER_METHODS,
    ALL_LINEAR,
    DEFAULT_TARGETS,
    FIT_TABLE,
    UTILISATION_BY_FRAMEWORK,
    TrainingMemory,
    training_flops,
    training_memory,
)
from qwen_lessons.units import GB, GIB
from qwen_lessons.validation import checked

PUBLISHED_FILE = "finetune_memory.csv"
# LLaMA-Factory's size columns compared with the nearest dense Qwen checkpoint, per billion parameters.
LLAMA_FACTORY_MATCH = {
    "7B": "Qwen/Qwen2.5-7B",
    "14B": "Qwen/Qwen2.5-14B",
    "30B": "Qwen/Qwen2.5-32B",
    "70B": "Qwen/Qwen2.5-72B",
}
LLAMA_FACTORY_SETTINGS = {"rank": 8, "target_modules": ALL_LINEAR, "seq_len": 1024, "micro_batch": 1}

# (setting, value, the term it adds or removes, its primary source)
SETTING_TERMS = (
    ("optimizer", "adamw", "two fp32 states (m, v) per trainable parameter: 8 bytes (bf16 states, 4, when the "
     "weights are bf16: full-bf16)", "Loshchilov & Hutter, Decoupled Weight Decay Regularization (arXiv:1711.05101); "
     "torch.optim.AdamW keeps exp_avg and exp_avg_sq like the parameter"),
    ("optimizer", "adamw_8bit", "two 8-bit states + one fp32 absmax per 256 states: 2 + 8/256 bytes per parameter; "
     "tensors under 4,096 elements keep fp32 states", "github:bitsandbytes-foundation/bitsandbytes@95f9af3 "
     "bitsandbytes/optim/optimizer.py (Optimizer2State.init_state: min_8bit_size=4096, blocksize = 256, "
     "absmax1/absmax2 fp32); Dettmers et al., 8-bit Optimizers via Block-wise Quantization (arXiv:2110.02861)"),
    ("optimizer", "paged_adamw_8bit", "same bytes as adamw_8bit; the states sit in CUDA unified (paged) memory and "
     "are evicted to CPU RAM instead of failing when the GPU runs out, so the peak counted here is unchanged",
     "github:bitsandbytes-foundation/bitsandbytes@95f9af3 bitsandbytes/optim/adamw.py (PagedAdamW8bit: is_paged=True); "
     "Dettmers et al., QLoRA (arXiv:2305.14314) section 3, paged optimizers"),
    ("optimizer", "adafactor", "no first moment (beta1=None) and a factored second moment: one fp32 row and one "
     "column vector per matrix, 4 x (rows + cols) bytes; a full fp32 second moment for vectors",
     "Shazeer & Stern, Adafactor (arXiv:1804.04235); huggingface/transformers optimization.py Adafactor "
     "(beta1=None default, factored second moment for parameters of 2 or more dimensions)"),
    ("checkpointing", "none", "every layer keeps what its backward needs (layer_activation_bytes per token)",
     "Chen et al., Training Deep Nets with Sublinear Memory Cost (arXiv:1604.06174)"),
    ("checkpointing", "standard", "each layer keeps only its bf16 input (2 x hidden bytes per token); one layer is "
     "recomputed at a time", "Chen et al. (arXiv:1604.06174); transformers gradient_checkpointing_enable()"),
    ("checkpointing", "offload", "each layer's input is copied to CPU RAM (non-blocking) and back for backward: the "
     "GPU keeps one layer's input and the layer being recomputed", "github:unslothai/unsloth@4474e4b "
     "unsloth/models/_utils.py Unsloth_Offloaded_Gradient_Checkpointer (hidden_states.to('cpu', non_blocking=True)); "
     "use_gradient_checkpointing='unsloth'"),
    ("loss", "standard", "full logits: bf16 (2) + fp32 log-probabilities (4) + their gradient (4) + the logits' "
     "gradient (4) = 14 bytes per token per vocabulary entry", "transformers ForCausalLMLoss (logits.float() before "
     "cross_entropy)"),
    ("loss", "fused", "fused linear + cross-entropy in chunks of next_power_of_2(tokens / ceil(vocab / hidden)) "
     "tokens: one chunk's bf16 logits (written over by their gradient) and the bf16 gradient of the hidden states "
     "(2 x hidden per token)", "github:linkedin/Liger-Kernel@ead96b6 src/liger_kernel/ops/"
     "fused_linear_cross_entropy.py (inc_factor = cdiv(V, H); chunk_size = next_power_of_2(cdiv(BT, inc_factor)); "
     "grad_input = zeros_like(_input))"),
    ("loss", "chunked", "as fused: the logits of one chunk at a time", "github:linkedin/Liger-Kernel@ead96b6 "
     "src/liger_kernel/ops/fused_linear_cross_entropy.py (the loop over chunk_id)"),
    ("attention", "flash", "no sequence-squared matrix: per layer and token one fp32 log-sum-exp per head "
     "(4 x heads bytes)", "Dao, FlashAttention-2 (arXiv:2307.08691): the backward recomputes attention from Q, K, "
     "V and the saved log-sum-exp"),
    ("attention", "sdpa", "as flash: PyTorch's scaled_dot_product_attention runs its flash or memory-efficient "
     "kernel (both save the log-sum-exp, not the matrix) for Qwen's causal masks", "PyTorch docs, "
     "torch.nn.functional.scaled_dot_product_attention (flash / memory-efficient / math backends)"),
    ("attention", "eager", "the attention matrix kept for backward: fp32 softmax output (4) and its bf16 copy "
     "(2) per head, query and key, 6 x heads x seq_len bytes per token per layer", "transformers Qwen2 "
     "eager_attention_forward (softmax(..., dtype=float32).to(query.dtype))"),
    ("base", "qlora-4bit", "NF4 codes with double quantisation: 4 + 8/64 + 32/(64 x 256) = 4.127 bits per weight "
     "(4.5 bits without: one fp32 absmax per 64 weights)", "Dettmers et al., QLoRA (arXiv:2305.14314) section 3; "
     "bitsandbytes Params4bit (blocksize 64, compress_statistics = double quantisation)"),
    ("base", "qlora-8bit", "LLM.int8(): 8 bits per weight (row scales negligible)", "Dettmers et al., LLM.int8() "
     "(arXiv:2208.07339)"),
    ("zero_stage", "1, 2, 3", "stage 1 shards the optimizer states (and fp32 master weights), 2 also the gradients, "
     "3 also the weights over n_gpus; stage 3 gathers one module's bf16 weights at a time (the largest, often the "
     "output head, counted once)", "Rajbhandari et al., ZeRO (arXiv:1910.02054) section 5, P_os, P_os+g, "
     "P_os+g+p; deepspeedai/DeepSpeed@00376da docs/_pages/config-json.md (zero_optimization.stage)"),
    ("zero_stage", "1, 2 (buffer)", "one contiguous reduce bucket per GPU of a multi-GPU run: reduce_bucket_size "
     "elements in the optimizer's 16-bit dtype, 2e8 x 2 bytes = 0.37 GiB (two buckets with overlap_comm); the "
     "all-gather writes into the bf16 weights in place, so allgather_bucket_size adds nothing. Sourced, not fitted; "
     "added after the judged errors had been seen", "github:modelscope/ms-swift@3602360 swift/config/zero1.json, "
     "zero2.json (reduce_bucket_size 2e8, overlap_comm false); github:deepspeedai/DeepSpeed@edaa722 "
     "deepspeed/runtime/zero/stage_1_and_2.py setup_buckets (torch.empty(reduce_bucket_size, dtype=self.dtype)), "
     "deepspeed/runtime/utils.py all_gather_dp_groups"),
    ("zero_stage", "3 (buffer)", "ZeRO-3's buckets, prefetched and gathered modules beyond the one counted: the "
     "fitted ZERO_BUFFER_GIB per GPU (median residual of the Qwen-1 profile's multi-GPU ZeRO rows)",
     "finetune_evidence.fit_constants on QwenLM/Qwen@2df8e8a README.md, Profiling of Memory and Speed"),
    ("offload", "optimizer", "ZeRO-Offload: optimizer states, fp32 master weights and fp32 gradients live in CPU "
     "RAM; the GPU keeps the bf16 weights", "Ren et al., ZeRO-Offload (arXiv:2101.06840); deepspeedai/DeepSpeed@00376da "
     "docs/_pages/config-json.md (offload_optimizer, stages 1-3)"),
    ("offload", "optimizer+parameters", "ZeRO-Infinity at stage 3: the weights live in CPU RAM too; the GPU holds "
     "the module being computed", "Rajbhandari et al., ZeRO-Infinity (arXiv:2104.07857); deepspeedai/DeepSpeed@00376da "
     "docs/_pages/config-json.md (offload_param, stage 3 only)"),
    ("packing", "True / False", "no change to the peak: with packing every micro-batch is seq_len tokens, without "
     "it the longest micro-batch (padded to its longest sample, at most seq_len) sets the peak", "github:modelscope/ms-swift@3602360 "
     "examples/train/packing/llm.sh (--packing true --max_length 2048: every packed sequence is 2048 tokens)"),
)


# ---------------------------------------------------------------- measured rows: fitted and judged

MEASURED_FILE = "finetune_measurements.csv"
# What a framework does when a script leaves a setting out (the judged rows' empty cells), with the source.
FRAMEWORK_DEFAULTS = {
    "ms-swift example script": {
        "lora_rank": 8, "lora_targets": ALL_LINEAR,  # ms-swift@3602360 swift/arguments/tuner_args.py
        "checkpointing": "standard",  # ms-swift@3602360 swift/trainers/arguments.py: gradient_checkpointing True
        "loss": "standard",  # use_liger_kernel defaults to False
        "attention": "sdpa",  # attn_impl None: transformers' default implementation, SDPA
        "optimizer": "adamw",  # transformers TrainingArguments optim default adamw_torch
    },
}
# LLaMA-Factory's rule of thumb (README hardware table's "xB" column): GB per billion parameters
LLAMA_FACTORY_RULE = {"full": 18, "full-bf16": 8, "freeze": 2, "lora": 2, "qlora-8bit": 1, "qlora-4bit": 0.5}


@checked
def load_measured() -> pd.DataFrame:
    """data/finetune_measurements.csv: measured fine-tuning memory with every stated setting (judged rows)."""
    return read_table(MEASURED_FILE)


MEASURED = "measured"  # the evidence of a row whose figure measures the run it describes (data/README.md's rule)


def _not_judged_reason(row) -> str:
    """Why a row of finetune_measurements.csv is not judged, '' when it is: its figure is not a measurement of the
    run (``evidence``, decided for every row by the rule in data/README.md) or the tokens of its peak step are
    unknown (``comparable``)."""
    if row["evidence"] != MEASURED:
        return f"{row['evidence']}: {row['evidence_note']}"
    if not row["comparable"]:
        return "tokens unknown: " + str(row["conditions"]).split("not comparable: ")[-1]
    return ""


def _fit_residuals(published: pd.DataFrame) -> pd.DataFrame:
    """Per fit row: GPUs and the GiB per GPU the published number holds beyond the planner's constant-free estimate."""
    rows = []
    fit = published[(published["table"] == FIT_TABLE) & (published["status"] == "reported")
                    & published["memory_gb"].notna()]
    for _, row in fit.iterrows():
        est = estimate_for_row(row)
        gpus = int(row["nodes"]) * int(row["gpus_per_node"])
        free = (est.total_bytes - est.overhead) / GIB  # the estimate without either fitted constant
        rows.append({"gpus": gpus, "residual_gib": (row["memory_gb"] - free * gpus) / gpus})
    return pd.DataFrame(rows)


@checked
def fit_constants(table: pd.DataFrame | None = None) -> dict[str, float]:
    """The two fitted constants, from the fit rows only (the Qwen-1 profile of data/finetune_memory.csv):
    overhead = median residual per GPU of the one-GPU rows; ZeRO buffer = median residual per GPU of the
    multi-GPU (DeepSpeed ZeRO-2 and ZeRO-3) rows minus that overhead, applied at stage 3 only (stages 1 and 2 take
    DeepSpeed's sourced reduce bucket, finetune.ZERO12_BUFFER_GIB). Rounded to 0.1 GiB. Judged rows never enter."""
    residuals = _fit_residuals(load_published() if table is None else table)
    one = residuals[residuals["gpus"] == 1]["residual_gib"].median()
    several = residuals[residuals["gpus"] > 1]["residual_gib"].median()
    return {"overhead_gib": round(float(one), 1), "zero_buffer_gib": round(float(several - one), 1)}


def _published_gib(value: float, unit: str) -> float:
    return value if unit == "GiB" else value * GB / GIB


def _rule_of_thumb_gib(method: str, params: int, n_gpus: int, zero_stage: int) -> float:
    """LLaMA-Factory's x GB per billion parameters, per GPU (ZeRO-3 divides it over the GPUs)."""
    total = LLAMA_FACTORY_RULE[method] * params / 1e9 * GB / GIB
    return total / n_gpus if zero_stage == 3 else total


@checked
def compare_measured(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every comparable measured row beside the planner (the row's stated settings, the framework's defaults for
    the rest), the planner with those settings ignored, and LLaMA-Factory's rule of thumb, in GiB per GPU.

    role: 'fit' for the Qwen-1 profile rows the constants come from, 'judge' for the rest (never fitted).
    not_judged: '' for a row that counts, else the reason it is shown but not judged (``_not_judged_reason``); rows
    whose tokens are unknown have no estimate."""
    rows = []
    published = compare_with_published()
    # the Qwen-1 profile fits the constants; Qwen3's ms-swift guide (two statements in finetune_memory.csv) judges
    for _, row in published[published["group"].str.startswith(("Qwen-1", "Qwen3"))].iterrows():
        gpus = int(row["gpus"])
        fitted = row["group"].startswith("Qwen-1")
        rows.append({"role": "fit" if fitted else "judge",
                     "source": FIT_TABLE if fitted else "Qwen3 docs (ms-swift guide)", "model": row["model"],
                     "method": row["method"],
                     "seq_len": int(row["seq_len"]), "gpus": gpus, "published_gib": row["published"] / gpus,
                     "estimate_gib": row["estimate"] / gpus, "settings_ignored_gib": pd.NA,
                     "rule_of_thumb_gib": pd.NA, "not_judged": ""})
    measured = load_measured() if table is None else table
    for _, row in measured.iterrows():
        reason = _not_judged_reason(row)
        gpus = int(row["nodes"]) * int(row["gpus_per_node"])
        published_gib = _published_gib(row["memory_per_gpu"], row["memory_unit"])
        if not row["comparable"]:
            rows.append({"role": row["role"], "source": row["source"].split(" (")[0], "model": row["model_id"],
                         "method": row["method"], "seq_len": int(row["seq_len"]), "gpus": gpus,
                         "published_gib": published_gib, "estimate_gib": pd.NA, "settings_ignored_gib": pd.NA,
                         "rule_of_thumb_gib": pd.NA, "not_judged": reason})
            continue
        defaults = FRAMEWORK_DEFAULTS[row["table"]]
        stated = {column: row[column] if pd.notna(row[column]) else default for column, default in defaults.items()}
        key = row["method_key"]
        adapter = key in ADAPTER_METHODS
        common = dict(rank=int(stated["lora_rank"]) if adapter else 16,
                      target_modules=stated["lora_targets"] if adapter else DEFAULT_TARGETS,
                      seq_len=int(row["seq_len"]), micro_batch=int(row["micro_batch"]), n_gpus=gpus,
                      zero_stage=int(row["zero_stage"]))
        est = training_memory(row["model_id"], key, **common, checkpointing=stated["checkpointing"],
                              loss=stated["loss"], attention=stated["attention"], optimizer=stated["optimizer"],
                              offload=row["offload"] if pd.notna(row["offload"]) else "none",
                              packing=bool(row["packing"]))
        plain = training_memory(row["model_id"], key, **common)
        rows.append({"role": row["role"], "source": row["source"].split(" (")[0], "model": row["model_id"],
                     "method": row["method"], "seq_len": int(row["seq_len"]), "gpus": gpus,
                     "published_gib": published_gib,
                     "estimate_gib": est.total_gib, "settings_ignored_gib": plain.total_gib,
                     "rule_of_thumb_gib": _rule_of_thumb_gib(key, est.total_params, gpus, int(row["zero_stage"])),
                     "not_judged": reason})
    frame = pd.DataFrame(rows)
    for column, out in (("estimate_gib", "error_pct"), ("settings_ignored_gib", "settings_ignored_error_pct"),
                        ("rule_of_thumb_gib", "rule_of_thumb_error_pct")):
        values = pd.to_numeric(frame[column], errors="coerce")
        frame[out] = 100 * (values - frame["published_gib"]) / frame["published_gib"]
    return frame


@checked
def measured_error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and worst absolute error (percent) of fitted and judged rows: the planner, the planner with the
    rows' settings ignored, and LLaMA-Factory's rule of thumb (judged rows only for the last two). Rows shown but
    not judged (``not_judged``) do not count."""
    comparison = compare_measured() if comparison is None else comparison
    comparison = comparison[comparison["not_judged"] == ""]
    out = {}
    for role, rows in comparison.groupby("role", sort=False):
        entry = {"rows": len(rows)}
        for column, label in (("error_pct", "planner"), ("settings_ignored_error_pct", "settings ignored"),
                              ("rule_of_thumb_error_pct", "LLaMA-Factory rule")):
            errors = rows[column].abs().dropna()
            entry[f"{label}: median %"] = float(errors.median()) if len(errors) else float("nan")
            entry[f"{label}: worst %"] = float(errors.max()) if len(errors) else float("nan")
        out[role] = entry
    return pd.DataFrame(out).T


@checked
def judged_error_table(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every row that could judge the planner, one line each: published and estimated GiB per GPU, the error, and
    for a row kept but not judged, why (its figure measured another run, the card's size, or unknown tokens)."""
    comparison = compare_measured() if comparison is None else comparison
    rows = comparison[comparison["role"] == "judge"]
    return pd.DataFrame({
        "model": rows["model"].str.split("/").str[-1], "method": rows["method"], "GPUs": rows["gpus"],
        "published GiB/GPU": rows["published_gib"], "planner GiB/GPU": pd.to_numeric(rows["estimate_gib"]),
        "error %": rows["error_pct"], "not judged because": rows["not_judged"].str.slice(0, 160),
    }).reset_index(drop=True)


# ---------------------------------------------------------------- published rows beside the planner


@checked
def load_published() -> pd.DataFrame:
    """data/finetune_memory.csv: published fine-tuning memory (LLaMA-Factory estimates, Qwen measurements)."""
    return read_table(PUBLISHED_FILE)


PUBLISHED_ROW_COLUMNS = ("model_id", "method_key", "lora_targets", "lora_rank", "nodes", "gpus_per_node", "seq_len",
                         "micro_batch", "zero_stage", "conditions")


def published_row(name: str, value):
    """The validation rule of a row of load_published(): a mapping (or a table row) with the run's settings."""
    if not isinstance(value, Mapping | pd.Series) or any(column not in value for column in PUBLISHED_ROW_COLUMNS):
        raise ValueError((f"{name} must be a row of finetune_evidence.load_published() with the columns "
                          f"{', '.join(PUBLISHED_ROW_COLUMNS)}; got {type(value).__name__}")[:300])
    return value


@checked(row=published_row)
def estimate_for_row(row) -> TrainingMemory:
    """Our estimate for one published Qwen row, with the run's own settings."""
    key = row["method_key"]
    targets = tuple(str(row["lora_targets"]).split()) if pd.notna(row["lora_targets"]) else None
    if targets == ("all-linear",):
        targets = ALL_LINEAR
    gpus = int(row["nodes"]) * int(row["gpus_per_node"])
    return training_memory(
        row["model_id"], "lora" if key == "lora+emb" else key,
        rank=int(row["lora_rank"]) if pd.notna(row["lora_rank"]) else 16, target_modules=targets,
        seq_len=int(row["seq_len"]), micro_batch=int(row["micro_batch"]), checkpointing=True,
        train_embeddings=key == "lora+emb", n_gpus=gpus,
        zero_stage=int(row["zero_stage"]) if gpus > 1 else 0,
        fused_loss="liger" in str(row["conditions"]))


@checked
def compare_with_published() -> pd.DataFrame:
    """Every comparable published row beside our estimate, with the signed error in percent.

    Qwen rows are compared in GiB (Qwen's "G" read as torch's GiB), summed over GPUs as published.
    LLaMA-Factory's size columns are compared per billion parameters in GB, against the nearest dense
    Qwen2.5 checkpoint at LoRA rank 8 on all linear layers, 1024 tokens, micro-batch 1, checkpointing.
    """
    rows = []
    for _, row in load_published().iterrows():
        if row["status"] != "reported" or pd.isna(row["memory_gb"]):
            continue
        if row["table"].startswith("LLaMA-Factory"):
            if row["superseded"] or row["method_key"] == "qlora-2bit" or row["model_size"] not in LLAMA_FACTORY_MATCH:
                continue
            match = LLAMA_FACTORY_MATCH[row["model_size"]]
            est = training_memory(match, row["method_key"], **LLAMA_FACTORY_SETTINGS)
            nominal = float(row["model_size"].rstrip("B"))
            published, estimate = row["memory_gb"] / nominal, est.total_gb / (est.total_params / 1e9)
            unit, group = "GB per billion params", "LLaMA-Factory estimate (per billion params)"
            label = f"{row['model_size']} ~ {match.split('/')[1]}"
        elif row["table"].startswith("Qwen-1") or row["model_id"] == "Qwen/Qwen3-8B":
            # the Qwen3-30B-A3B rows use Megatron parallelism or report a full card, which we do not model
            est = estimate_for_row(row)
            published, estimate, unit, label = row["memory_gb"], est.all_gpus_gib, "GiB (all GPUs)", row["model_id"]
            gpus = int(row["nodes"]) * int(row["gpus_per_node"])
            if row["table"].startswith("Qwen3"):
                group = "Qwen3 docs example (ms-swift)"
            else:
                group = "Qwen-1 measured, 1 GPU" if gpus == 1 else "Qwen-1 measured, several GPUs (DeepSpeed)"
        else:
            continue
        rows.append({"group": group, "model": label, "method": row["method"], "method_key": row["method_key"],
                     "seq_len": row["seq_len"], "gpus": (row["nodes"] or 1) * (row["gpus_per_node"] or 1)
                     if pd.notna(row["nodes"]) else pd.NA, "unit": unit, "published": published,
                     "estimate": estimate, "error_pct": 100 * (estimate - published) / published})
    return pd.DataFrame(rows)


@checked
def training_error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and worst absolute error (percent) and share of rows within 20%, per comparison group."""
    comparison = compare_with_published() if comparison is None else comparison
    grouped = comparison.assign(abs_error=comparison["error_pct"].abs()).groupby("group", sort=False)
    return pd.DataFrame({
        "rows": grouped.size(),
        "median_abs_error_pct": grouped["abs_error"].median(),
        "worst_abs_error_pct": grouped["abs_error"].max(),
        "within_20pct": grouped["abs_error"].apply(lambda s: float((s <= 20).mean())),
    })


@checked
def implied_utilisation(gpu_id: str = "a100-80gb") -> pd.DataFrame:
    """Share of the GPU's bf16 peak implied by Qwen-1's published seconds per iteration (1 GPU, 8 accumulation steps)."""
    from qwen_lessons.hardware import get_gpu

    peak = get_gpu(gpu_id)["bf16_tflops"] * 1e12
    published = load_published()
    rows = []
    for _, row in published[published["table"].str.startswith("Qwen-1")].iterrows():
        gpus = int(row["nodes"]) * int(row["gpus_per_node"])
        if gpus != 1 or pd.isna(row["speed_s_per_it"]):
            continue
        key = "lora" if row["method_key"] == "lora+emb" else row["method_key"]
        tokens = 8 * int(row["seq_len"])  # batch 1 x gradient accumulation 8 per iteration
        targets = tuple(row["lora_targets"].split()) if pd.notna(row["lora_targets"]) else None
        flops = training_flops(row["model_id"], key, tokens, seq_len=int(row["seq_len"]),
                               rank=int(row["lora_rank"]) if pd.notna(row["lora_rank"]) else 16,
                               target_modules=targets)
        rows.append({"model": row["model_id"], "method": row["method"], "seq_len": int(row["seq_len"]),
                     "s_per_it": row["speed_s_per_it"], "utilisation": flops / row["speed_s_per_it"] / peak,
                     "flops": flops})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- time: the stated utilisation against published steps

# The GPU names the rows print, as data/hardware.csv rows (both A100 cards have the same 312 TFLOPS dense bf16 peak)
GPU_IDS = {"A100-SXM4-80G": "a100-80gb", "A100": "a100-80gb", "H20": "h20"}
UTILISATION_FIT_FROM = 1024  # tokens: the shorter Qwen-1 steps are dominated by fixed per-step costs


@checked
def fit_utilisation() -> float:
    """transformers' stated share of the bf16 peak: the median implied by the Qwen-1 profile's one-GPU seconds per
    step at >= 1,024 tokens, to one decimal (the fit rows of the memory constants; the ms-swift rows never enter)."""
    util = implied_utilisation()
    return round(float(util[util["seq_len"] >= UTILISATION_FIT_FROM]["utilisation"].median()), 1)


@checked
def compare_time() -> pd.DataFrame:
    """Every published step time beside training_hours with the framework's stated utilisation, in seconds per step.

    role 'fit': Qwen-1's one-GPU rows (transformers; batch 1 x 8 accumulation steps); 'judge': ms-swift's rows
    (packing: every sequence is seq_len tokens; tokens per step = GPUs x micro-batch x accumulation x seq_len).
    Attention FLOPs are counted over the whole window, an upper bound for packed samples attending within themselves."""
    from qwen_lessons.finetune import training_hours

    rows = []
    qwen1 = implied_utilisation()
    for _, row in qwen1[qwen1["seq_len"] >= UTILISATION_FIT_FROM].iterrows():
        rows.append({"role": "fit", "framework": "transformers", "model": row["model"], "method": row["method"],
                     "seq_len": row["seq_len"], "gpus": 1, "gpu_id": "a100-80gb", "tokens_per_step": 8 * row["seq_len"],
                     "published_s": row["s_per_it"], "flops": row["flops"]})
    measured = load_measured()
    # a step time judges only where the GPU is stated (its peak) and the figure measures the run
    timed = measured["speed_s_per_it"].notna() & measured["gpu"].notna() & (measured["evidence"] == MEASURED)
    for _, row in measured[timed].iterrows():
        gpus = int(row["nodes"]) * int(row["gpus_per_node"])
        tokens = gpus * int(row["micro_batch"]) * int(row["gradient_accumulation"]) * int(row["seq_len"])
        # ms-swift's default gradient checkpointing recomputes (FRAMEWORK_DEFAULTS)
        flops = training_flops(row["model_id"], row["method_key"], tokens, seq_len=int(row["seq_len"]),
                               checkpointing=FRAMEWORK_DEFAULTS[row["table"]]["checkpointing"])
        rows.append({"role": "judge", "framework": "ms-swift", "model": row["model_id"], "method": row["method"],
                     "seq_len": int(row["seq_len"]), "gpus": gpus, "gpu_id": GPU_IDS[row["gpu"]],
                     "tokens_per_step": tokens, "published_s": row["speed_s_per_it"], "flops": flops})
    frame = pd.DataFrame(rows)
    frame["predicted_s"] = [3600 * training_hours(r.flops, r.gpu_id, n_gpus=r.gpus, framework=r.framework)
                            for r in frame.itertuples()]
    frame["error_pct"] = 100 * (frame["predicted_s"] - frame["published_s"]) / frame["published_s"]
    # the share of the peak the published time implies: the stated share scaled by predicted / published time
    frame["implied_utilisation"] = [UTILISATION_BY_FRAMEWORK[r.framework] * r.predicted_s / r.published_s
                                    for r in frame.itertuples()]
    return frame.drop(columns="flops")
