"""Lesson 8 (08_local_inference): a real llama.cpp, offline, checking the course's predictions.

Optional: needs the `[runtime]` extra (`gguf` to write files, `llama-cpp-python`, built here from source, to run
them). write_random_gguf() writes a GGUF of a Qwen checkpoint's *shape* (the tensor names, shapes and metadata
llama.cpp's qwen2, qwen3, qwen3moe and qwen35 loaders read, a small byte-level BPE tokenizer) with random weights: nothing is
downloaded. quantize() runs llama.cpp's own quantizer (llama_model_quantize); run() loads the file, reads the
buffer sizes llama.cpp logs, and times prompt processing and decoding on this CPU.
The course's predictions it is held against: qwen_lessons.local_formats (tensor types and bytes),
qwen_lessons.memory (KV cache bytes per token), qwen_lessons.local_runtime (recurrent state, compute buffer) and
qwen_lessons.speed (the decode bound): the runs recorded in data/llama_cpp_speed.csv fit llama.cpp's read
efficiency (fit_local_constants) and judge it (local_speed_errors).
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from qwen_lessons import local_formats, memory, models, speed
from qwen_lessons.data import read_table
from qwen_lessons.validation import checked, integer

# The course's architecture -> the llama.cpp loader that reads it (general.architecture of the file)
LLAMA_ARCH = {"qwen2": "qwen2", "qwen3": "qwen3", "qwen3_moe": "qwen3moe", "qwen3_5": "qwen35"}
WRITABLE = tuple(LLAMA_ARCH)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
# Tiny Qwen-shaped models for tests, one per generation the course teaches: every matrix row a multiple of 256 so
# every K-quant keeps its own type (no fallback). Qwen2: tied embeddings, q/k/v biases, 2 query heads per KV head;
# Qwen2.5: untied, 4 query heads per KV head (the larger Qwen2.5 checkpoints' layout); Qwen3: q/k norms, no biases;
# Qwen3-MoE: 4 experts, 2 per token, intermediate_size = experts per token x expert width as in Qwen3's configs (not 8
# experts: llama.cpp gives an 8-expert model Q8_0 attn_k and attn_v, a Mixtral rule no Qwen MoE meets); Qwen3.5: a
# Gated DeltaNet layer, then a gated full-attention layer (every 2nd here, every 4th in Qwen3.5: the loader reads the
# interval from the file). Two layers each, few and small tensors: the CI's time is tight.
TINY_QWEN2 = {"model_id": "tiny-qwen2", "architecture": "qwen2", "num_hidden_layers": 2, "hidden_size": 256,
              "intermediate_size": 512, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
              "vocab_size": 512, "max_position_embeddings": 4096, "tie_word_embeddings": True,
              "attention_bias": True, "qk_norm": False, "full_attention_interval": 1}
TINY_QWEN25 = {**TINY_QWEN2, "model_id": "tiny-qwen2.5", "num_attention_heads": 8, "head_dim": 32,
               "tie_word_embeddings": False}
TINY_QWEN3 = {**TINY_QWEN2, "model_id": "tiny-qwen3", "architecture": "qwen3", "attention_bias": False,
              "qk_norm": True, "tie_word_embeddings": False}
TINY_QWEN3_MOE = {**TINY_QWEN3, "model_id": "tiny-qwen3-moe", "architecture": "qwen3_moe", "intermediate_size": 512,
                  "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 256}
TINY_QWEN35 = {**TINY_QWEN3, "model_id": "tiny-qwen3.5", "architecture": "qwen3_5", "num_hidden_layers": 2,
               "tie_word_embeddings": True, "full_attention_interval": 2, "attention_output_gate": True,
               "linear_num_key_heads": 2, "linear_num_value_heads": 4, "linear_key_head_dim": 64,
               "linear_value_head_dim": 64, "linear_conv_kernel_dim": 4}
# Qwen3.5 rotates a quarter of each head (partial_rotary_factor 0.25) in three position sections (M-RoPE)
PARTIAL_ROTARY = {"qwen3_5": 0.25}


SHAPES = {shape["model_id"]: shape for shape in (TINY_QWEN2, TINY_QWEN25, TINY_QWEN3, TINY_QWEN3_MOE, TINY_QWEN35)}
LOCAL_SPEED_FILE = "llama_cpp_speed.csv"  # runs of this writer's files (benchmarks/llama_cpp_speed.py --record)


def shape_rule(name: str, value):
    """The validation rule of a `model` here: a name of SHAPES, an architecture-columns dict or a Qwen2, Qwen3,
    Qwen3-MoE or Qwen3.5 model id of the table."""
    try:
        _shape(value)
    except (ValueError, TypeError, KeyError):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ValueError((f"{name} must be one of {list(SHAPES)}, a {', '.join(WRITABLE)} model id or an "
                         f"architecture-columns dict; got {shown}")[:300]) from None
    return value


@checked(model=shape_rule)
def shape(model) -> models.Checkpoint:
    """A writable shape: one of SHAPES by name, an architecture-columns dict, or a model id of the table."""
    return _shape(model)


def _shape(model) -> models.Checkpoint:
    if isinstance(model, str) and model in SHAPES:
        model = SHAPES[model]
    return _checkpoint(model)


def available(*modules) -> str | None:
    """None when the [runtime] extra is installed (or the modules named); otherwise why it cannot run here."""
    if not all(isinstance(name, str) and name.isidentifier() for name in modules):
        raise ValueError(f"modules must be module names; got {modules!r}"[:120])
    missing = [name for name in (modules or ("gguf", "llama_cpp")) if importlib.util.find_spec(name) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed: pip install 'qwen-lessons[runtime]' "
                "(builds llama.cpp from source, CPU only)")
    return None


def _require(*modules: str) -> None:
    reason = available(*modules)
    if reason:
        raise RuntimeError(reason)


def _byte_tokens() -> list[str]:
    """GPT-2's byte-to-unicode spelling of the 256 bytes (printable bytes as themselves, others shifted)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    spelled, shift = {}, 0
    for byte in range(256):
        if byte in printable:
            spelled[byte] = chr(byte)
        else:
            spelled[byte] = chr(256 + shift)
            shift += 1
    return [spelled[byte] for byte in range(256)]


def _vocabulary(size: int) -> tuple[list[str], list[int], list[str]]:
    """Tokens, token types (1 normal, 3 control) and merges of a byte-level BPE vocabulary of exactly `size`."""
    tokens = _byte_tokens()
    merges = ["Ġ t", "h e", "Ġt he"]  # a few merges so the BPE tokenizer has ranks; their results are tokens
    tokens += ["Ġt", "he", "Ġthe"]
    tokens += [f"[PAD{i}]" for i in range(len(tokens), size - len(SPECIAL_TOKENS))]
    tokens += list(SPECIAL_TOKENS)
    if len(tokens) != size:
        raise ValueError(f"vocab_size must be at least {256 + 3 + len(SPECIAL_TOKENS)}; got {size}")
    types = [1] * (size - len(SPECIAL_TOKENS)) + [3] * len(SPECIAL_TOKENS)
    return tokens, types, merges


def _tensors(ckpt: models.Checkpoint, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """The tensors of llama.cpp's qwen2 / qwen3 / qwen3moe / qwen35 layouts, random: matrices in f16, 1-D tensors,
    the router and the convolution kernel in f32 (as llama.cpp's converter writes them; its quantizer keeps those)."""
    c = ckpt.config
    h, heads, kv, hd = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]

    def matrix(*shape: int) -> np.ndarray:  # numpy order: the row width (ggml's ne0) last
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)

    def vector(*shape: int, value: float | None = None) -> np.ndarray:
        if value is not None:
            return np.full(shape, value, np.float32)
        return rng.standard_normal(shape, dtype=np.float32) * 0.02

    out = [("token_embd.weight", matrix(c["vocab_size"], h))]
    for i, (mixer, mlp) in enumerate(ckpt.layers):
        b = f"blk.{i}."
        out.append((b + "attn_norm.weight", vector(h, value=1.0)))
        if mixer == "full_attention":
            gate = 2 if c["attention_output_gate"] else 1  # Qwen3.5's output gate doubles attn_q
            out += [(b + "attn_q.weight", matrix(heads * hd * gate, h)), (b + "attn_k.weight", matrix(kv * hd, h)),
                    (b + "attn_v.weight", matrix(kv * hd, h))]
            if c["attention_bias"]:
                out += [(b + "attn_q.bias", vector(heads * hd)), (b + "attn_k.bias", vector(kv * hd)),
                        (b + "attn_v.bias", vector(kv * hd))]
            if c["qk_norm"]:
                out += [(b + "attn_q_norm.weight", vector(hd, value=1.0)),
                        (b + "attn_k_norm.weight", vector(hd, value=1.0))]
            out.append((b + "attn_output.weight", matrix(h, heads * hd)))
        else:  # Gated DeltaNet (llama_model_qwen35::load_arch_tensors)
            n_k, n_v = c["linear_num_key_heads"], c["linear_num_value_heads"]
            key_dim, value_dim = n_k * c["linear_key_head_dim"], n_v * c["linear_value_head_dim"]
            conv_dim = 2 * key_dim + value_dim
            out += [(b + "attn_qkv.weight", matrix(conv_dim, h)), (b + "attn_gate.weight", matrix(value_dim, h)),
                    (b + "ssm_conv1d.weight", vector(conv_dim, c["linear_conv_kernel_dim"])),
                    (b + "ssm_dt.bias", vector(n_v)), (b + "ssm_a", vector(n_v, value=-1.0)),
                    (b + "ssm_beta.weight", matrix(n_v, h)), (b + "ssm_alpha.weight", matrix(n_v, h)),
                    (b + "ssm_norm.weight", vector(c["linear_value_head_dim"], value=1.0)),
                    (b + "ssm_out.weight", matrix(h, value_dim))]
        # Qwen3.5 names its second norm post_attention_norm, the others ffn_norm
        out.append((b + ("post_attention_norm" if c["architecture"] == "qwen3_5" else "ffn_norm") + ".weight",
                    vector(h, value=1.0)))
        if mlp == "moe":
            experts, f = c["num_experts"], c["moe_intermediate_size"]
            out += [(b + "ffn_gate_inp.weight", vector(experts, h)),
                    (b + "ffn_gate_exps.weight", matrix(experts, f, h)),
                    (b + "ffn_up_exps.weight", matrix(experts, f, h)),
                    (b + "ffn_down_exps.weight", matrix(experts, h, f))]
        else:
            ff = c["intermediate_size"]
            out += [(b + "ffn_gate.weight", matrix(ff, h)), (b + "ffn_up.weight", matrix(ff, h)),
                    (b + "ffn_down.weight", matrix(h, ff))]
    out.append(("output_norm.weight", vector(h, value=1.0)))
    if not c["tie_word_embeddings"]:
        out.append(("output.weight", matrix(c["vocab_size"], h)))
    return out


def _checkpoint(model) -> models.Checkpoint:
    ckpt = models.describe(model) if isinstance(model, dict) else models.resolve(model)
    if ckpt["architecture"] not in WRITABLE:
        raise ValueError(f"model must be a {', '.join(WRITABLE)} shape; got {ckpt.model_id} "
                         f"({ckpt['architecture']})")
    return ckpt


def _add_architecture_keys(writer, c) -> None:
    """The keys llama.cpp's loader of this architecture reads beyond the common ones (experts, Gated DeltaNet)."""
    if c["num_experts"]:
        writer.add_expert_count(c["num_experts"])
        writer.add_expert_used_count(c["num_experts_per_tok"])
        writer.add_expert_feed_forward_length(c["moe_intermediate_size"])
    if c["architecture"] in PARTIAL_ROTARY:
        rotary = int(c["head_dim"] * PARTIAL_ROTARY[c["architecture"]])
        writer.add_rope_dimension_count(rotary)
        pairs, side = rotary // 2, rotary // 2 * 11 // 32  # M-RoPE sections of the rotated pairs: Qwen's 11/11/10
        writer.add_rope_dimension_sections([side, side, pairs - 2 * side, 0])
    if c["linear_num_value_heads"]:
        writer.add_ssm_conv_kernel(c["linear_conv_kernel_dim"])
        writer.add_ssm_inner_size(c["linear_num_value_heads"] * c["linear_value_head_dim"])
        writer.add_ssm_state_size(c["linear_key_head_dim"])
        writer.add_ssm_time_step_rank(c["linear_num_value_heads"])
        writer.add_ssm_group_count(c["linear_num_key_heads"])
        writer.add_full_attention_interval(c["full_attention_interval"])


def write_random_gguf(model, path, seed: int = 0) -> Path:
    """Write an F16 GGUF of a Qwen shape (a model id or an architecture-columns dict) with random weights."""
    _require("gguf")
    import gguf

    ckpt = shape(model)
    c = ckpt.config
    path = Path(path)
    writer = gguf.GGUFWriter(str(path), LLAMA_ARCH[c["architecture"]])
    writer.add_name(f"random-weights {ckpt.model_id}")
    writer.add_context_length(int(c["max_position_embeddings"] or 32768))
    writer.add_embedding_length(c["hidden_size"])
    writer.add_block_count(c["num_hidden_layers"])
    writer.add_feed_forward_length(c["intermediate_size"])
    writer.add_head_count(c["num_attention_heads"])
    writer.add_head_count_kv(c["num_key_value_heads"])
    writer.add_key_length(c["head_dim"])
    writer.add_value_length(c["head_dim"])
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_file_type(1)  # MOSTLY_F16
    _add_architecture_keys(writer, c)
    tokens, types, merges = _vocabulary(c["vocab_size"])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)
    for name, array in _tensors(ckpt, np.random.default_rng(seed)):
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def quantize(source, target, quantization: str, threads: int = 2) -> Path:
    """Quantize an F16 GGUF with llama.cpp's own quantizer (llama_model_quantize) to one local format."""
    _require()
    import llama_cpp

    quant = memory.normalize_quantization(quantization)
    gguf_formats = local_formats.local_quantizations("llama.cpp")
    if quant not in gguf_formats:
        raise ValueError(f"quantization must be one of {gguf_formats}; got {quantization!r}")
    _collect_log()
    params = llama_cpp.llama_model_quantize_default_params()
    # the file type's number from llama.cpp's own llama_ftype enum (LLAMA_FTYPE_MOSTLY_Q4_K_M, ...)
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{local_formats.local_format(quant)['file_type']}")
    params.nthread = threads
    status = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    if status != 0:
        raise RuntimeError(f"llama_model_quantize failed ({status}) for {quant}")
    return Path(target)


def file_tensors(path) -> pd.DataFrame:
    """Every tensor of a GGUF file as llama.cpp wrote it: name, ggml type and bytes."""
    _require("gguf")
    import gguf

    reader = gguf.GGUFReader(str(path))
    return pd.DataFrame([(t.name, t.tensor_type.name, int(t.n_bytes)) for t in reader.tensors],
                        columns=["tensor", "ggml_type", "bytes"])


@checked(model=shape_rule)
def course_tensor_bytes(model, quantization: str) -> int:
    """The course's bytes of every tensor of the file (local_formats, tensor by tensor), metadata excluded."""
    ckpt = shape(model)
    return int(local_formats.gguf_tensor_types(ckpt, quantization)["bytes"].sum())


_LOG: list[str] = []
_CALLBACK = []  # the ctypes callback must stay alive while llama.cpp holds it


def _collect_log() -> None:
    """Send llama.cpp's own log lines to _LOG instead of the terminal (read for the buffer sizes it reports)."""
    import llama_cpp

    if not _CALLBACK:
        @llama_cpp.llama_log_callback
        def collect(level, text, user_data):
            _LOG.append(text.decode("utf-8", "replace"))

        _CALLBACK.append(collect)
    llama_cpp.llama_log_set(_CALLBACK[0], ctypes.c_void_p(0))
    _LOG.clear()


def _mib(pattern: str, text: str) -> float | None:
    found = re.findall(pattern + r"\s*=\s*([\d.]+) MiB", text)
    return sum(float(value) for value in found) if found else None


def run(path, context_tokens: int = 512, prompt_tokens: int = 64, generate_tokens: int = 32,
        threads: int = 1) -> dict:
    """Load a GGUF in llama.cpp on the CPU, generate, and read what it reports: KV and compute buffers (MiB, from
    its log) and measured prompt and decode tokens/s (wall time). One thread by default: on a machine whose cores
    are busy with other work, llama.cpp's threads wait for each other at every layer and a 2-thread run measured
    here was 15 times slower than a 1-thread one; one thread also matches the one-thread numpy copy that measures
    the bandwidth."""
    _require()
    import llama_cpp

    _collect_log()
    model = llama_cpp.Llama(model_path=str(path), n_ctx=context_tokens, n_threads=threads, n_batch=512,
                            verbose=False, seed=0)
    log = "".join(_LOG)
    prompt = list(range(300, 300 + prompt_tokens))  # the [PAD] tokens: any ids do for random weights
    model.eval(prompt[:8])  # a warm-up: the first evaluation starts the threads and touches every page
    model.reset()
    started = time.perf_counter()
    model.eval(prompt)
    prompt_seconds = time.perf_counter() - started
    generated, started = 0, time.perf_counter()
    for _ in range(generate_tokens):
        token = int(np.argmax(model.scores[model.n_tokens - 1]))
        model.eval([300 + token % 200])  # stay inside the vocabulary, among the [PAD] tokens
        generated += 1
    decode_seconds = time.perf_counter() - started
    result = {"kv_buffer_mib": _mib(r"KV buffer size", log), "compute_buffer_mib": _mib(r"CPU compute buffer size", log),
              "state_buffer_mib": _mib(r"RS buffer size", log),  # the recurrent (Gated DeltaNet) state
              "flash_attention": "flash_attn            = enabled" in log or "flash_attn = 1" in log,
              "prompt_tokens_per_s": prompt_tokens / prompt_seconds, "decode_tokens_per_s": generated / decode_seconds,
              "n_ctx": model.n_ctx(), "log": log}
    model.close()
    return result


@checked(model=shape_rule, kv_cache_dtype=local_formats.KV_CACHE_TYPE)
def course_kv_mib(model, context_tokens: int, kv_cache_dtype: str = "f16") -> float:
    """The course's KV cache for a context: KV bytes per token x tokens, in MiB."""
    return memory.kv_bytes_per_token(shape(model), kv_cache_dtype) * context_tokens / 2**20


@checked(megabytes=integer(8, 4096, "MiB"), repeats=integer(1, 100, "copies"))
def measure_bandwidth_gbs(megabytes: int = 128, repeats: int = 5) -> float:
    """This machine's memory bandwidth, STREAM-style: the best of several numpy copies of an array much larger than
    the caches, counting the bytes read and written (2 x size). A busy machine measures less. 128 MiB by default:
    four times a 32 MiB L3, and the two arrays (256 MiB) leave a room's learner under the hub's 1 GiB limit with a
    lesson's kernel open beside (with 256 MiB a learner peaked at 1,045 MiB; this machine measures the same GB/s)."""
    source = np.ones(megabytes * 2**20 // 8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return 2 * source.nbytes / best / 1e9


# ---------------------------------------------------------------------------------------------------------------
# The recorded runs (data/llama_cpp_speed.csv): llama.cpp's speed constants fitted on its "fit" rows, judged on
# its "judge" rows
# ---------------------------------------------------------------------------------------------------------------


def _local_rows(role: str | None = None) -> list[dict]:
    table = read_table(LOCAL_SPEED_FILE)
    rows = []
    for row in table.to_dict("records"):
        if role is not None and row["role"] != role:
            continue
        ckpt = shape(row["model"])  # the writer's shapes name the scaled-down models
        quant = memory.normalize_quantization(row["quantization"])
        context = int(row["prompt_tokens"]) + int(row["generate_tokens"]) / 2
        read = speed.decode_bytes_per_token(ckpt, quant, context) / (float(row["bandwidth_gbs"]) * 1e9)
        rows.append({**row, "ckpt": ckpt, "quantization": quant, "layers": ckpt["num_hidden_layers"],
                     "read_seconds": read, "measured_seconds": 1 / float(row["decode_tokens_per_s"])})
    return rows


@checked
def fit_local_constants() -> pd.DataFrame:
    """Fit llama.cpp's read efficiency on the fit rows of data/llama_cpp_speed.csv (a decode step's measured time =
    read time / efficiency). Its fixed and per-layer costs are set to 0, not fitted: one CPU thread's runs of files
    larger than the caches spend nearly all their time reading, so those costs cannot be told apart from the reads
    (and the files small enough to show them sit in the caches, where the bandwidth bound does not hold). Prefill is
    not fitted either: a CPU has no dense bf16 throughput in the hardware table to scale."""
    rows = _local_rows("fit")
    design = np.array([r["read_seconds"] / r["measured_seconds"] for r in rows])
    target = np.array([(r["measured_seconds"] - r["read_seconds"]) / r["measured_seconds"] for r in rows])
    # one coefficient kept >= 0 (an efficiency of at most 1): least squares through the origin, clipped at 0
    extra_read = max(0.0, float(design @ target / (design @ design)))
    fitted_on = f"{LOCAL_SPEED_FILE}, fit rows ({len(rows)})"
    not_fitted = "set to 0, not fitted: the CPU runs cannot separate it from the reads"
    records = [("llama.cpp", "fixed_ms_per_token", "", 0.0, "ms per decode step", not_fitted),
               ("llama.cpp", "layer_us", speed.ALL_FORMATS, 0.0, "microseconds per layer per decode step", not_fitted),
               ("llama.cpp", "read_efficiency", "", 1 / (1 + extra_read), "fraction of memory bandwidth", fitted_on)]
    return pd.DataFrame(records, columns=["runtime", "constant", "quantization", "value", "unit", "fitted_on"])


@checked
def local_speed_errors() -> pd.DataFrame:
    """Every measured llama.cpp run next to the expected decode speed and the bound, fit and judge rows."""
    records = []
    for row in _local_rows():
        bound = 1 / row["read_seconds"]
        expected = speed.expected_from_bound(bound, "llama.cpp", row["layers"], row["quantization"])
        measured = float(row["decode_tokens_per_s"])
        records.append({"role": row["role"], "model": row["model"], "quantization": row["quantization"],
                        "threads": int(row["threads"]), "bandwidth_gbs": float(row["bandwidth_gbs"]),
                        "measured_tokens_per_s": measured, "expected_tokens_per_s": expected,
                        "bound_tokens_per_s": bound, "expected_error": expected / measured - 1,
                        "bound_error": bound / measured - 1})
    return pd.DataFrame(records)
